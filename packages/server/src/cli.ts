// Operator commands run from a shell on the server: `node dist/cli.js <command> ...`
// (npm run backup -- DIR, npm run restore -- DIR [--force], npm run admin -- ...). Settings come
// from the same environment variables as the server (DATA_DIR, DATABASE_URL, ...).
import { ConfigError, loadConfig } from './config/config.js';
import { AdminError, runAdmin } from './ops/admin.js';
import { BackupError, backup, restore } from './ops/backup.js';
import { MigrateError, runMigrate } from './ops/migrate/migrate.js';

const USAGE = `usage:
  npm run backup -- DIR            copy DATA_DIR (embedded mode) into the new directory DIR, while serving
  npm run restore -- DIR [--force] put the backup in DIR into DATA_DIR (stop the server first)
  npm run admin -- ...             users, stats, doctor (npm run admin for the list)
  npm run migrate -- --from DIR    copy the embedded deployment in DIR into the cluster (DATABASE_URL, NATS_URL, S3_*)`;

/** What is piped to stdin, or '' from a terminal (a password is never an argument: shells keep history). */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'admin') {
    const io = { out: (l: string) => console.log(l), err: (l: string) => console.error(l) };
    return runAdmin(loadConfig(), rest, io, readStdin);
  }
  if (command === 'migrate') {
    const io = { out: (l: string) => console.log(l), err: (l: string) => console.error(l) };
    return runMigrate(loadConfig(), rest, io);
  }
  const force = rest.includes('--force');
  const args = rest.filter((a) => a !== '--force');
  if ((command !== 'backup' && command !== 'restore') || args.length !== 1) {
    console.error(USAGE);
    return 64;
  }
  const config = loadConfig();
  if (config.databaseUrl) {
    console.error(
      `${command} copies an embedded data directory; with DATABASE_URL set, back up PostgreSQL (pg_dump) and the JetStream streams instead`,
    );
    return 64;
  }
  const dir = args[0]!;
  if (command === 'backup') {
    const manifest = await backup(config.dataDir, dir);
    console.log(
      `backed up ${config.dataDir} into ${dir}: ${manifest.files.length} files, schema ${manifest.schemaVersion}`,
    );
  } else {
    const manifest = restore(dir, config.dataDir, { force });
    console.log(`restored ${dir} (taken ${manifest.createdAt}) into ${config.dataDir}: ${manifest.files.length} files`);
  }
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      error instanceof BackupError ||
        error instanceof AdminError ||
        error instanceof MigrateError ||
        error instanceof ConfigError
        ? error.message
        : error,
    );
    process.exit(1);
  },
);

// `npm run migrate -- --from DATA_DIR`: moves an embedded deployment (one SQLite file) into cluster
// mode (PostgreSQL + the JetStream log + object storage), with the cluster's settings from the
// environment (DATABASE_URL, NATS_URL, S3_*). Run it with the embedded server stopped and before
// the cluster takes traffic. Every write skips what is already there and the log's positions are
// only ever raised, so a run that was interrupted is simply run again; each run ends by comparing
// counts and checksums of every table, and exits 1 when anything differs.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config/config.js';
import { DiskBlobStore } from '../../adapters/disk/blob-store.js';
import { openDatabase } from '../../adapters/sqlite/db.js';
import { createLogger } from '../../observability/logger.js';
import { checksumTarget, copyTable, resolveTable, type TableResult } from './copy.js';
import { copyFiles, type FilesResult } from './files.js';
import { neededPositions, raiseStreams, type StreamResult } from './streams.js';
import { TABLES } from './tables.js';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export class MigrateError extends Error {
  override name = 'MigrateError';
}

const USAGE = `usage: npm run migrate -- --from DATA_DIR
  copies the embedded deployment in DATA_DIR (messenger.db, vapid.json, uploads/) into the cluster that
  DATABASE_URL, NATS_URL and S3_* name; stop the embedded server first, start the cluster after`;

const BATCH = 2_000;

export async function runMigrate(config: Readonly<Config>, args: string[], io: Output): Promise<number> {
  const at = args.indexOf('--from');
  const from = at >= 0 ? args[at + 1] : undefined;
  if (!from || args.length !== 2) {
    io.err(USAGE);
    return 64;
  }
  if (!config.databaseUrl || !config.natsUrl)
    throw new MigrateError('DATABASE_URL and NATS_URL name the cluster to migrate into; both must be set');
  const dataDir = path.resolve(from);
  const file = path.join(dataDir, 'messenger.db');
  if (!fs.existsSync(file)) throw new MigrateError(`${file} does not exist: --from names an embedded DATA_DIR`);

  const { openPool } = await import('../../adapters/postgres/pool.js');
  const { migrate } = await import('../../adapters/postgres/migrate.js');
  // Opening applies the embedded schema's pending migrations, as starting that server would.
  const db = openDatabase(file);
  const { pool, schema } = openPool({
    connectionString: config.databaseUrl,
    maxConnections: 2,
    ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
  });
  try {
    await migrate(pool, schema);
    // One read transaction: every stage sees the same snapshot of the file.
    db.exec('BEGIN');
    io.out(`from     ${file}`);
    io.out(
      `into     PostgreSQL${schema ? ` schema ${schema}` : ''}, log streams ${config.logStreamPrefix.toUpperCase()}_*`,
    );

    // The log first: once it is raised, a cluster started early cannot hand out a migrated seq again.
    const positions = db
      .prepare(
        'SELECT c.id, max(c.last_seq, coalesce((SELECT max(seq) FROM messages m WHERE m.conversation_id = c.id), 0)) AS lastSeq FROM conversations c',
      )
      .all() as { id: string; lastSeq: number }[];
    const needed = neededPositions(positions, config.logPartitions);
    const streams = await raiseStreams(config, createLogger('warn'), needed);
    for (const s of streams)
      io.out(`log      ${s.stream}: next seq ${s.last + 1}${s.raised ? ' (raised)' : ''}, migrated up to ${s.needed}`);

    const results: TableResult[] = [];
    for (const spec of TABLES) {
      const table = await resolveTable(db, pool, spec);
      if (table.skipped) {
        io.out(`skip     ${spec.table}: ${table.skipped}`);
        continue;
      }
      const copied = await copyTable(db, pool, table, BATCH);
      const target = await checksumTarget(pool, table, BATCH);
      results.push({ table: spec.table, ...copied, target: target.count, targetSum: target.sum });
      io.out(`copy     ${spec.table.padEnd(20)} ${copied.source} rows, ${copied.written} new`);
    }
    const settings = await copySettings(dataDir, pool);
    const files = await copyFiles(db, dataDir, async () => {
      if (config.s3) {
        const { S3BlobStore } = await import('../../adapters/s3/blob-store.js');
        return { store: await S3BlobStore.open(config.s3), note: null };
      }
      // Without S3 the cluster keeps files on each process's disk under its DATA_DIR, as here.
      const note = 'S3_BUCKET is not set: only processes with this DATA_DIR can serve them';
      if (path.resolve(config.dataDir) === dataDir) return { store: null, note };
      return { store: new DiskBlobStore({ dir: path.join(config.dataDir, 'uploads') }), note };
    });
    db.exec('COMMIT');
    return summary(io, results, streams, settings, files);
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.close();
    await pool.end();
  }
}

/**
 * Settings every cluster process shares (server_settings) that embedded mode keeps in files: the
 * VAPID key pair browsers' push subscriptions were made for, and the key of signed download links.
 */
const SETTINGS = [
  {
    file: 'vapid.json',
    key: 'vapid',
    value: (json: { publicKey: string; privateKey: string }) => ({
      publicKey: json.publicKey,
      privateKey: json.privateKey,
    }),
  },
  { file: 'media-secret.json', key: 'media-url-secret', value: (json: { secret: string }) => json.secret },
] as const;

async function copySettings(dataDir: string, pool: import('pg').Pool): Promise<string[]> {
  const lines: string[] = [];
  for (const setting of SETTINGS) {
    const file = path.join(dataDir, setting.file);
    if (!fs.existsSync(file)) {
      lines.push(`${setting.key}: no ${setting.file}, the cluster makes its own`);
      continue;
    }
    const value = JSON.stringify(setting.value(JSON.parse(fs.readFileSync(file, 'utf8'))));
    // The embedded value wins over one a cluster process made meanwhile: it is what clients hold.
    const { rowCount } = await pool.query(
      `INSERT INTO server_settings (key, value) VALUES ($1, $2::jsonb)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE server_settings.value IS DISTINCT FROM excluded.value`,
      [setting.key, value],
    );
    const { rows } = await pool.query<{ same: boolean }>(
      'SELECT value = $2::jsonb AS same FROM server_settings WHERE key = $1',
      [setting.key, value],
    );
    if (!rows[0]?.same) throw new MigrateError(`${setting.key} did not reach PostgreSQL`);
    lines.push(`${setting.key}: ${rowCount ? 'copied (restart cluster processes already running)' : 'already there'}`);
  }
  return lines;
}

function summary(
  io: Output,
  results: TableResult[],
  streams: StreamResult[],
  settings: string[],
  files: FilesResult,
): number {
  let bad = 0;
  for (const r of results) {
    const ok = r.source === r.target && r.sourceSum === r.targetSum;
    if (!ok) bad++;
    const why = r.source !== r.target ? `${r.source} rows here, ${r.target} there` : 'checksums differ';
    io.out(
      `${ok ? 'ok  ' : 'FAIL'}     ${r.table.padEnd(20)} ${ok ? `${r.target} rows, sha256 ${r.targetSum.slice(0, 12)}` : why}`,
    );
  }
  for (const s of streams) {
    if (s.last >= s.needed) continue;
    bad++;
    io.out(`FAIL     ${s.stream}: at ${s.last}, below the migrated ${s.needed}`);
  }
  for (const line of settings) io.out(`ok       setting ${line}`);
  if (files.keys > 0) {
    io.out(`ok       files: ${files.keys} objects, ${files.copied} copied now${files.note ? `; ${files.note}` : ''}`);
    if (files.missing.length > 0)
      io.out(`warn     files: ${files.missing.length} not in the embedded directory (e.g. ${files.missing[0]})`);
  }
  io.out(bad === 0 ? 'migrated: every count and checksum matches' : `migration incomplete: ${bad} problem(s) above`);
  return bad === 0 ? 0 : 1;
}

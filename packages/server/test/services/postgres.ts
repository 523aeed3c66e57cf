// A private PostgreSQL cluster (initdb + postgres) for the tests that stop it, or that find none at
// the default port. It runs with fsync=off: the tests kill processes, and the OS page cache survives
// a killed process, so durability against power loss is not what they can show anyway.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { waitFor } from '../harness/wait.js';
import { Proc } from './proc.js';

/** The newest PostgreSQL installed the Debian way (/usr/lib/postgresql/<major>/bin). */
function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root) ? fs.readdirSync(root).filter((d) => /^\d+$/u.test(d)) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL server under ${root} (apt-get install postgresql)`);
  return path.join(root, newest, 'bin');
}

export class PostgresService extends Proc {
  readonly dataDir: string;
  private readonly owner: { uid: number; gid: number } | null;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    super('postgres', path.join(dir, 'postgres.log'));
    this.dataDir = path.join(dir, 'data');
    // initdb and postgres refuse to run as root: run them as the `postgres` OS user.
    if (process.getuid?.() === 0) {
      const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
      this.owner = { uid, gid };
      fs.chownSync(dir, uid, gid);
      fs.chmodSync(dir, 0o700);
    } else {
      this.owner = null;
    }
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async init(): Promise<void> {
    const res = spawnSync(
      path.join(pgBin(), 'initdb'),
      ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '-N', '-E', 'UTF8', '--locale=C'],
      {
        ...(this.owner ?? {}),
        encoding: 'utf8',
        cwd: '/',
      },
    );
    if (res.status !== 0) throw new Error(`initdb failed: ${res.stderr}`);
  }

  async start(): Promise<void> {
    this.spawn(
      path.join(pgBin(), 'postgres'),
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${this.dir}`,
        '-c',
        'fsync=off',
        '-c',
        'max_connections=100',
      ],
      { ...(this.owner ?? {}), cwd: '/' },
    );
    await waitFor(
      'postgres',
      async () => {
        if (!this.running) throw new Error(`postgres died: ${this.tail()}`);
        const client = new pg.Client({ connectionString: this.url('postgres'), connectionTimeoutMillis: 1000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => {});
        }
      },
      20_000,
      200,
    );
  }

  /** pg_ctl stop -m immediate: the postmaster and every backend quit at once, no checkpoint. */
  async stopImmediate(): Promise<void> {
    await this.signal('SIGQUIT');
  }

  async createDatabase(name: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.url('postgres') });
    await client.connect();
    await client.query(`CREATE DATABASE "${name}"`);
    await client.end();
  }

  async query<T extends pg.QueryResultRow = any>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }
}

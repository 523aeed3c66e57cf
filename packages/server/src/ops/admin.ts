// Operator commands from a shell on the server (npm run admin -- ...): create a user or reset its
// password when no operator account exists yet, counts of what the deployment holds, and `doctor`,
// which checks what a deployment needs before users notice. They open the stores directly, with the
// server's own settings; in cluster mode a reset password's ended sessions are revoked on every
// gateway at once, in embedded mode the running server's periodic credential re-check closes them.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Config } from '../config/config.js';
import type { CredentialStore } from '../core/users/credential-store.js';
import { tokenHash } from '../core/users/authenticator.js';
import { hashPassword } from '../core/users/passwords.js';
import { newApiKey, newId } from '../domain/ids.js';
import { openMigratedPool, openNatsRevocations } from './cluster-access.js';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

interface Admin {
  credentials: CredentialStore;
  /** Tells every gateway (cluster) that these credentials ended. */
  revoke(ids: string[]): Promise<void>;
  count(table: 'users' | 'conversations' | 'messages'): Promise<number>;
  close(): Promise<void>;
}

const USAGE = `usage: npm run admin -- <command>
  users create USERNAME [--display-name NAME]   a new account; prints its API key; a password is read from stdin if one is piped
  users reset-password USERNAME                 reads the new password from stdin; ends every session of the user
  users suspend USERNAME --reason TEXT          ends the user's sessions, keys and sockets; sign-in answers 403
  users unsuspend USERNAME                      lifts a suspension
  reports [--limit N]                           the newest reports, with the reported message's copy
  stats [--url URL ...]                          users, conversations, messages; live sockets and store lag from each process
  doctor [--url URL ...]                         settings, services, migrations, file descriptors, clocks (URL: a running process, default this PORT)`;

export async function runAdmin(config: Readonly<Config>, args: string[], io: Output, stdin: () => Promise<string>) {
  const [command, sub, ...rest] = args;
  const urls = optionValues(args, '--url');
  if (command === 'doctor') return doctor(config, urls.length ? urls : [localUrl(config)], io);
  if (command === 'stats') return stats(config, urls.length ? urls : [localUrl(config)], io);
  if (command === 'reports' || (command === 'users' && (sub === 'suspend' || sub === 'unsuspend'))) {
    const { runModeration } = await import('./moderation-cli.js');
    return runModeration(config, args, io);
  }
  if (command === 'users' && (sub === 'create' || sub === 'reset-password') && rest[0]) {
    const admin = await openAdmin(config);
    try {
      return sub === 'create'
        ? await createUser(admin, rest[0], optionValues(rest, '--display-name')[0], await stdin(), io)
        : await resetPassword(admin, rest[0], await stdin(), io);
    } finally {
      await admin.close();
    }
  }
  io.err(USAGE);
  return 64;
}

function optionValues(args: string[], name: string): string[] {
  return args.flatMap((a, i) => (a === name && args[i + 1] ? [args[i + 1]!] : []));
}

function localUrl(config: Readonly<Config>): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

async function createUser(
  admin: Admin,
  username: string,
  displayName: string | undefined,
  password: string,
  io: Output,
) {
  const apiKey = newApiKey();
  const createdAt = new Date().toISOString();
  const id = newId('u');
  const user = await admin.credentials.createAccount(
    { id, username, displayName: displayName ?? username, createdAt },
    { apiKey: { id: newId('k'), userId: id, keyHash: tokenHash(apiKey), name: 'created by admin', createdAt } },
  );
  if (password) await admin.credentials.setPassword(user.id, await hashPassword(checkPassword(password)), null);
  io.out(`created ${user.username} (${user.id})${password ? ' with a password' : ''}; API key: ${apiKey}`);
  return 0;
}

async function resetPassword(admin: Admin, username: string, password: string, io: Output) {
  const found = await admin.credentials.passwordByUsername(username);
  if (!found) {
    io.err(`no user ${username}`);
    return 1;
  }
  const ended = await admin.credentials.setPassword(found.user.id, await hashPassword(checkPassword(password)), null);
  await admin.revoke(ended);
  io.out(`password of ${username} reset; ${ended.length} session(s) ended`);
  return 0;
}

function checkPassword(raw: string): string {
  const password = raw.replace(/\r?\n$/, '');
  if (password.length < 8 || password.length > 256) throw new AdminError('a password is 8 to 256 characters (stdin)');
  return password;
}

export class AdminError extends Error {
  override name = 'AdminError';
}

async function openAdmin(config: Readonly<Config>): Promise<Admin> {
  if (!config.databaseUrl) {
    const { openDatabase } = await import('../adapters/sqlite/db.js');
    const { SqliteCredentials } = await import('../adapters/sqlite/credentials.js');
    const db = openDatabase(path.join(config.dataDir, 'messenger.db'));
    return {
      credentials: new SqliteCredentials({ db }),
      revoke: async () => {},
      count: async (table) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
      close: async () => {
        db.close();
      },
    };
  }
  const { PostgresCredentials } = await import('../adapters/postgres/credentials.js');
  const pool = await openMigratedPool(config, config.databaseUrl);
  const revocations = config.natsUrl ? await openNatsRevocations(config, config.natsUrl) : null;
  return {
    credentials: new PostgresCredentials({ pool }),
    revoke: async (ids) => {
      if (ids.length) await revocations?.publish(ids);
    },
    count: async (table) => Number((await pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n),
    close: async () => {
      await revocations?.close();
      await pool.end();
    },
  };
}

/** Each process's /metrics, parsed into name{labels} -> value, and its clock against ours. */
async function probe(url: string): Promise<{ metrics: Map<string, number>; skewMs: number } | string> {
  try {
    const t0 = Date.now();
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    const t1 = Date.now();
    if (!res.ok) return `${url}/metrics answered ${res.status}`;
    const date = Date.parse(res.headers.get('date') ?? '');
    const metrics = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const at = line.lastIndexOf(' ');
      metrics.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    // The Date header has whole seconds: the skew is known to about a second.
    return { metrics, skewMs: Number.isNaN(date) ? 0 : Math.abs(date + 500 - (t0 + t1) / 2) };
  } catch (error) {
    return `${url} does not answer (${(error as Error).message})`;
  }
}

function sum(metrics: Map<string, number>, prefix: string): number {
  let total = 0;
  for (const [k, v] of metrics) if (k === prefix || k.startsWith(`${prefix}{`)) total += v;
  return total;
}

async function stats(config: Readonly<Config>, urls: string[], io: Output): Promise<number> {
  const admin = await openAdmin(config);
  try {
    io.out(`users          ${await admin.count('users')}`);
    io.out(`conversations  ${await admin.count('conversations')}`);
    io.out(`messages       ${await admin.count('messages')}`);
  } finally {
    await admin.close();
  }
  let failed = false;
  for (const url of urls) {
    const p = await probe(url);
    if (typeof p === 'string') {
      io.err(p);
      failed = true;
      continue;
    }
    const lag = p.metrics.get('messenger_log_lag{consumer="persister"}');
    io.out(
      `${url}: ${sum(p.metrics, 'messenger_ws_connections')} live sockets` +
        (lag === undefined ? '' : `, store ${lag} log entries behind`),
    );
  }
  return failed ? 1 : 0;
}

type Check = { ok: true; what: string } | { ok: false; what: string; warn?: boolean };

async function doctor(config: Readonly<Config>, urls: string[], io: Output): Promise<number> {
  const checks: Check[] = [];
  const check = async (what: string, fn: () => Promise<string | undefined> | string | undefined) => {
    try {
      const detail = await fn();
      checks.push({ ok: true, what: detail ? `${what}: ${detail}` : what });
    } catch (error) {
      const warn = error instanceof Warning;
      checks.push({ ok: false, what: `${what}: ${(error as Error).message}`, warn });
    }
  };
  await check('settings', () => `${config.databaseUrl ? 'cluster' : 'embedded'} mode, roles ${config.roles.join(',')}`);
  if (!config.databaseUrl) {
    await check('data directory', () => {
      fs.mkdirSync(config.dataDir, { recursive: true });
      fs.accessSync(config.dataDir, fs.constants.W_OK);
      return config.dataDir;
    });
    await check('SQLite migrations', async () => {
      const file = path.join(config.dataDir, 'messenger.db');
      if (!fs.existsSync(file)) return 'no database yet: the server creates it at start';
      const { MIGRATIONS } = await import('../adapters/sqlite/migrations.js');
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version > MIGRATIONS.length)
          throw new Error(`schema ${version} is newer than this build (${MIGRATIONS.length})`);
        if (version < MIGRATIONS.length)
          throw new Warning(`schema ${version} of ${MIGRATIONS.length}: the server migrates at start`);
        return `schema ${version}, all applied`;
      } finally {
        db.close();
      }
    });
  } else {
    await check('PostgreSQL', async () => {
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: config.databaseUrl!, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        const { MIGRATIONS } = await import('../adapters/postgres/migrations.js');
        const schema = config.databaseSchema ? `${config.databaseSchema}.` : '';
        const found = await client
          .query(`SELECT max(version) AS v FROM ${schema}schema_migrations`)
          .then((r) => Number(r.rows[0].v ?? 0))
          .catch(() => 0);
        if (found > MIGRATIONS.length)
          throw new Error(`schema ${found} is newer than this build (${MIGRATIONS.length})`);
        if (found < MIGRATIONS.length)
          throw new Warning(`migrations ${found} of ${MIGRATIONS.length}: the server migrates at start`);
        return `reachable, migrations ${found} of ${MIGRATIONS.length}`;
      } finally {
        await client.end();
      }
    });
    await check('NATS JetStream', async () => {
      if (!config.natsUrl) throw new Error('NATS_URL is not set');
      const { connectNats } = await import('../adapters/nats/connection.js');
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const nc = await connectNats(config.natsUrl, 'messenger-doctor');
      try {
        const info = await (await jetstreamManager(nc)).getAccountInfo();
        return `reachable, ${info.streams} streams`;
      } finally {
        await nc.close();
      }
    });
    await check('Redis', async () => {
      if (!config.redisUrl) throw new Error('REDIS_URL is not set');
      const { Redis } = await import('ioredis');
      const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 5000 });
      try {
        await redis.connect();
        return `reachable (${await redis.ping()})`;
      } finally {
        redis.disconnect();
      }
    });
  }
  await check('file descriptors (this shell)', () => {
    const limit = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1];
    if (limit && limit !== 'unlimited' && Number(limit) < 65_536)
      throw new Warning(`${limit}: one socket is one descriptor; raise it (LimitNOFILE in the systemd units)`);
    return limit ?? 'unknown';
  });
  for (const url of urls) {
    await check(`process ${url}`, async () => {
      const p = await probe(url);
      if (typeof p === 'string') throw new Error(p);
      const open = p.metrics.get('process_open_fds') ?? 0;
      const max = p.metrics.get('process_max_fds') ?? 0;
      if (max && open / max > 0.8) throw new Warning(`${open} of ${max} file descriptors in use`);
      if (max && max < 65_536) throw new Warning(`its file-descriptor limit is ${max}`);
      if (p.skewMs > 2000) throw new Warning(`its clock is ${(p.skewMs / 1000).toFixed(1)} s off this machine's`);
      return `answers; ${open} of ${max} file descriptors, clock within ${Math.ceil(p.skewMs / 1000)} s`;
    });
  }
  for (const c of checks) io.out(`${c.ok ? 'ok  ' : c.warn ? 'warn' : 'FAIL'}  ${c.what}`);
  return checks.some((c) => !c.ok && !c.warn) ? 1 : 0;
}

class Warning extends Error {}

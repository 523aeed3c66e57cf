// Private backing services and messenger processes for the cluster fault tests. Every test file
// starts its own nats-server(s), redis-server and PostgreSQL cluster on free ports, in its own temp
// directories, so it can kill them; the machine's shared services (4222, 6379, 5432) are never touched.
//
// NATS is nats-server >= 2.10 (see natsServerBin: NATS_SERVER_BIN, else the copy that
// scripts/fetch-nats-server.sh puts in .cache/), run with a configuration derived from
// deploy/nats/nats-server.conf (natsConfig): the production file with this test's ports and
// directories, so `sync_interval: always` (fsync before the PubAck) and the other settings are the
// ones the crash tests run with. One node (cluster block dropped) or three (one JetStream cluster,
// streams R3: ClusterOptions.natsNodes).
//
// What these tests cover and what they do not: kill -9 (and SIGSTOP) of processes. The OS page cache
// survives a killed process, so even with `sync_interval: always` nothing here shows what a power
// loss would do (that needs pulling the plug, or a VM without a write-back cache, not kill -9).
// PostgreSQL runs with fsync=off for speed, for the same reason.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { WebSocket } from 'ws';
import { MessengerClient, type MessengerClientOptions } from '@messenger/sdk';
import { freePort } from '../process.js';
import type { Message } from '@messenger/protocol';

export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/** The production NATS configuration the tests' servers are derived from. */
export const NATS_CONF = path.join(REPO, 'deploy/nats/nats-server.conf');
const FETCH_NATS = path.join(REPO, 'scripts/fetch-nats-server.sh');
const PG_BIN = '/usr/lib/postgresql/15/bin';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export { freePort };

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A child process with its output kept in a file, and a record of whether it died on its own. */
class Proc {
  child: ChildProcess | null = null;
  /** Exits nobody asked for (crashes), with the tail of the output. */
  readonly crashes: string[] = [];
  private expectingExit = false;

  constructor(
    readonly name: string,
    readonly logFile: string,
  ) {}

  spawn(
    cmd: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; cwd?: string } = {},
  ): ChildProcess {
    const out = fs.openSync(this.logFile, 'a');
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: ['ignore', out, out],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    fs.closeSync(out);
    this.expectingExit = false;
    this.child = child;
    child.once('exit', (code, signal) => {
      if (!this.expectingExit) this.crashes.push(`${this.name} exited on its own (${signal ?? code}):\n${this.tail()}`);
      if (this.child === child) this.child = null;
    });
    return child;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async signal(sig: NodeJS.Signals, timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.expectingExit = true;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  kill9(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGSTOP/SIGCONT: the process keeps its sockets but does nothing. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  tail(lines = 40): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

// ---- NATS: the 2.10 binary and the production configuration ------------------------------------

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

let natsBin: string | null = null;

/**
 * The nats-server the fault tests run: $NATS_SERVER_BIN, else .cache/nats-server/nats-server, else
 * what scripts/fetch-nats-server.sh puts there (run once, under a lock: test files start in
 * parallel). It must be >= 2.10: deploy/nats/nats-server.conf's `sync_interval` is unknown to 2.9.
 */
export function natsServerBin(): string {
  if (natsBin) return natsBin;
  const cached = path.join(REPO, '.cache/nats-server/nats-server');
  let bin = process.env.NATS_SERVER_BIN || cached;
  if (!process.env.NATS_SERVER_BIN && !isExecutable(cached)) {
    const lock = path.join(os.tmpdir(), 'messenger-fetch-nats-server.lock');
    const hasFlock = spawnSync('flock', ['--version']).status === 0;
    const res = hasFlock
      ? spawnSync('flock', [lock, FETCH_NATS], { cwd: REPO, encoding: 'utf8', timeout: 300_000 })
      : spawnSync(FETCH_NATS, [], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
    if (res.status !== 0 || !isExecutable(cached)) {
      throw new Error(
        `the cluster fault tests need nats-server >= 2.10 and found none: NATS_SERVER_BIN is not set, ${cached} does not exist, ` +
          `and scripts/fetch-nats-server.sh failed (${res.error ? String(res.error) : `exit ${res.status}`}):\n${res.stderr ?? ''}\n` +
          'Run scripts/fetch-nats-server.sh (it needs a Debian mirror) or set NATS_SERVER_BIN to a nats-server >= 2.10.',
      );
    }
    bin = cached;
  }
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const m = /v(\d+)\.(\d+)\./u.exec(version.stdout ?? '');
  if (!m || Number(m[1]) < 2 || (Number(m[1]) === 2 && Number(m[2]) < 10)) {
    throw new Error(
      `${bin} is not a nats-server >= 2.10 (${version.stdout?.trim() || version.error || version.stderr}); the cluster fault tests need one (sync_interval). Set NATS_SERVER_BIN or run scripts/fetch-nats-server.sh.`,
    );
  }
  natsBin = bin;
  return bin;
}

export interface NatsNodeSettings {
  serverName: string;
  port: number;
  monitorPort: number;
  storeDir: string;
  /** Absent: a single node, the cluster block is dropped. Present: this node's route port and every node's. */
  cluster?: { port: number; routes: number[] };
}

/**
 * The test configuration of one node, derived from the production file (deploy/nats/nats-server.conf):
 * only the names, addresses, ports and the store directory are replaced; everything else, among it
 * `sync_interval: always`, max_payload, max_pending and write_deadline, is the production text.
 * max_memory_store and max_file_store are kept as they are: they are caps, not reservations (the log's
 * streams have no max_bytes), so 500GB on a smaller temp disk is no problem. Throws if the file no
 * longer has a line this relies on, so the tests cannot silently drift from the shipped file.
 */
export function natsConfig(template: string, node: NatsNodeSettings): string {
  let conf = template;
  const replace = (what: string, pattern: RegExp, value: string | ((...m: string[]) => string)) => {
    if (!pattern.test(conf))
      throw new Error(
        `${NATS_CONF} has no ${what} (${pattern}); natsConfig in ${fileURLToPath(import.meta.url)} must follow the file`,
      );
    conf = conf.replace(pattern, value as string);
  };
  replace('server_name', /^server_name:.*$/mu, `server_name: ${node.serverName}`);
  replace('top-level listen', /^listen:.*$/mu, `listen: 127.0.0.1:${node.port}`);
  replace('http monitor', /^http:.*$/mu, `http: 127.0.0.1:${node.monitorPort}`);
  replace(
    'jetstream store_dir',
    /^(\s+)store_dir:.*$/mu,
    (_m, indent) => `${indent}store_dir: ${JSON.stringify(node.storeDir)}`,
  );
  const clusterBlock = /^cluster\s*\{[\s\S]*?^\}[^\n]*$/mu;
  const block = clusterBlock.exec(conf)?.[0];
  if (!block) throw new Error(`${NATS_CONF} has no cluster { ... } block; natsConfig must follow the file`);
  if (node.cluster) {
    const { port, routes } = node.cluster;
    let derived = block;
    const inBlock = (what: string, pattern: RegExp, value: string) => {
      if (!pattern.test(derived))
        throw new Error(`${NATS_CONF}'s cluster block has no ${what} (${pattern}); natsConfig must follow the file`);
      derived = derived.replace(pattern, value);
    };
    inBlock('listen', /^(\s+)listen:.*$/mu, `$1listen: 127.0.0.1:${port}`);
    inBlock(
      'routes',
      /^(\s+)routes:\s*\[[\s\S]*?\]/mu,
      `$1routes: [\n${routes.map((p) => `    nats-route://127.0.0.1:${p}`).join('\n')}\n  ]`,
    );
    conf = conf.replace(block, derived);
  } else {
    conf = conf.replace(block, '# (cluster block dropped: a single node)');
  }
  if (!/^\s+sync_interval:\s*always\s*$/mu.test(conf))
    throw new Error(`${NATS_CONF} no longer sets sync_interval: always; the crash tests are meant to run with it`);
  return conf;
}

const validatedConfigs = new Set<string>();

/** `nats-server -t -c <file>`: a configuration the server would refuse fails here, with its message. */
export function validateNatsConfig(file: string): void {
  if (validatedConfigs.has(file)) return;
  const res = spawnSync(natsServerBin(), ['-t', '-c', file], { encoding: 'utf8' });
  if (res.status !== 0)
    throw new Error(
      `nats-server -t -c ${file} failed (${res.status}):\n${res.stdout}${res.stderr}\n--- ${file}:\n${fs.readFileSync(file, 'utf8')}`,
    );
  validatedConfigs.add(file);
}

export class NatsService extends Proc {
  readonly storeDir: string;
  readonly configFile: string;
  constructor(
    readonly port: number,
    readonly monitorPort: number,
    dir: string,
    readonly serverName = 'nats-1',
    /** This node's route port and every node's, for a multi-node cluster. */
    readonly cluster?: { port: number; routes: number[] },
  ) {
    super(serverName, path.join(dir, 'nats.log'));
    this.storeDir = path.join(dir, 'jetstream');
    this.configFile = path.join(dir, 'nats-server.conf');
    const settings: NatsNodeSettings = {
      serverName,
      port,
      monitorPort,
      storeDir: this.storeDir,
      ...(cluster ? { cluster } : {}),
    };
    fs.writeFileSync(this.configFile, natsConfig(fs.readFileSync(NATS_CONF, 'utf8'), settings));
    validateNatsConfig(this.configFile);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get monitorUrl(): string {
    return `http://127.0.0.1:${this.monitorPort}`;
  }

  /** Monitoring endpoint as JSON (/varz, /jsz?..., /connz). */
  async monitor(pathAndQuery: string): Promise<any> {
    const res = await fetch(this.monitorUrl + pathAndQuery, { signal: AbortSignal.timeout(3000) });
    return res.json();
  }

  /**
   * Same port, same store directory, same configuration every time: a restart, not a new server.
   * Ready when /healthz says so (JetStream up and, in a cluster, the meta group has a leader and this
   * node is current), and the running server confirms it fsyncs every write (sync_always).
   */
  async start(timeoutMs = 20_000): Promise<void> {
    this.spawn(natsServerBin(), ['-c', this.configFile]);
    await waitFor(
      `${this.serverName} healthz`,
      async () => {
        if (!this.running) throw new Error(`${this.serverName} died: ${this.tail()}`);
        const res = await fetch(`${this.monitorUrl}/healthz`, { signal: AbortSignal.timeout(3000) });
        return res.status === 200;
      },
      timeoutMs,
    );
    const varz = await this.monitor('/varz');
    if (varz.jetstream?.config?.sync_always !== true)
      throw new Error(
        `${this.serverName} does not run with sync_interval: always: ${JSON.stringify(varz.jetstream?.config)}`,
      );
  }
}

export class RedisService extends Proc {
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    super('redis-server', path.join(dir, 'redis.log'));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** No persistence: a restart comes back empty, as a lost cache node would. */
  async start(): Promise<void> {
    this.spawn('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
    ]);
    await waitFor(
      'redis-server',
      async () => {
        if (!this.running) throw new Error(`redis-server died: ${this.tail()}`);
        return tcpOpen(this.port);
      },
      10_000,
    );
  }

  /** A short-lived client for inspecting keys. */
  client(): Redis {
    const redis = new Redis(this.url, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: false });
    redis.on('error', () => {});
    return redis;
  }
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
      path.join(PG_BIN, 'initdb'),
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
      path.join(PG_BIN, 'postgres'),
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

/** One messenger process (node dist/main.js) with some roles. */
export class MessengerProcess extends Proc {
  constructor(
    name: string,
    readonly port: number,
    readonly env: NodeJS.ProcessEnv,
    logFile: string,
  ) {
    super(name, logFile);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    this.spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_MESSAGES: '0',
        RATE_LIMIT_SIGNUPS: '0',
        WEB_DIR: '',
        ...this.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
      },
    });
    await waitFor(
      `${this.name} /readyz`,
      async () => {
        if (!this.running) throw new Error(`${this.name} exited at start: ${this.tail()}`);
        return (await fetch(`${this.url}/readyz`)).status === 200;
      },
      timeoutMs,
    );
  }
}

export interface ClusterOptions {
  /** Prefix of the temp directory. */
  name: string;
  env?: NodeJS.ProcessEnv;
  /**
   * 1 (default): one nats-server, streams R1. 3: three nodes forming one JetStream cluster (the
   * production layout of deploy/nats/nats-server.conf), the messengers started with NATS_URL listing
   * all of them and LOG_REPLICAS=3, so every log stream is an R3 Raft group.
   */
  natsNodes?: 1 | 3;
}

/**
 * A private cluster for one test file (nats + redis + postgres + two gateways + one worker): started
 * before its tests, destroyed after them; its directories (logs, data) are kept when a test failed
 * and KEEP_FAULT_DIRS=1.
 */
export function useCluster(name: string, opts: Omit<ClusterOptions, 'name'> = {}): Cluster {
  const cluster = new Cluster({ ...opts, name });
  let failed = false;
  // A loaded 2-core CI machine can take a while to form a three-node JetStream cluster.
  beforeAll(async () => {
    try {
      await cluster.start();
    } catch (error) {
      failed = true;
      throw error;
    }
  }, 200_000);
  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      failed = true;
    });
  });
  afterAll(async () => {
    const keep = failed && process.env.KEEP_FAULT_DIRS === '1';
    await cluster.destroy(keep);
    if (keep) console.error(`kept ${cluster.dir} (KEEP_FAULT_DIRS=1)`);
  }, 30_000);
  return cluster;
}

export class Cluster {
  readonly dir: string;
  /** Every NATS node; `nats` is the first (the only one unless natsNodes > 1). */
  natsNodes: NatsService[] = [];
  redis!: RedisService;
  postgres!: PostgresService;
  gateways: MessengerProcess[] = [];
  worker!: MessengerProcess;
  readonly database = 'messenger';
  private readonly extraEnv: NodeJS.ProcessEnv;
  private readonly natsCount: number;

  constructor(opts: ClusterOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `cf-${opts.name}-`));
    fs.chmodSync(this.dir, 0o755);
    this.extraEnv = opts.env ?? {};
    this.natsCount = opts.natsNodes ?? 1;
  }

  get nats(): NatsService {
    return this.natsNodes[0]!;
  }

  get env(): NodeJS.ProcessEnv {
    return {
      DATABASE_URL: this.postgres.url(this.database),
      NATS_URL: this.natsNodes.map((n) => n.url).join(','),
      ...(this.natsCount > 1 ? { LOG_REPLICAS: String(this.natsCount) } : {}),
      REDIS_URL: this.redis.url,
      PING_INTERVAL_MS: '1000',
      PRESENCE_COALESCE_MS: '200',
      ...this.extraEnv,
    };
  }

  async start(): Promise<void> {
    const sub = (name: string) => {
      const d = path.join(this.dir, name);
      fs.mkdirSync(d);
      return d;
    };
    this.redis = new RedisService(await freePort(), sub('redis'));
    this.postgres = new PostgresService(await freePort(), sub('postgres'));
    await this.postgres.init();
    await Promise.all([this.startNats(sub), this.redis.start(), this.postgres.start()]);
    await this.postgres.createDatabase(this.database);
    // The worker first: it runs the migrations once, before the gateways need the schema.
    this.worker = new MessengerProcess(
      'worker',
      await freePort(),
      { ...this.env, ROLES: 'persister,fanout,notifier', DATA_DIR: sub('worker') },
      path.join(this.dir, 'worker.log'),
    );
    await this.worker.start();
    for (let i = 0; i < 2; i++) {
      const gw = new MessengerProcess(
        `gateway${i}`,
        await freePort(),
        { ...this.env, ROLES: 'gateway', DATA_DIR: sub(`gateway${i}`) },
        path.join(this.dir, `gateway${i}.log`),
      );
      this.gateways.push(gw);
    }
    await Promise.all(this.gateways.map((g) => g.start()));
  }

  /**
   * The nodes of a cluster start together: none is healthy before the meta group has a quorum.
   * Forming the cluster is set-up, not what the tests test, and nats-server 2.10 sometimes forms a
   * meta group of two that the third node never joins (cluster_size 2, seen on this machine in about
   * 1 of 8 starts). Such a start is thrown away and made again on fresh ports and directories.
   */
  private async startNats(sub: (name: string) => string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const natsPorts: { client: number; monitor: number; route: number }[] = [];
      for (let i = 0; i < this.natsCount; i++)
        natsPorts.push({ client: await freePort(), monitor: await freePort(), route: await freePort() });
      const dir = (i: number) => sub(attempt === 1 ? `nats-${i + 1}` : `nats-${i + 1}-start${attempt}`);
      this.natsNodes = natsPorts.map(
        (p, i) =>
          new NatsService(
            p.client,
            p.monitor,
            dir(i),
            `nats-${i + 1}`,
            this.natsCount > 1 ? { port: p.route, routes: natsPorts.map((q) => q.route) } : undefined,
          ),
      );
      try {
        await Promise.all(this.natsNodes.map((n) => n.start()));
        if (this.natsCount > 1) await this.natsMetaReady(30_000);
        return;
      } catch (error) {
        await Promise.all(this.natsNodes.map((n) => n.kill9().catch(() => {})));
        if (attempt >= 3 || this.natsCount === 1) throw error;
        console.error(
          `the NATS cluster did not form (start ${attempt}), starting it again: ${(error as Error).message}`,
        );
      }
    }
  }

  /**
   * Each node's /healthz only says it has contact with a meta leader; an R3 stream can be placed once
   * the meta leader counts every node as a current peer (otherwise: "no suitable peers for placement").
   */
  async natsMetaReady(timeoutMs = 60_000): Promise<void> {
    const up = this.natsNodes.filter((n) => n.running);
    const seen = new Map<string, unknown>();
    try {
      await waitFor(
        'JetStream meta group with every node current',
        async () => {
          for (const node of up) {
            const meta = (await node.monitor('/jsz').catch((error: unknown) => ({ error: String(error) })))
              .meta_cluster;
            seen.set(node.serverName, meta ?? null);
          }
          for (const node of up) {
            const meta = seen.get(node.serverName) as {
              leader?: string;
              cluster_size?: number;
              replicas?: { name: string; current?: boolean; offline?: boolean }[];
            } | null;
            if (meta?.leader !== node.serverName) continue;
            const peers = meta.replicas ?? [];
            return (
              meta.cluster_size === this.natsCount &&
              peers.length === this.natsCount - 1 &&
              peers.every((p) => p.current && !p.offline)
            );
          }
          return false;
        },
        timeoutMs,
        100,
      );
    } catch (error) {
      // What each node last said, to tell a missing leader from a peer that never became current.
      throw new Error(
        `${(error as Error).message}; meta_cluster per node: ${JSON.stringify(Object.fromEntries(seen))}`,
      );
    }
  }

  get messengers(): MessengerProcess[] {
    return [...this.gateways, this.worker].filter(Boolean);
  }

  /** Exits of messenger processes nobody asked for. A backing service dying is the test's doing. */
  crashes(): string[] {
    return this.messengers.flatMap((p) => p.crashes);
  }

  /** Kills everything (kill -9 is fine: the data is thrown away) and removes the temp directory. */
  async destroy(keepDirOnFailure = false): Promise<void> {
    const all: Proc[] = [...this.messengers, ...this.natsNodes, this.redis, this.postgres].filter(Boolean);
    for (const p of all) p.resume();
    await Promise.all(all.map((p) => p.kill9().catch(() => {})));
    // Orphaned postgres backends exit on their own once the postmaster is gone; give them a moment.
    await sleep(200);
    if (!keepDirOnFailure) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- the app side: SDK clients and what they saw ------------------------------------------------

export interface TestUser {
  id: string;
  username: string;
  apiKey: string;
}

let userCounter = 0;
export async function signUp(baseUrl: string, prefix = 'u'): Promise<TestUser> {
  const username = `${prefix}${++userCounter}_${Math.random().toString(36).slice(2, 7)}`;
  const { user, apiKey } = await MessengerClient.createUser(baseUrl, { username });
  return { id: user.id, username, apiKey };
}

export async function api(
  baseUrl: string,
  apiKey: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(baseUrl + url, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* keep text */
  }
  return { status: res.status, body: parsed };
}

export async function createGroup(
  baseUrl: string,
  owner: TestUser,
  others: TestUser[],
  title: string,
): Promise<string> {
  const res = await api(baseUrl, owner.apiKey, 'POST', '/v1/conversations', {
    memberIds: others.map((u) => u.id),
    title,
  });
  if (res.status !== 201) throw new Error(`create group: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.conversation.id;
}

/** Every stored message of a conversation, paged with afterSeq as a syncing client does. */
export async function fullHistory(baseUrl: string, user: TestUser, conversationId: string): Promise<Message[]> {
  const all: Message[] = [];
  let after = 0;
  for (;;) {
    const res = await api(
      baseUrl,
      user.apiKey,
      'GET',
      `/v1/conversations/${conversationId}/messages?afterSeq=${after}&limit=200`,
    );
    if (res.status !== 200) throw new Error(`history: ${res.status} ${JSON.stringify(res.body)}`);
    const page: Message[] = res.body.messages;
    if (page.length === 0) return all;
    all.push(...page);
    after = page.at(-1)!.seq;
  }
}

/**
 * A load balancer in front of the gateways, as a deployment has: the SDK takes one baseUrl, so the
 * client is given a `WebSocket` and a `fetch` that send each new connection to the client's preferred
 * gateway unless the balancer has marked it down, then to a live one. The SDK itself is unchanged:
 * it reconnects, catches up over HTTP and re-sends its outbox as it would behind a real balancer.
 */
export class Balancer {
  readonly down = new Set<string>();
  constructor(readonly upstreams: string[]) {}

  pick(preferred: number): string {
    const order = [...this.upstreams.slice(preferred), ...this.upstreams.slice(0, preferred)];
    return order.find((u) => !this.down.has(u)) ?? order[0]!;
  }

  /** Client options that route through the balancer with `preferred` as the sticky upstream. */
  route(preferred: number): Pick<MessengerClientOptions, 'baseUrl' | 'WebSocket' | 'fetch'> {
    const LB = 'http://balancer.invalid';
    const rewrite = (url: string) => {
      const target = new URL(this.pick(preferred));
      const u = new URL(url);
      u.host = target.host;
      u.protocol = u.protocol.startsWith('ws') ? 'ws:' : 'http:';
      return u.toString();
    };
    class BalancedWebSocket extends WebSocket {
      constructor(url: string) {
        super(rewrite(url));
      }
    }
    const balancedFetch: typeof fetch = (input, init) =>
      fetch(rewrite(typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url), init);
    return {
      baseUrl: LB,
      WebSocket: BalancedWebSocket as unknown as MessengerClientOptions['WebSocket'],
      fetch: balancedFetch,
    };
  }
}

/** One user's app: an SDK client, what it was handed (message.created per conversation) and what the server acked. */
export class App {
  readonly client: MessengerClient;
  readonly seen = new Map<string, Message[]>();
  readonly acked: Message[] = [];
  readonly states: string[] = [];
  private sent = 0;

  constructor(
    readonly user: TestUser,
    route: Pick<MessengerClientOptions, 'baseUrl' | 'WebSocket' | 'fetch'>,
  ) {
    this.client = new MessengerClient({
      WebSocket: WebSocket as unknown as MessengerClientOptions['WebSocket'],
      ...route,
      apiKey: user.apiKey,
      autoDelivered: false,
      reconnect: { minDelayMs: 100, maxDelayMs: 1000, stableAfterMs: 2000 },
      requestTimeoutMs: 8000,
    });
    this.client.on('message.created', (e) => {
      const list = this.seen.get(e.conversationId) ?? [];
      list.push(e.message);
      this.seen.set(e.conversationId, list);
    });
    this.client.on('state', (s) => this.states.push(s));
  }

  connect(): Promise<void> {
    return this.client.connect();
  }

  /** Sends `count` messages one after another (each awaited: the outbox owns it until acked), round robin over conversations. */
  sendLoop(conversations: string[], count: number, pauseMs: number, tag: string, stop?: () => boolean): Promise<void> {
    const loop = (async () => {
      for (let i = 0; i < count && !stop?.(); i++) {
        const conv = conversations[i % conversations.length]!;
        const n = this.sent++;
        const message = await this.client.send(conv, `${tag} ${this.user.username} #${n}`, {
          clientMsgId: `${this.user.username}-${tag}-${n}`,
        });
        this.acked.push(message);
        if (pauseMs > 0) await sleep(pauseMs);
      }
    })();
    // A loop abandoned by a failed test rejects when the client is closed; that is not news.
    loop.catch(() => {});
    return loop;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * acknowledged = stored = delivered, zero duplicates, seq order per conversation:
 * - `history` (the store, paged with afterSeq) has no duplicate id, seq or (sender, clientMsgId) and ascends in seq;
 * - every acked message is stored with the acked id and seq, and every stored message was acked
 *   (`extraAcked` adds acks obtained outside the SDK apps, e.g. raw HTTP sends);
 * - each sender's acks ascend in seq within a conversation (it sent them one after another);
 * - every app that is a member was handed exactly the stored messages, once each, in seq order.
 * Returns a list of human-readable violations (empty when all hold).
 */
export function checkConversation(
  conversationId: string,
  history: Message[],
  apps: App[],
  memberApps: App[],
  extraAcked: Message[] = [],
): string[] {
  const problems: string[] = [];
  const seqs = history.map((m) => m.seq);
  for (let i = 1; i < seqs.length; i++)
    if (!(seqs[i]! > seqs[i - 1]!))
      problems.push(`history not strictly ascending at ${i}: ${seqs[i - 1]} then ${seqs[i]}`);
  const byKey = new Map<string, Message>();
  const ids = new Set<string>();
  for (const m of history) {
    const key = `${m.senderId}:${m.clientMsgId}`;
    if (byKey.has(key)) problems.push(`stored twice: ${key} (seq ${byKey.get(key)!.seq} and ${m.seq})`);
    if (ids.has(m.id)) problems.push(`id stored twice: ${m.id}`);
    byKey.set(key, m);
    ids.add(m.id);
  }
  const acked = [...apps.flatMap((a) => a.acked), ...extraAcked].filter((m) => m.conversationId === conversationId);
  const ackedKeys = new Set<string>();
  for (const a of acked) {
    const key = `${a.senderId}:${a.clientMsgId}`;
    ackedKeys.add(key);
    const stored = byKey.get(key);
    if (!stored) problems.push(`acknowledged but not stored: ${key} seq ${a.seq}`);
    else if (stored.id !== a.id || stored.seq !== a.seq)
      problems.push(`stored differs from ack: ${key} ack ${a.id}/${a.seq} stored ${stored.id}/${stored.seq}`);
  }
  for (const key of byKey.keys()) if (!ackedKeys.has(key)) problems.push(`stored but never acknowledged: ${key}`);
  for (const app of apps) {
    const mine = app.acked.filter((m) => m.conversationId === conversationId).map((m) => m.seq);
    for (let i = 1; i < mine.length; i++)
      if (!(mine[i]! > mine[i - 1]!))
        problems.push(`${app.user.username}'s acks out of order: ${mine[i - 1]} then ${mine[i]}`);
  }
  const storedIds = history.map((m) => m.id);
  for (const app of memberApps) {
    const seen = (app.seen.get(conversationId) ?? []).map((m) => m.id);
    const missing = storedIds.filter((id) => !seen.includes(id));
    const dupes = seen.length - new Set(seen).size;
    if (missing.length > 0)
      problems.push(
        `${app.user.username} was never handed ${missing.length} stored message(s), seqs ${history
          .filter((m) => missing.includes(m.id))
          .map((m) => m.seq)
          .slice(0, 20)
          .join(',')}`,
      );
    if (dupes > 0) problems.push(`${app.user.username} was handed ${dupes} duplicate(s)`);
    const seenSeqs = (app.seen.get(conversationId) ?? []).map((m) => m.seq);
    for (let i = 1; i < seenSeqs.length; i++)
      if (!(seenSeqs[i]! > seenSeqs[i - 1]!))
        problems.push(`${app.user.username} handed out of order: ${seenSeqs[i - 1]} then ${seenSeqs[i]}`);
    const extra = seen.filter((id) => !storedIds.includes(id));
    if (extra.length > 0)
      problems.push(`${app.user.username} was handed ${extra.length} message(s) that are not stored`);
  }
  return problems;
}

/** Waits until every member app was handed as many messages as the store holds (or the timeout), then checks. */
export async function settleAndCheck(
  baseUrl: string,
  reader: TestUser,
  conversations: Map<string, App[]>,
  apps: App[],
  timeoutMs: number,
  extraAcked: Message[] = [],
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems: string[] = [];
    for (const [conv, members] of conversations) {
      const history = await fullHistory(baseUrl, reader, conv);
      problems.push(...checkConversation(conv, history, apps, members, extraAcked).map((p) => `${conv}: ${p}`));
    }
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await sleep(500);
  }
}

/**
 * Watches the store while a fault plays out: the store must always hold a gap-free prefix of each
 * conversation's log, so no acknowledged seq may be missing below the highest stored seq (a client
 * syncing with afterSeq would skip it for good). Polls until stopped; returns the violations seen.
 */
export function watchGaps(
  baseUrl: string,
  reader: TestUser,
  conversations: string[],
  acked: () => Message[],
): { stop(): Promise<string[]> } {
  const violations: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const conv of conversations) {
        // Acks taken before reading the store: each of them is durable in the log by now.
        const known = acked()
          .filter((m) => m.conversationId === conv)
          .map((m) => m.seq);
        let stored: Message[];
        try {
          stored = await fullHistory(baseUrl, reader, conv);
        } catch {
          continue; // the store may be down on purpose
        }
        const have = new Set(stored.map((m) => m.seq));
        const top = stored.at(-1)?.seq ?? 0;
        const holes = known.filter((s) => s < top && !have.has(s)).sort((a, b) => a - b);
        if (holes.length > 0 && violations.length < 5)
          violations.push(
            `${conv}: stored up to seq ${top} but acked seq(s) ${holes.slice(0, 10).join(',')}${holes.length > 10 ? '...' : ''} (${holes.length}) missing below it`,
          );
      }
      await sleep(150);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return violations;
    },
  };
}

/** The JetStream consumers' state from the nats-server monitor, for evidence in failure messages. */
export async function consumerStates(nats: NatsService): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${nats.monitorPort}/jsz?accounts=true&streams=true&consumers=true`);
    const body: any = await res.json();
    const out: string[] = [];
    for (const account of body.account_details ?? []) {
      for (const stream of account.stream_detail ?? []) {
        for (const c of stream.consumer_detail ?? []) {
          out.push(
            `${stream.name}/${c.name}: delivered ${c.delivered?.stream_seq} ack_floor ${c.ack_floor?.stream_seq} ack_pending ${c.num_ack_pending} redelivered ${c.num_redelivered}`,
          );
        }
      }
    }
    return out.join('\n');
  } catch (error) {
    return `monitor unavailable: ${String(error)}`;
  }
}

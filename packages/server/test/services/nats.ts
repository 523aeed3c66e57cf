// Private nats-server nodes for the tests that kill them. NATS is nats-server >= 2.10 (see
// natsServerBin: NATS_SERVER_BIN, else the copy that scripts/fetch-nats-server.sh puts in .cache/),
// run with a configuration derived from deploy/nats/nats-server.conf (natsConfig): the production
// file with this test's ports and directories, so `sync_interval: always` (fsync before the PubAck)
// and the other settings are the ones the crash tests run with. One node (cluster block dropped) or
// several forming one JetStream cluster. JetStreamNode is the plain stand-in for the shared server.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../harness/wait.js';
import { Proc } from './proc.js';
import { natsInfo } from './probes.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/** The production NATS configuration the tests' servers are derived from. */
export const NATS_CONF = path.join(REPO, 'deploy/nats/nats-server.conf');
const FETCH_NATS = path.join(REPO, 'scripts/fetch-nats-server.sh');

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
  /**
   * Absent: the tls blocks are dropped. Present: they are kept, their /etc/nats/tls/ files read from
   * `dir` instead (see ./certificates.ts), so clients must speak TLS and trust its CA.
   */
  tls?: { dir: string };
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
  // TLS is dropped unless asked for: the tests' processes talk over 127.0.0.1, and certificates have
  // to be made for each run. Authentication and permissions stay: the messengers log in as the
  // production roles. With node.tls the blocks stay as shipped, only their files move to its dir.
  const clientTls = /^tls\s*\{[\s\S]*?^\}\n/mu;
  const routeTls = /^(\s+)tls\s*\{[\s\S]*?^\1\}\n/mu;
  if (node.tls) {
    const { dir } = node.tls;
    replace('client tls block', clientTls, (block) => block.replaceAll('/etc/nats/tls/', `${dir}/`));
    if (node.cluster) replace('route tls block', routeTls, (block) => block.replaceAll('/etc/nats/tls/', `${dir}/`));
    if (conf.includes('/etc/nats/tls/'))
      throw new Error(`${NATS_CONF} names /etc/nats/tls/ outside its tls blocks; natsConfig must follow the file`);
  } else {
    replace('client tls block', clientTls, '');
    if (node.cluster) replace('route tls block', routeTls, '');
  }
  if (!/^accounts\s*\{/mu.test(conf) || !/\$NATS_GATEWAY_PASSWORD/u.test(conf))
    throw new Error(`${NATS_CONF} no longer has the accounts with password variables that natsEnv fills in`);
  if (!/^\s+sync_interval:\s*always\s*$/mu.test(conf))
    throw new Error(`${NATS_CONF} no longer sets sync_interval: always; the crash tests are meant to run with it`);
  return conf;
}

/** The passwords of deploy/nats/nats-server.conf's users, as the test servers get them (their environment). */
export const NATS_PASSWORDS = { gateway: 'test-gateway-pw', worker: 'test-worker-pw', admin: 'test-admin-pw' } as const;

/** The environment a test nats-server runs (and is checked) with: the production file reads its passwords from it. */
export function natsEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NATS_GATEWAY_PASSWORD: NATS_PASSWORDS.gateway,
    NATS_WORKER_PASSWORD: NATS_PASSWORDS.worker,
    NATS_ADMIN_PASSWORD: NATS_PASSWORDS.admin,
  };
}

/** A NATS_URL list logged in as `user` (nats://user:password@host:port,...). */
export function natsUrlAs(user: keyof typeof NATS_PASSWORDS, urls: string[]): string {
  return urls.map((u) => u.replace('nats://', `nats://${user}:${NATS_PASSWORDS[user]}@`)).join(',');
}

const validatedConfigs = new Set<string>();

/** `nats-server -t -c <file>`: a configuration the server would refuse fails here, with its message. */
export function validateNatsConfig(file: string): void {
  if (validatedConfigs.has(file)) return;
  const res = spawnSync(natsServerBin(), ['-t', '-c', file], { encoding: 'utf8', env: natsEnv() });
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
    /** Keep the production file's tls blocks, with the certificates in this directory (NatsNodeSettings.tls). */
    readonly tls?: { dir: string },
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
      ...(tls ? { tls } : {}),
    };
    fs.writeFileSync(this.configFile, natsConfig(fs.readFileSync(NATS_CONF, 'utf8'), settings));
    validateNatsConfig(this.configFile);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The URL logged in as one of the production users (the server refuses clients without one). */
  urlAs(user: keyof typeof NATS_PASSWORDS): string {
    return natsUrlAs(user, [this.url]);
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
    this.spawn(natsServerBin(), ['-c', this.configFile], { env: natsEnv() });
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

/**
 * A single JetStream node with nats-server's own defaults, standing in for the shared service at
 * 4222 when none answers there. Any nats-server does (Debian 12's 2.9 included): the tests that
 * need the production settings run NatsService instead. Prefers NATS_SERVER_BIN or the 2.10 copy in
 * .cache/ when present, without fetching one.
 */
export class JetStreamNode extends Proc {
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    super('nats-server', path.join(dir, 'nats.log'));
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const candidates = [
      process.env.NATS_SERVER_BIN ?? '',
      path.join(REPO, '.cache/nats-server/nats-server'),
      ...(process.env.PATH ?? '').split(':').map((dir) => path.join(dir, 'nats-server')),
      '/usr/sbin/nats-server',
    ];
    const bin = candidates.find((file) => file !== '' && isExecutable(file));
    if (!bin) throw new Error('no nats-server found (apt-get install nats-server, or set NATS_SERVER_BIN)');
    const storeDir = path.join(this.dir, 'jetstream');
    this.spawn(bin, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', storeDir]);
    await waitFor(
      'nats-server with JetStream',
      async () => {
        if (!this.running) throw new Error(`nats-server died: ${this.tail()}`);
        return (await natsInfo(this.port))?.jetstream === true;
      },
      15_000,
    );
  }
}

// The server under test: a real server on an ephemeral port with its own SQLite directory.
//
// MESSENGER_TEST_BACKEND=cluster runs the same tests against a cluster deployment instead: two
// gateways and one worker (persister, fan-out, notifier) in this process, on the machine's
// PostgreSQL, NATS JetStream and Redis, isolated per data directory (its own schema, stream prefix
// and key prefix) so test files can run in parallel. `server.url` then alternates between the two
// gateways, so the clients of one test are spread over both.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { CLUSTER, deploymentEnv, deploymentOf, dropDeployment, PG_URL } from '../deployment.mjs';
import { caughtUp } from './read-barrier.js';
import { sleep } from './wait.js';

export function tempDir(prefix = 'messenger-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export type TestServer = RunningServer & {
  dataDir: string;
  /** Every gateway's URL: one in embedded mode, two in cluster mode. */
  urls: string[];
  /** The first and the last gateway's URL (one and the same in embedded mode): to write through one and read through another. */
  firstUrl: string;
  lastUrl: string;
  /** Every process's URL (gateways, then the worker in cluster mode), for /metrics. */
  processUrls: string[];
};

export async function startTestServer(
  overrides: Partial<Config> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? tempDir();
  const base = {
    PORT: '0',
    RATE_LIMIT_MESSAGES: '0',
    RATE_LIMIT_SIGNUPS: '0',
    RATE_LIMIT_CONVERSATIONS: '0',
    RATE_LIMIT_SEARCHES: '0',
    MAX_UNAUTHENTICATED_SOCKETS_PER_IP: '0',
    MAX_SOCKETS_PER_USER: '0',
    RATE_LIMIT_FRAMES: '0',
    LOG_LEVEL: 'warn',
    WEB_DIR: '',
    ...env,
  };
  if (CLUSTER) return startTestCluster(base, { ...overrides, dataDir });
  const config = loadConfig(base, { dataDir, ...overrides });
  const server = await startServer(config);
  const { url } = server;
  return Object.assign(server, { dataDir, urls: [url], firstUrl: url, lastUrl: url, processUrls: [url] });
}

/**
 * The one server of a test file (or of the describe block that calls it): started before its first
 * test, closed after its last. The handle reads through to that server, so the tests use it as the
 * server itself; the caller's own beforeAll hooks run after it has started.
 */
export function serverForFile(overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = {}): TestServer {
  let running: TestServer | undefined;
  beforeAll(async () => {
    running = await startTestServer(overrides, env);
  });
  afterAll(async () => {
    await running?.close();
  });
  return new Proxy({} as TestServer, {
    get(_, key) {
      if (!running) throw new Error("the test file's server starts in beforeAll");
      return Reflect.get(running, key, running);
    },
  });
}

const deployments = new Set<string>();
if (CLUSTER) afterAll(async () => Promise.all([...deployments].map(dropDeployment)), 60_000);

/**
 * For a test that spawns the built server as its own process: the environment that points it at a
 * cluster deployment of its own (schema, stream prefix, key prefix), dropped when the file ends.
 */
export function clusterProcessEnv(dataDir: string): Record<string, string> {
  deployments.add(dataDir);
  return deploymentEnv(dataDir);
}

async function startTestCluster(
  env: NodeJS.ProcessEnv,
  overrides: Partial<Config> & { dataDir: string },
): Promise<TestServer> {
  const { dataDir } = overrides;
  const clusterEnv = { ...env, ...clusterProcessEnv(dataDir) };
  // A `port` override (a restart on the same address) is the first gateway's.
  const start = (roles: string, name: string, port = 0) => {
    const dir = path.join(dataDir, name);
    fs.mkdirSync(dir, { recursive: true });
    return startServer(loadConfig({ ...clusterEnv, ROLES: roles }, { ...overrides, dataDir: dir, port }));
  };
  // The worker first: it migrates the schema and creates the log's streams once.
  const worker = await start('persister,fanout,notifier', 'worker');
  let gateways: RunningServer[];
  try {
    gateways = await Promise.all([start('gateway', 'gateway0', overrides.port), start('gateway', 'gateway1')]);
  } catch (error) {
    await worker.close();
    throw error;
  }
  const [first] = gateways as [RunningServer, RunningServer];
  const urls = gateways.map((g) => g.url);
  const barrier = () => persisted(worker);
  for (const url of urls) caughtUp.set(url, barrier);
  let turn = 0;
  let closing: Promise<void> | null = null;
  const server: TestServer = {
    ...first,
    get url() {
      return urls[turn++ % urls.length]!;
    },
    dataDir,
    urls,
    firstUrl: urls[0]!,
    lastUrl: urls.at(-1)!,
    processUrls: [...urls, worker.url],
    close: () =>
      (closing ??= (async () => {
        for (const url of urls) caughtUp.delete(url);
        await Promise.all(gateways.map((g) => g.close()));
        await worker.close();
      })()),
  };
  return server;
}

/** Waits (up to 10 s) until the worker's persister has acknowledged every entry of the log; says whether it did. */
async function persisted(worker: RunningServer): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const lag = await worker.backend.log.lag(['persister']).catch(() => null);
    if (lag?.persister === 0) return true;
    await sleep(5);
  }
  return false;
}

/** Cluster mode: every row of every table of the deployment's PostgreSQL schema, by table. */
export async function storedRows(server: TestServer): Promise<Record<string, Record<string, unknown>[]>> {
  const { schema } = deploymentOf(server.dataDir);
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  try {
    const out: Record<string, Record<string, unknown>[]> = {};
    const { rows: tables } = await db.query<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = $1',
      [schema],
    );
    for (const { tablename } of tables)
      out[tablename] = (await db.query(`SELECT * FROM ${schema}."${tablename}"`)).rows;
    return out;
  } finally {
    await db.end();
  }
}

/** The deployment's Prometheus metrics: in cluster mode each series summed over every process. */
export async function metricsText(server: TestServer): Promise<string> {
  const texts = await Promise.all(server.processUrls.map(async (url) => (await fetch(`${url}/metrics`)).text()));
  if (texts.length === 1) return texts[0]!;
  const series = new Map<string, number>();
  const lines: string[] = [];
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        if (!lines.includes(line)) lines.push(line);
        continue;
      }
      const cut = line.lastIndexOf(' ');
      const key = line.slice(0, cut);
      if (!series.has(key)) lines.push(key);
      series.set(key, (series.get(key) ?? 0) + Number(line.slice(cut + 1)));
    }
  }
  return `${lines.map((l) => (series.has(l) ? `${l} ${series.get(l)}` : l)).join('\n')}\n`;
}

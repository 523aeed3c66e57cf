// Test harness: a real server on an ephemeral port with its own SQLite directory, plus helpers to
// call it over real HTTP and WebSocket. Used by every integration test.
//
// MESSENGER_TEST_BACKEND=cluster runs the same tests against a cluster deployment instead: two
// gateways and one worker (persister, fan-out, notifier) in this process, on the machine's
// PostgreSQL, NATS JetStream and Redis, isolated per data directory (its own schema, stream prefix
// and key prefix) so test files can run in parallel. `server.url` then alternates between the two
// gateways, so the clients of one test are spread over both.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { WebSocket } from 'ws';
import type { ServerFrame } from '@messenger/protocol';
import { loadConfig, type Config } from '../src/config/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { CLUSTER, deploymentEnv, deploymentOf, dropDeployment, PG_URL } from './deployment.mjs';

export { CLUSTER };

export function tempDir(prefix = 'messenger-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export type TestServer = RunningServer & {
  dataDir: string;
  /** Every gateway's URL: one in embedded mode, two in cluster mode. */
  urls: string[];
  /** Every process's URL (gateways, then the worker in cluster mode), for /metrics. */
  processUrls: string[];
};

export async function startTestServer(
  overrides: Partial<Config> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? tempDir();
  const base = { PORT: '0', RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_SIGNUPS: '0', LOG_LEVEL: 'warn', WEB_DIR: '', ...env };
  if (CLUSTER) return startTestCluster(base, { ...overrides, dataDir });
  const config = loadConfig(base, { dataDir, ...overrides });
  const server = await startServer(config);
  return Object.assign(server, { dataDir, urls: [server.url], processUrls: [server.url] });
}

// ---- cluster mode -------------------------------------------------------------------------------

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

/** Read barriers per gateway URL: resolve once the persister has written everything logged so far. */
const caughtUp = new Map<string, () => Promise<boolean>>();

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

/**
 * Cluster reads are eventually consistent: the persister writes the store a moment after the log
 * acknowledged the write. In cluster mode this waits until the store has caught up with the log, so
 * a request sees every write acknowledged before it (what the embedded store gives at once); in
 * embedded mode it returns at once. `http()` and `RawSocket.request` (but for sends) call it first.
 */
export async function storeCaughtUp(baseUrl: string): Promise<void> {
  await caughtUp.get(baseUrl)?.();
}

/** Cluster mode: whether the persister caught up with the whole log within 10 s (a stuck record says no). */
export async function persisterCaughtUp(baseUrl: string): Promise<boolean> {
  const barrier = caughtUp.get(baseUrl);
  if (!barrier) throw new Error(`${baseUrl} is not a cluster test deployment`);
  return barrier();
}

/** Retries `check` until it passes (cluster mode only; embedded runs it once), then returns its value. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5000): Promise<T> {
  if (!CLUSTER) return check();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(25);
    }
  }
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

export interface HttpAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny HTTP client bound to one server and, optionally, one API key. */
export function http(baseUrl: string, apiKey?: string) {
  return async function call<T = any>(
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer<T>> {
    const init: RequestInit = {
      method,
      headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
    };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    if (CLUSTER) await storeCaughtUp(baseUrl);
    const res = await fetch(baseUrl + url, init);
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* keep the text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
}

let counter = 0;
export function uniqueName(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestUser {
  id: string;
  username: string;
  apiKey: string;
  call: ReturnType<typeof http>;
}

export async function signUp(baseUrl: string, username = uniqueName(), displayName?: string): Promise<TestUser> {
  const res = await http(baseUrl)('POST', '/v1/users', { username, ...(displayName ? { displayName } : {}) });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, username, apiKey: res.body.apiKey, call: http(baseUrl, res.body.apiKey) };
}

export async function directChat(a: TestUser, b: TestUser): Promise<string> {
  const res = await a.call('POST', '/v1/conversations', { memberIds: [b.id] });
  return res.body.conversation.id;
}

/** A raw WebSocket client that records every frame, for tests of the wire itself. */
export class RawSocket {
  readonly frames: ServerFrame[] = [];
  closeCode: number | null = null;
  private readonly ws: WebSocket;
  private waiters: (() => void)[] = [];
  private nextId = 1;

  constructor(
    private readonly baseUrl: string,
    headers: Record<string, string> = {},
    opts: { autoPong?: boolean } = {},
  ) {
    this.ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/ws`, { headers, autoPong: opts.autoPong ?? true });
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as ServerFrame);
      this.wake();
    });
    this.ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    this.ws.on('error', () => this.wake());
  }

  static async open(baseUrl: string, apiKey: string, opts: { autoPong?: boolean } = {}): Promise<RawSocket> {
    const socket = new RawSocket(baseUrl, {}, opts);
    await socket.opened();
    socket.sendJson({ type: 'auth', token: apiKey });
    await socket.waitFor((f) => f.type === 'ready');
    return socket;
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  sendJson(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  async request(type: string, fields: Record<string, unknown> = {}): Promise<Extract<ServerFrame, { type: 'reply' }>> {
    const id = `r${this.nextId++}`;
    // Sends go at once, in call order (their order is under test); other requests read state.
    if (CLUSTER && type !== 'send' && type !== 'ping') await storeCaughtUp(this.baseUrl);
    this.sendJson({ type, id, ...fields });
    return (await this.waitFor((f) => f.type === 'reply' && f.id === id)) as Extract<ServerFrame, { type: 'reply' }>;
  }

  events(type?: string): any[] {
    return this.frames
      .filter((f) => f.type === 'event' && (!type || f.event.type === type))
      .map((f) => (f as any).event);
  }

  async waitFor(predicate: (f: ServerFrame) => boolean, timeoutMs = 5000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      if (this.closeCode !== null) throw new Error(`socket closed (${this.closeCode}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitForEvent(type: string, predicate: (e: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    const frame = await this.waitFor(
      (f) => f.type === 'event' && f.event.type === type && predicate(f.event),
      timeoutMs,
    );
    return (frame as any).event;
  }

  async waitClosed(timeoutMs = 15000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.closeCode === null) throw new Error('socket did not close');
    return this.closeCode;
  }

  close(): void {
    this.ws.close();
  }

  /** Closes cleanly and waits for the server's close frame. */
  async closeAndWait(): Promise<void> {
    if (this.closeCode !== null) return;
    this.ws.close(1000);
    await this.waitClosed(5000);
  }

  /** Lets in-flight frames arrive, then returns the events of `type` seen so far. */
  async settle(type?: string, ms = 150): Promise<any[]> {
    await sleep(ms);
    return this.events(type);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Asserts the contract's error shape: exact status and code, a human message. */
export function expectError(res: HttpAnswer, status: number, code: string): void {
  if (res.status !== status || res.body?.error?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
  const keys = Object.keys(res.body).join(',');
  if (keys !== 'error' || typeof res.body.error.message !== 'string' || res.body.error.message.length === 0) {
    throw new Error(`not the contract's error body: ${JSON.stringify(res.body)}`);
  }
}

/** Sends over HTTP and returns the stored message; throws unless the answer is 201. */
export async function sendHttp(
  user: TestUser,
  conversationId: string,
  body: string,
  clientMsgId = uniqueName('c'),
): Promise<any> {
  const res = await user.call('POST', `/v1/conversations/${conversationId}/messages`, { clientMsgId, body });
  if (res.status !== 201) throw new Error(`send failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.message;
}

export async function createGroup(creator: TestUser, members: TestUser[], title = 'group'): Promise<string> {
  const res = await creator.call('POST', '/v1/conversations', { memberIds: members.map((m) => m.id), title });
  if (res.status !== 201) throw new Error(`group failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.conversation.id;
}

/** The status line of a WebSocket upgrade: 101 when accepted, else what the server answered. */
export function upgradeStatus(baseUrl: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/ws`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', reject);
  });
}

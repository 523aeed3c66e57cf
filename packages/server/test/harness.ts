// Test harness: a real server on an ephemeral port with its own SQLite directory, plus helpers to
// call it over real HTTP and WebSocket. Used by every integration test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import type { ServerFrame } from '@messenger/protocol';
import { loadConfig, type Config } from '../src/config/config.js';
import { startServer, type RunningServer } from '../src/server.js';

export function tempDir(prefix = 'messenger-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestServer(overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = {}): Promise<RunningServer & { dataDir: string }> {
  const dataDir = overrides.dataDir ?? tempDir();
  const config = loadConfig({ PORT: '0', RATE_LIMIT_MESSAGES: '0', RATE_LIMIT_SIGNUPS: '0', LOG_LEVEL: 'warn', WEB_DIR: '', ...env }, { dataDir, ...overrides });
  const server = await startServer(config);
  return Object.assign(server, { dataDir });
}

export interface HttpAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny HTTP client bound to one server and, optionally, one API key. */
export function http(baseUrl: string, apiKey?: string) {
  return async function call<T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer<T>> {
    const init: RequestInit = { method, headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
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

  constructor(baseUrl: string, headers: Record<string, string> = {}, opts: { autoPong?: boolean } = {}) {
    this.ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/v1/ws', { headers, autoPong: opts.autoPong ?? true });
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
    this.sendJson({ type, id, ...fields });
    return (await this.waitFor((f) => f.type === 'reply' && f.id === id)) as Extract<ServerFrame, { type: 'reply' }>;
  }

  events(type?: string): any[] {
    return this.frames.filter((f) => f.type === 'event' && (!type || f.event.type === type)).map((f) => (f as any).event);
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
    const frame = await this.waitFor((f) => f.type === 'event' && f.event.type === type && predicate(f.event), timeoutMs);
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
export async function sendHttp(user: TestUser, conversationId: string, body: string, clientMsgId = uniqueName('c')): Promise<any> {
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
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/v1/ws', { headers });
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

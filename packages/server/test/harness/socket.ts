// The WebSocket side of a test client: a raw socket that records every frame, for tests of the wire
// itself, and the status of a bare upgrade.
import type { ServerFrame } from '@messenger/protocol';
import { WebSocket } from 'ws';
import { CLUSTER } from '../deployment.mjs';
import { storeCaughtUp } from './read-barrier.js';
import { sleep } from './wait.js';

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

// Close code 4429 (over a limit) makes the client wait before reconnecting; other codes retry on the usual backoff.
import { CLOSE_CODES } from '@messenger/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { MessengerClient } from './client.js';

const servers: WebSocketServer[] = [];
const clients: MessengerClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A server that closes every socket with `code` on its auth frame; resolves the times of the first `n` connections. */
async function closingServer(code: number, n: number): Promise<{ url: string; times: Promise<number[]> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await new Promise((resolve) => wss.once('listening', resolve));
  const times: number[] = [];
  const done = new Promise<number[]>((resolve) =>
    wss.on('connection', (socket) => {
      times.push(performance.now());
      if (times.length === n) resolve(times);
      socket.once('message', () => socket.close(code, 'limit'));
    }),
  );
  const { port } = wss.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, times: done };
}

function connect(url: string): void {
  const c = new MessengerClient({
    baseUrl: url,
    apiKey: 'k',
    WebSocket,
    reconnect: { minDelayMs: 10, maxDelayMs: 400 },
  });
  clients.push(c);
  c.connect().catch(() => undefined);
}

describe('reconnecting after a close', () => {
  it('waits at least the backoff ceiling after 4429, and keeps reconnecting', async () => {
    const { url, times } = await closingServer(CLOSE_CODES.rateLimited, 3);
    connect(url);
    const [a, b, c] = await times;
    expect(b! - a!).toBeGreaterThanOrEqual(390);
    expect(c! - b!).toBeGreaterThanOrEqual(390);
  });

  it('retries at once-ish after 4503 (going away)', async () => {
    const { url, times } = await closingServer(CLOSE_CODES.goingAway, 2);
    connect(url);
    const [a, b] = await times;
    expect(b! - a!).toBeLessThan(390);
  });
});

// SIGTERM drains the real process (node dist/main.js): sockets are told to reconnect elsewhere
// (4503), and connections that never finished a request cannot hold the exit past 10 s.
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '@messenger/protocol';
import { RawSocket, signUp, tempDir } from './harness.js';
import { freePort, ServerProcess } from './process.js';

let proc: ServerProcess | null = null;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await proc?.kill();
  proc = null;
});

async function rawConnection(port: number, send?: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  sockets.push(socket);
  await once(socket, 'connect');
  if (send) socket.write(send);
  return socket;
}

describe('SIGTERM', () => {
  it('closes sockets with 4503 and exits 0 within 10 s, even with connections that never finished a request', async () => {
    const port = await freePort();
    proc = new ServerProcess(port, { DATA_DIR: tempDir('drain-') });
    await proc.start();
    const ann = await signUp(proc.url);
    const ws = await RawSocket.open(proc.url, ann.apiKey);
    // A client cut off right after connecting, and one cut off in the middle of its request headers:
    // Node's close() counts neither as idle and would wait for its 60 s headers timeout.
    await rawConnection(port);
    await rawConnection(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const child = proc.child!;
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = await exited;
    const took = Date.now() - started;
    expect(ws.closeCode).toBe(CLOSE_CODES.goingAway);
    // Not the 10 s safety net of main.ts (exit code 1): the drain itself finished.
    expect(code).toBe(0);
    expect(took).toBeLessThan(10_000);
    proc.child = null;
  });
});

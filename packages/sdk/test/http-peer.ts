// A scripted HTTP peer on 127.0.0.1 for the HttpApi tests: it records every request and answers
// with what the test set. Its hooks start it before the file's tests, reset it before each (no
// requests seen, 204 to everything) and close it after them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';

export interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: unknown;
}

export type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

export interface HttpPeer {
  /** http://127.0.0.1:port, without a trailing slash. */
  url: string;
  seen: Seen[];
  answer(request: Seen): Answer;
}

export function scriptedHttpPeer(): HttpPeer {
  const peer: HttpPeer = { url: '', seen: [], answer: () => ({ status: 204 }) };
  let server: Server;
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const entry = {
        method: req.method!,
        url: req.url!,
        auth: req.headers.authorization,
        body: raw ? JSON.parse(raw) : undefined,
      };
      peer.seen.push(entry);
      const a = peer.answer(entry);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body === undefined ? '' : JSON.stringify(a.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    peer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    peer.seen = [];
    peer.answer = () => ({ status: 204 });
  });
  return peer;
}

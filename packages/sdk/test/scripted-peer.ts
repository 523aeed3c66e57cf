// A scripted peer standing in for the server in the SDK's own tests: it speaks just the frames and
// endpoints the client uses, on a real socket. The real server's integration tests live with the server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Conversation, Message, ServerEvent } from '@messenger/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { aConversation, aMessage } from './fixtures.js';

export type SendBehaviour =
  | 'reply'
  | 'drop-socket'
  | 'ignore'
  | { code: string; message: string; retryAfterMs?: number };

interface Frame {
  type: string;
  id?: number;
  [key: string]: unknown;
}

export class ScriptedPeer {
  readonly keys = new Map<string, string>([['key-u1', 'u1']]);
  readonly history = new Map<string, Message[]>();
  /** Every frame every socket sent, in arrival order. */
  readonly frames: Frame[] = [];
  connections = 0;
  /** Decides the fate of each `send` request; the default stores and replies. */
  onSend: (frame: Frame) => SendBehaviour = () => 'reply';
  /** When false, requests other than `send` get no reply (a stalled server). */
  answerRequests = true;
  /** The next this many HTTP requests answer 503 `unavailable` (a store that is behind, say). */
  httpFailures = 0;
  /** HTTP requests answered, 503s included. */
  httpRequests = 0;
  /** u1's `deliveredSeq` per conversation, as the `delivered` frames (or a test) set it; listed in `members`. */
  readonly deliveredSeq = new Map<string, number>();
  readonly #sockets = new Set<WebSocket>();
  readonly #authed = new Set<WebSocket>();
  /** The credential each authenticated socket used, so that revoke() closes just its sockets. */
  readonly #tokenOf = new Map<WebSocket, string>();
  #http!: Server;
  #wss!: WebSocketServer;

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.#http.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.#http = createServer((req, res) => this.#onHttp(req, res));
    this.#wss = new WebSocketServer({ server: this.#http, path: '/v1/ws' });
    this.#wss.on('connection', (socket) => this.#onSocket(socket));
    await new Promise<void>((resolve) => this.#http.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    // fetch keeps its connections alive; without this close() waits for their idle timeout.
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  get openSockets(): number {
    return this.#authed.size;
  }

  framesOf(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /** Stores a message; pushes `message.created` to every authenticated socket unless `live` is false (sent while the client was away). */
  publish(
    conversationId: string,
    senderId: string,
    body: string,
    live = true,
    clientMsgId = `peer-${Math.random()}`,
  ): Message {
    const list = this.history.get(conversationId) ?? [];
    const seq = list.length + 1;
    const message = aMessage({
      id: `m-${conversationId}-${seq}`,
      conversationId,
      seq,
      senderId,
      clientMsgId,
      body,
      createdAt: new Date().toISOString(),
    });
    list.push(message);
    this.history.set(conversationId, list);
    if (live) this.push({ type: 'message.created', conversationId, message });
    return message;
  }

  push(event: ServerEvent): void {
    this.raw({ type: 'event', event });
  }

  raw(frame: unknown): void {
    for (const socket of this.#authed) socket.send(JSON.stringify(frame));
  }

  /** The session ended elsewhere: the token answers 401 from now on and its sockets close with 4401. */
  revoke(token: string): void {
    this.keys.delete(token);
    for (const [socket, t] of this.#tokenOf) if (t === token) socket.close(4401, 'session ended');
  }

  /** An abrupt network loss: no close handshake. */
  dropAll(): void {
    for (const socket of this.#sockets) socket.terminate();
  }

  #onSocket(socket: WebSocket): void {
    this.connections++;
    this.#sockets.add(socket);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#authed.delete(socket);
      this.#tokenOf.delete(socket);
    });
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      this.frames.push(frame);
      if (!this.#authed.has(socket)) {
        const userId = frame.type === 'auth' ? this.keys.get(String(frame.token)) : undefined;
        if (!userId) return socket.close(4401, 'unauthenticated');
        this.#authed.add(socket);
        this.#tokenOf.set(socket, String(frame.token));
        return socket.send(JSON.stringify({ type: 'ready', userId, sessionId: `s${this.connections}` }));
      }
      const reply = (body: object) => socket.send(JSON.stringify({ type: 'reply', id: frame.id, ...body }));
      if (frame.type !== 'send') {
        if (frame.type === 'delivered' && this.answerRequests) {
          const cid = String(frame.conversationId);
          this.deliveredSeq.set(cid, Math.max(this.deliveredSeq.get(cid) ?? 0, Number(frame.seq)));
        }
        if (this.answerRequests) reply({ ok: true, result: {} });
        return;
      }
      const behaviour = this.onSend(frame);
      if (behaviour === 'drop-socket') return socket.terminate();
      if (behaviour === 'ignore') return;
      if (typeof behaviour === 'object') return reply({ ok: false, error: behaviour });
      reply({ ok: true, result: { message: this.#store(frame) } });
    });
  }

  /** Idempotent on clientMsgId, like the real send. */
  #store(frame: Frame): Message {
    const conversationId = String(frame.conversationId);
    const existing = (this.history.get(conversationId) ?? []).find((m) => m.clientMsgId === frame.clientMsgId);
    return existing ?? this.publish(conversationId, 'u1', String(frame.body), true, String(frame.clientMsgId));
  }

  #onHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const token = String(req.headers.authorization).replace('Bearer ', '');
    if (!this.keys.has(token)) {
      return json(401, { error: { code: 'unauthenticated', message: 'bad key' } });
    }
    this.httpRequests++;
    if (req.method === 'DELETE' && url.pathname === '/v1/sessions/current') {
      this.revoke(token);
      res.writeHead(204).end();
      return;
    }
    // This peer holds no message requests; that listing never counts among the scripted failures.
    if (url.pathname === '/v1/conversations' && url.searchParams.get('requests') === 'true')
      return json(200, { conversations: [], nextCursor: null });
    if (this.httpFailures > 0) {
      this.httpFailures--;
      return json(503, { error: { code: 'unavailable', message: 'the store is catching up' } });
    }
    if (url.pathname === '/v1/conversations') {
      const conversations: Conversation[] = [...this.history].map(([id, list]) =>
        aConversation({
          id,
          lastSeq: list.length,
          members: [
            {
              userId: 'u1',
              username: 'u1',
              displayName: 'U1',
              readSeq: 0,
              deliveredSeq: this.deliveredSeq.get(id) ?? 0,
              role: 'member',
            },
            { userId: 'u2', username: 'u2', displayName: 'U2', readSeq: 0, deliveredSeq: list.length, role: 'member' },
          ],
          lastMessage: list.at(-1) ?? null,
        }),
      );
      return json(200, { conversations, nextCursor: null });
    }
    const m = /^\/v1\/conversations\/([^/]+)\/messages$/.exec(url.pathname);
    if (m) {
      const after = Number(url.searchParams.get('afterSeq') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const messages = (this.history.get(decodeURIComponent(m[1]!)) ?? []).filter((x) => x.seq > after).slice(0, limit);
      return json(200, { messages });
    }
    json(404, { error: { code: 'not_found', message: 'no route' } });
  }
}

export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// One WebSocket's lifetime: auth handshake, request/reply matching, keepalive. Reconnecting is the client's job.
import {
  CLOSE_CODES,
  type ClientRequest,
  type ClientRequestType,
  type RequestResults,
  type ServerEvent,
} from '@messenger/protocol';
import { MessengerError, errorFromReply } from './errors.js';

/**
 * What the SDK needs of a WebSocket. Browsers' WebSocket and the `ws` package both fit; text
 * frames arrive as strings in both.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // biome-ignore lint/suspicious/noExplicitAny: browsers' WebSocket and ws type their events differently
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: any) => void): void;
}

export type WebSocketCtor = new (url: string) => WebSocketLike;

export type RequestFields<T extends ClientRequestType> = Omit<Extract<ClientRequest, { type: T }>, 'type' | 'id'>;

export interface ReadyInfo {
  userId: string;
  sessionId: string;
}

export interface ConnectionDeps {
  WebSocket: WebSocketCtor;
  url: string;
  apiKey: string;
  /** Also bounds the wait for `ready` after the socket was created. */
  requestTimeoutMs: number;
  pingIntervalMs: number;
  /** No frame at all for this long: the path is dead even if TCP has not noticed. */
  idleTimeoutMs: number;
  onReady(info: ReadyInfo): void;
  onEvent(event: ServerEvent): void;
  /** Called exactly once, whoever closed the socket. */
  onClose(code: number, reason: string): void;
}

interface PendingRequest {
  resolve(result: unknown): void;
  reject(error: MessengerError): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The code reported when this side gives up on a silent socket; the server uses it for the same case. */
const GAVE_UP = CLOSE_CODES.timeout;
const OPEN = 1;

export class Connection {
  readonly #deps: ConnectionDeps;
  readonly #pending = new Map<number, PendingRequest>();
  #socket: WebSocketLike | undefined;
  #nextId = 1;
  #ready = false;
  #closed = false;
  #lastFrameAt = Date.now();
  #timers: Array<ReturnType<typeof setTimeout>> = [];
  #intervals: Array<ReturnType<typeof setInterval>> = [];
  #socketGone!: () => void;
  readonly #socketGonePromise = new Promise<void>((resolve) => (this.#socketGone = resolve));

  constructor(deps: ConnectionDeps) {
    this.#deps = deps;
    try {
      this.#socket = new deps.WebSocket(deps.url);
    } catch (error) {
      // A bad URL throws synchronously; report it like any failed connect, after the caller has the object.
      queueMicrotask(() => this.#finish(1006, (error as Error)?.message ?? 'cannot open socket'));
      this.#socketGone();
      return;
    }
    const socket = this.#socket;
    socket.addEventListener('open', () => this.#sendRaw({ type: 'auth', token: deps.apiKey }));
    socket.addEventListener('message', (event: { data: unknown }) => this.#onMessage(event.data));
    socket.addEventListener('close', (event: { code?: number; reason?: string }) => {
      this.#socketGone();
      this.#finish(event.code ?? 1006, event.reason ?? '');
    });
    // Without a listener the `ws` package throws on errors; a close event always follows one.
    socket.addEventListener('error', () => {});
    this.#timers.push(setTimeout(() => this.#ready || this.close(GAVE_UP, 'no ready in time'), deps.requestTimeoutMs));
  }

  get ready(): boolean {
    return this.#ready && !this.#closed;
  }

  request<T extends ClientRequestType>(
    type: T,
    fields: RequestFields<T>,
    timeoutMs = this.#deps.requestTimeoutMs,
  ): Promise<RequestResults[T]> {
    if (!this.ready) return Promise.reject(new MessengerError('unavailable', 'not connected'));
    const id = this.#nextId++;
    return new Promise<RequestResults[T]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new MessengerError('unavailable', `${type} request timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (result: unknown) => void, reject, timer });
      if (!this.#sendRaw({ ...fields, type, id })) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new MessengerError('unavailable', 'socket not open'));
      }
    });
  }

  /** Reports `code` to onClose at once rather than waiting for a closing handshake a dead peer never answers. */
  close(code = 1000, reason = ''): void {
    if (this.#closed) return;
    try {
      this.#socket?.close(code, reason);
    } catch {
      // Closing a socket that never opened can throw in some runtimes; it is gone either way.
    }
    this.#finish(code, reason);
  }

  /** Resolves when the socket itself reports closed, or after `timeoutMs` for a peer that never answers the close. */
  socketClosed(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    return Promise.race([this.#socketGonePromise, timeout]).finally(() => clearTimeout(timer));
  }

  #onMessage(data: unknown): void {
    if (this.#closed) return;
    this.#lastFrameAt = Date.now();
    if (typeof data !== 'string') return;
    let frame: { type?: unknown; [key: string]: unknown };
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    switch (frame.type) {
      case 'ready':
        return this.#onReady(frame as unknown as ReadyInfo);
      case 'reply':
        return this.#onReply(frame as { id?: unknown; ok?: unknown; result?: unknown; error?: unknown });
      case 'event': {
        const event = frame.event as ServerEvent | undefined;
        // Events before ready would slip past the catch-up that ready starts.
        if (this.#ready && typeof event?.type === 'string') this.#deps.onEvent(event);
        return;
      }
      default:
        // Newer servers may add frame types; an old client ignores what it does not know.
        return;
    }
  }

  #onReady(info: ReadyInfo): void {
    if (this.#ready || typeof info.userId !== 'string') return;
    this.#ready = true;
    const { pingIntervalMs, idleTimeoutMs } = this.#deps;
    this.#intervals.push(setInterval(() => this.request('ping', {}).catch(() => {}), pingIntervalMs));
    this.#intervals.push(
      setInterval(
        () => {
          if (Date.now() - this.#lastFrameAt > idleTimeoutMs) this.close(GAVE_UP, 'no frame in time');
        },
        Math.min(5000, Math.max(10, Math.floor(idleTimeoutMs / 4))),
      ),
    );
    this.#deps.onReady({ userId: info.userId, sessionId: String(info.sessionId) });
  }

  #onReply(frame: { id?: unknown; ok?: unknown; result?: unknown; error?: unknown }): void {
    if (typeof frame.id !== 'number') return;
    const pending = this.#pending.get(frame.id);
    if (!pending) return;
    this.#pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.ok === true) pending.resolve(frame.result ?? {});
    else pending.reject(errorFromReply(frame.error));
  }

  #sendRaw(frame: object): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) return false;
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    for (const interval of this.#intervals) clearInterval(interval);
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new MessengerError('unavailable', 'connection closed'));
    }
    this.#pending.clear();
    this.#deps.onClose(code, reason);
  }
}

/** `http(s)://host/prefix` -> `ws(s)://host/prefix/v1/ws`; a relative base resolves against the page. */
export function webSocketUrl(baseUrl: string): string {
  const location = (globalThis as { location?: { href: string } }).location;
  const url = location ? new URL(baseUrl || '/', location.href) : new URL(baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/ws`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

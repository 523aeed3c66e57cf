// Connecting a MessengerClient: the connect() calls waiting for a ready, the WebSocket class and URL
// its options give, and how long it waits before reconnecting after a socket closed.
import { CLOSE_CODES, RATE_LIMITED_RECONNECT_MS } from '@messenger/protocol';
import type { Backoff } from './backoff.js';
import type { MessengerClientOptions } from './client-types.js';
import { webSocketUrl, type WebSocketCtor } from './connection.js';

/** The promises of connect() calls, settled together by the next ready or failure. */
export class ConnectWaiters {
  #waiters: Array<{ resolve(): void; reject(e: unknown): void }> = [];

  add(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  settle(error?: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}

/** What a socket is opened with, or why none can be: a failure that retrying will not fix. */
export function socketTarget(
  opts: MessengerClientOptions,
): { WebSocket: WebSocketCtor; url: string } | { error: unknown } {
  const WebSocketImpl = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  if (!WebSocketImpl) {
    return {
      error: new Error('no WebSocket implementation: pass the `WebSocket` option (on Node 20, the `ws` package)'),
    };
  }
  try {
    return { WebSocket: WebSocketImpl, url: webSocketUrl(opts.baseUrl) };
  } catch (error) {
    // A malformed baseUrl will not get better by retrying.
    return { error };
  }
}

/** The wait before reopening a socket that closed with `code`; takes the backoff's next step. */
export function reconnectDelay(backoff: Backoff, code: number): number {
  // Closed for a limit (too many sockets, a flood of frames): the backoff may have been reset by
  // a stable connection, and a quick retry meets the same limit, so wait at least a few seconds.
  const delay = backoff.next();
  const floor = code === CLOSE_CODES.rateLimited ? Math.min(RATE_LIMITED_RECONNECT_MS, backoff.maxDelayMs) : 0;
  return Math.max(delay, floor + delay / 2);
}

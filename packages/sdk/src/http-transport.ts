// The HTTP calls under HttpApi and SafetyApi: the Bearer credential, JSON bodies and answers, the
// query string, and errors as MessengerError (a 401 of an authenticated call also reported).
import { MessengerError, errorFromBody, parseRetryAfter } from './errors.js';
import type { FetchLike } from './http-api.js';

export type Query = Record<string, string | number | undefined>;

export interface CallOptions {
  body?: unknown;
  query?: Query;
  auth?: boolean;
  /** A 401 here is an answer, not news: do not call onUnauthenticated (signing out a session that already ended). */
  expect401?: boolean;
}

export interface HttpTransportOptions {
  /** Without a trailing slash. */
  base: string;
  credential: string;
  fetch: FetchLike;
  onUnauthenticated?: ((error: MessengerError) => void) | undefined;
}

export class HttpTransport {
  readonly #base: string;
  readonly #credential: string;
  readonly #fetch: FetchLike;
  readonly #onUnauthenticated: ((error: MessengerError) => void) | undefined;

  constructor(opts: HttpTransportOptions) {
    this.#base = opts.base;
    this.#credential = opts.credential;
    this.#fetch = opts.fetch;
    this.#onUnauthenticated = opts.onUnauthenticated;
  }

  async json<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    const { data } = await this.call<T>(method, path, opts);
    if (data === undefined) throw new MessengerError('unavailable', `${method} ${path}: empty answer`);
    return data;
  }

  async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<{ status: number; data: T }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.auth !== false) headers.authorization = `Bearer ${this.#credential}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.#fetch(this.#base + path + queryString(opts.query), {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      });
    } catch (cause) {
      // The network failed before any answer: the contract's "safe to retry" code fits.
      throw new MessengerError('unavailable', `${method} ${path}: ${(cause as Error)?.message ?? 'network error'}`, {
        cause,
      });
    }
    const text = await response.text().catch(() => '');
    let data: unknown;
    if (text !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        data = undefined;
      }
    }
    if (!response.ok) {
      const error = errorFromBody(response.status, data, parseRetryAfter(response.headers.get('retry-after')));
      if (response.status === 401 && opts.auth !== false && !opts.expect401) this.#onUnauthenticated?.(error);
      throw error;
    }
    return { status: response.status, data: data as T };
  }
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

// The one error type the SDK rejects with, built from HTTP answers, WebSocket replies and local failures.
import { ERROR_STATUS, isErrorCode, type ErrorCode } from '@messenger/protocol';

export class MessengerError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status when there was an HTTP answer, else the status the contract gives `code`. */
  readonly status: number;
  readonly retryAfterMs?: number;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MessengerError';
    this.code = code;
    this.status = opts.status ?? ERROR_STATUS[code];
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }

  /** Whether sending the same thing again (same clientMsgId) may succeed. */
  get retryable(): boolean {
    return this.code === 'unavailable' || this.code === 'rate_limited';
  }
}

/** A server that answers a code outside the contract still gets a sensible code from its status. */
export function codeForStatus(status: number): ErrorCode {
  for (const [code, s] of Object.entries(ERROR_STATUS)) if (s === status) return code as ErrorCode;
  if (status >= 500) return 'unavailable';
  return 'invalid_request';
}

/** Reads `{error: {code, message}}` (or anything else a proxy may answer) into a MessengerError. */
export function errorFromBody(status: number, body: unknown, retryAfterMs?: number): MessengerError {
  const error = (body as { error?: { code?: unknown; message?: unknown; retryAfterMs?: unknown } } | null)?.error;
  const code = isErrorCode(error?.code) ? error.code : codeForStatus(status);
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  // WebSocket replies have no headers, so a server may put the delay in the body; the header wins.
  const bodyDelay = typeof error?.retryAfterMs === 'number' ? error.retryAfterMs : undefined;
  const delay = retryAfterMs ?? bodyDelay;
  return new MessengerError(code, message, delay === undefined ? { status } : { status, retryAfterMs: delay });
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 10.2.3). */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A WebSocket reply's `error` has no HTTP status; the contract's table gives it one. */
export function errorFromReply(error: unknown): MessengerError {
  const code = (error as { code?: unknown } | null)?.code;
  return errorFromBody(isErrorCode(code) ? ERROR_STATUS[code] : 503, { error });
}

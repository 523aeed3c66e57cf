// Error codes of the v1 contract and the HTTP status each one maps to.

export const ERROR_STATUS = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  message_too_big: 413,
  rate_limited: 429,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** Added to v1 for WebSocket replies, which have no Retry-After header: set with rate_limited. */
  retryAfterMs?: number;
}

/** The body of every error answer: `{"error": {code, message}}`. */
export interface ErrorResponse {
  error: ErrorBody;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

/** WebSocket close codes. Only 4401 means "do not reconnect with the same credentials" (shouldReconnect). */
export const CLOSE_CODES = {
  /** Wrong token or no auth frame within the deadline. Do not reconnect until the key changes. */
  unauthenticated: 4401,
  /** The socket fell behind its bounded send buffer. Reconnect and catch up. */
  slowConsumer: 4408,
  /**
   * Over a limit: too many sockets for the user or the address, or frames far past the per-socket
   * rate. Reconnect, but only after a backoff of several seconds: at once would meet the same limit.
   */
  rateLimited: 4429,
  /** The gateway is draining (shutdown, deploy). Reconnect, possibly elsewhere. */
  goingAway: 4503,
  /** The socket stopped answering pings. */
  timeout: 4504,
} as const;

/** Whether a client should reconnect after the server closed its socket with `code`. */
export function shouldReconnect(code: number): boolean {
  return code !== CLOSE_CODES.unauthenticated;
}

/** After a 4429 close a client waits at least this long before it reconnects. */
export const RATE_LIMITED_RECONNECT_MS = 5_000;

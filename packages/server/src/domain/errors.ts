// The one error type use cases throw; the edges turn it into the contract's error body.
import { ERROR_STATUS, type ErrorCode } from '@messenger/protocol';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, retryAfterSeconds?: number) {
    super(message);
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what = 'conversation') => new AppError('not_found', `${what} not found`);
export const invalid = (message: string) => new AppError('invalid_request', message);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const unavailable = (message = 'a backing service is unavailable; retry with the same clientMsgId') =>
  new AppError('unavailable', message);

import { describe, expect, it } from 'vitest';
import { MessengerError, errorFromBody, errorFromReply, parseRetryAfter } from './errors.js';

describe('errors', () => {
  it('reads the contract error body, with Retry-After as milliseconds', () => {
    const error = errorFromBody(429, { error: { code: 'rate_limited', message: 'slow down' } }, parseRetryAfter('3'));
    expect(error).toBeInstanceOf(MessengerError);
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryAfterMs: 3000, message: 'slow down' });
    expect(error.retryable).toBe(true);
  });

  it('falls back to the status when the body is not the contract (a proxy page, say)', () => {
    expect(errorFromBody(502, '<html>bad gateway</html>')).toMatchObject({ code: 'unavailable', status: 502 });
    expect(errorFromBody(404, undefined)).toMatchObject({ code: 'not_found', status: 404 });
    expect(errorFromBody(418, { error: { code: 'teapot', message: 'x' } })).toMatchObject({
      code: 'invalid_request',
      status: 418,
    });
  });

  it('parses both forms of Retry-After', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('gives WebSocket reply errors the status of their code', () => {
    expect(errorFromReply({ code: 'forbidden', message: 'no' })).toMatchObject({ code: 'forbidden', status: 403 });
    expect(errorFromReply({ code: 'rate_limited', message: 'x', retryAfterMs: 250 })).toMatchObject({
      retryAfterMs: 250,
    });
  });
});

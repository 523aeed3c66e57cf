import { describe, expect, it } from 'vitest';
import { MessengerError } from '@messenger/sdk';
import { errorMessage } from './errors.js';

describe('errorMessage', () => {
  const byCode = { forbidden: 'Only admins can do that.' };

  it("reads the message for the error's code", () => {
    expect(errorMessage(new MessengerError('forbidden', 'not an admin'), byCode, 'Try again.')).toBe(
      'Only admins can do that.',
    );
  });

  it('falls back for another code, no code, or no error object', () => {
    for (const error of [{ code: 'rate_limited' }, { code: 'constructor' }, new TypeError('fetch failed'), null, 'x'])
      expect(errorMessage(error, byCode, 'Try again.')).toBe('Try again.');
  });
});

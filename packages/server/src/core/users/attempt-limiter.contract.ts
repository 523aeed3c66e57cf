// The AttemptLimiter contract: memory and Redis run this suite unchanged (real time, short windows).
import { expect, it } from 'vitest';
import { describeFresh, uniqueName } from '../close-after-each.contract.js';
import type { AttemptLimiter } from './attempt-limiter.js';

export function attemptLimiterContract(name: string, open: () => Promise<AttemptLimiter>): void {
  describeFresh(`AttemptLimiter contract: ${name}`, { open }, (fresh) => {
    const key = () => uniqueName('k');

    it('counts attempts up to the limit, then answers the time left in the window', async () => {
      const limiter = await fresh();
      const k = key();
      for (let i = 0; i < 3; i++) expect(await limiter.take(k, 3, 60_000)).toBe(0);
      const wait = await limiter.take(k, 3, 60_000);
      expect(wait).toBeGreaterThan(55_000);
      expect(wait).toBeLessThanOrEqual(60_000);
      // Other keys are counted apart.
      expect(await limiter.take(key(), 3, 60_000)).toBe(0);
    });

    it('lets the key try again once the window has passed', async () => {
      const limiter = await fresh();
      const k = key();
      expect(await limiter.take(k, 1, 150)).toBe(0);
      expect(await limiter.take(k, 1, 150)).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 250));
      expect(await limiter.take(k, 1, 150)).toBe(0);
    });

    it('does not let concurrent attempts pass the limit together', async () => {
      const limiter = await fresh();
      const k = key();
      const waits = await Promise.all(Array.from({ length: 25 }, () => limiter.take(k, 10, 60_000)));
      expect(waits.filter((w) => w === 0)).toHaveLength(10);
    });

    it('refunds one attempt (never below zero) and resets a key', async () => {
      const limiter = await fresh();
      const k = key();
      expect(await limiter.take(k, 2, 60_000)).toBe(0);
      expect(await limiter.take(k, 2, 60_000)).toBe(0);
      await limiter.refund(k);
      expect(await limiter.take(k, 2, 60_000)).toBe(0);
      expect(await limiter.take(k, 2, 60_000)).toBeGreaterThan(0);
      await limiter.reset(k);
      await limiter.refund(k);
      await limiter.refund(k);
      expect(await limiter.take(k, 2, 60_000)).toBe(0);
      expect(await limiter.take(k, 2, 60_000)).toBe(0);
      expect(await limiter.take(k, 2, 60_000)).toBeGreaterThan(0);
    });
  });
}

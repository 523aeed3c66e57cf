import { describe, expect, it } from 'vitest';
import { Backoff, delayCeiling, jitteredDelay } from './backoff.js';

describe('Backoff', () => {
  it('draws every delay from [0, ceiling], the ceiling doubling from minDelayMs up to maxDelayMs', () => {
    const backoff = new Backoff({ minDelayMs: 500, maxDelayMs: 30_000 });
    const ceilings = [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000];
    for (const [attempt, ceiling] of ceilings.entries()) {
      expect(backoff.ceiling()).toBe(ceiling);
      for (let i = 0; i < 200; i++) {
        const delay = jitteredDelay(attempt, backoff);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });

  it('is full jitter: the extremes of random() reach both ends of the window', () => {
    expect(new Backoff({ minDelayMs: 1000, random: () => 0 }).next()).toBe(0);
    const high = new Backoff({ minDelayMs: 1000, maxDelayMs: 8000, random: () => 0.999999 });
    expect([high.next(), high.next(), high.next(), high.next(), high.next()]).toEqual([999, 1999, 3999, 7999, 7999]);
  });

  it('starts over after reset()', () => {
    const backoff = new Backoff({ minDelayMs: 100, maxDelayMs: 10_000, random: () => 0.5 });
    backoff.next();
    backoff.next();
    backoff.next();
    expect(backoff.ceiling()).toBe(800);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(50);
  });

  it('never overflows after a very long outage', () => {
    const backoff = new Backoff({ minDelayMs: 500, maxDelayMs: 30_000, random: () => 0.5 });
    for (let i = 0; i < 5000; i++) backoff.next();
    expect(backoff.next()).toBe(15_000);
    expect(delayCeiling(10_000, { minDelayMs: 500, maxDelayMs: 30_000 })).toBe(30_000);
  });

  it('defaults to 500 ms and 30 s', () => {
    const backoff = new Backoff();
    expect(backoff.minDelayMs).toBe(500);
    expect(backoff.maxDelayMs).toBe(30_000);
    expect(jitteredDelay(0, backoff, () => 0.999)).toBeLessThan(500);
  });
});

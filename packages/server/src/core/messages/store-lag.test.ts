// StoreLag: the persister's lag per partition from sampled positions, and admission past the bound.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors.js';
import { StoreLag } from './store-lag.js';

function gate(boundMs: number) {
  let clock = 0;
  const lag = new StoreLag({
    log: { positions: async () => [], partitionOf: (id) => (id === 'c0' ? 0 : 1) },
    consumer: 'persister',
    boundMs,
    now: () => clock,
  });
  const at = (ms: number, ...partitions: [pending: number, done: number][]) => {
    clock = ms;
    lag.update(
      partitions.map(([pending, done]) => ({ pending, done })),
      ms,
    );
  };
  return { lag, at };
}

describe('StoreLag', () => {
  it('measures the lag as the backlog at the rate the persister completed it while busy', () => {
    const { lag, at } = gate(2_000);
    at(0, [0, 0], [0, 0]);
    at(200, [1_000, 0], [0, 0]);
    // 500 completed in 200 ms while busy throughout: 2.5 entries per ms; 1,000 left is 400 ms.
    at(400, [1_000, 500], [0, 0]);
    expect(lag.lags()[0]).toEqual({ partition: 0, entries: 1_000, ms: 400 });
    expect(lag.lags()[1]).toEqual({ partition: 1, entries: 0, ms: 0 });
    lag.admit('c0');
    // The backlog grows past what the persister completes in the bound: sends there are refused.
    at(600, [10_000, 1_000], [0, 0]);
    expect(lag.lags()[0]!.ms).toBeGreaterThan(2_000);
    let refused: unknown;
    try {
      lag.admit('c0');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'unavailable' });
    expect((refused as AppError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Another partition's conversations are not held back.
    lag.admit('c1');
  });

  it('grows by itself while the persister completes nothing, and a stale sample admits', () => {
    const { lag, at } = gate(2_000);
    at(0, [5, 10], [0, 0]);
    at(1_000, [5, 10], [0, 0]);
    at(2_500, [5, 10], [0, 0]);
    expect(lag.lags()[0]!.ms).toBe(2_500);
    expect(() => lag.admit('c0')).toThrow(AppError);
    // No sample for long (the log does not answer): admission no longer relies on the old one.
    const stale = new StoreLag({
      log: { positions: async () => [], partitionOf: () => 0 },
      consumer: 'persister',
      boundMs: 2_000,
      now: () => 60_000,
    });
    stale.update([{ pending: 5, done: 10 }], 0);
    stale.update([{ pending: 5, done: 10 }], 9_000);
    stale.admit('c0');
  });
});

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
    // 2,500 completed in two steps of 500 ms while busy: 2.5 entries per ms. The newest of the 1,000
    // left waits 400 ms for the backlog and one step more for the batch that takes it.
    at(700, [1_000, 1_250], [0, 0]);
    at(1_200, [1_000, 2_500], [0, 0]);
    expect(lag.lags()[0]).toEqual({ partition: 0, entries: 1_000, ms: 900 });
    expect(lag.lags()[1]).toEqual({ partition: 1, entries: 0, ms: 0 });
    lag.admit('c0');
    // The backlog grows past what the persister completes in the bound: sends there are refused.
    at(1_400, [10_000, 3_000], [0, 0]);
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

  it('takes a stale capacity no lower than what the persister completes once it kept up for a window', () => {
    const { lag, at } = gate(2_000);
    // A cold store's first second: 100 entries in one step of 1 s, at capacity (0.1 per ms).
    for (let t = 0; t < 1_000; t += 200) at(t, [1_000, 0]);
    at(1_000, [1_000, 100]);
    expect(lag.lags()[0]!.ms).toBeGreaterThan(1_000);
    // Then it keeps up for longer than the window: 40 pending at each sample, completing 100 per
    // 200 ms. 40 entries are not a second of work, and sends are admitted.
    let done = 100;
    for (let t = 1_400; t <= 5_000; t += 200) at(t, [40, (done += 100)]);
    expect(lag.lags()[0]!.ms).toBeLessThan(1_000);
    for (let i = 0; i < 100; i++) lag.admit('c0');
  });

  it('keeps a capacity it measured while the persister keeps up: a burst within it is admitted', () => {
    const { lag, at } = gate(2_000);
    // At capacity for a second: 2 entries per ms.
    at(0, [1_000, 0]);
    at(500, [1_000, 1_000]);
    at(1_000, [1_000, 2_000]);
    // Then little arrives for longer than the window (5 per 200 ms), and a burst of 300 comes:
    // 150 ms of work at the capacity, which the entries-only bound (100) would refuse.
    let done = 2_000;
    for (let t = 1_200; t <= 5_000; t += 200) at(t, [5, (done += 5)]);
    at(5_200, [300, done]);
    expect(lag.lags()[0]!.ms).toBeLessThan(1_000);
    for (let i = 0; i < 100; i++) lag.admit('c0');
  });

  it('admits no more than a small backlog until it has seen the rate of a busy persister', () => {
    const { lag, at } = gate(2_000);
    at(0, [0, 0]);
    at(200, [60, 0]);
    for (let i = 0; i < 40; i++) lag.admit('c0');
    expect(() => lag.admit('c0')).toThrow(AppError);
    // Busy and completing for a second in steps of 500 ms: the rate is known (2 entries per ms), and
    // 1,000 pending (500 ms and a step) admit.
    at(400, [1_000, 0]);
    at(900, [1_000, 1_000]);
    at(1_400, [1_000, 2_000]);
    lag.admit('c0');
  });

  it('admits a persister that keeps up what arrives at its rate in half the bound, before it was ever busy', () => {
    const { lag, at } = gate(2_000);
    at(0, [50, 0]);
    // 200 completed in 200 ms while keeping up: at least 1 entry per ms, so up to 1,000 entries (half
    // the bound at that rate) are admitted, 150 of them pending already. The lag is not guessed from it.
    at(200, [150, 200]);
    expect(lag.lags()[0]).toMatchObject({ entries: 150, ms: 0 });
    for (let i = 0; i < 850; i++) lag.admit('c0');
    expect(() => lag.admit('c0')).toThrow(AppError);
  });

  it('admits a burst into a quiet partition: at least a small backlog, however few arrived before', () => {
    const { lag, at } = gate(2_000);
    at(0, [2, 0]);
    at(200, [0, 2]);
    for (let i = 0; i < 100; i++) lag.admit('c0');
    expect(() => lag.admit('c0')).toThrow(AppError);
  });

  it('closes admission at half the bound', () => {
    const { lag, at } = gate(2_000);
    at(0, [1_000, 0]);
    at(1_000, [1_000, 1_000]);
    // 1 entry per ms in steps of 600 ms: 300 pending is 900 ms; 100 more admitted reach 1,000 ms
    // (half the bound), and the next is refused.
    at(1_200, [300, 1_200]);
    for (let i = 0; i <= 100; i++) lag.admit('c0');
    expect(() => lag.admit('c0')).toThrow(AppError);
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

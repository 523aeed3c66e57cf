import { describe, expect, it } from 'vitest';
import { FrameBudget, SocketCounts } from './limits.js';

describe('SocketCounts', () => {
  it('holds at most the limit per key and frees a place on release', () => {
    const counts = new SocketCounts(2);
    expect([counts.take('a'), counts.take('a'), counts.take('a'), counts.take('b')]).toEqual([true, true, false, true]);
    counts.release('a');
    expect(counts.take('a')).toBe(true);
    expect(counts.take('a')).toBe(false);
  });

  it('0 is unlimited', () => {
    const counts = new SocketCounts(0);
    for (let i = 0; i < 1000; i++) expect(counts.take('a')).toBe(true);
  });
});

describe('FrameBudget', () => {
  it('passes a burst of ten seconds, refuses the next burst, then closes', () => {
    let now = 0;
    const budget = new FrameBudget(2, () => now);
    const verdicts = Array.from({ length: 41 }, () => budget.take());
    expect(verdicts.slice(0, 20).every((v) => v === 'ok')).toBe(true);
    expect(verdicts.slice(20, 40).every((v) => v === 'refuse')).toBe(true);
    expect(verdicts[40]).toBe('close');
    expect(budget.retryAfterSeconds).toBe(1);
    now += 1000;
    expect(budget.take()).not.toBe('refuse');
  });

  it('never closes a socket that keeps to about twice the rate', () => {
    let now = 0;
    const budget = new FrameBudget(5, () => now);
    const verdicts = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      now += 100; // 10 frames a second against 5
      verdicts.add(budget.take());
    }
    expect(verdicts).toEqual(new Set(['ok', 'refuse']));
  });

  it('0 is unlimited', () => {
    const budget = new FrameBudget(0);
    for (let i = 0; i < 1000; i++) expect(budget.take()).toBe('ok');
  });
});

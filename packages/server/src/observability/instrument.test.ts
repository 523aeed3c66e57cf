import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { instrument } from './instrument.js';

describe('instrument', () => {
  it('times sync and async calls per method, passes results and errors through, and wraps each method once', async () => {
    const registry = new Registry();
    const histogram = new Histogram({ name: 't_seconds', help: 't', labelNames: ['op'], registers: [registry] });
    const target = {
      n: 2,
      double(x: number) {
        return x * this.n;
      },
      async later(x: number) {
        return x + this.n;
      },
      async broken(): Promise<never> {
        throw new Error('down');
      },
    };
    const timed = instrument(target, histogram);
    expect(timed.double(3)).toBe(6);
    expect(await timed.later(3)).toBe(5);
    await expect(timed.broken()).rejects.toThrow('down');
    expect(timed.n).toBe(2);
    expect(timed.double).toBe(timed.double);
    const counts = Object.fromEntries(
      (await histogram.get()).values
        .filter((v) => v.metricName === 't_seconds_count')
        .map((v) => [v.labels.op, v.value]),
    );
    expect(counts).toEqual({ double: 1, later: 1, broken: 1 });
  });
});

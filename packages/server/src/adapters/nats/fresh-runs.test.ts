// FreshRuns: concurrent callers share runs, yet every caller gets a run that started after it asked.
import { describe, expect, it } from 'vitest';
import { FreshRuns } from './fresh-runs.js';

describe('FreshRuns', () => {
  it('callers that arrive during a run share the next one; none is answered by a run older than its call', async () => {
    const started: number[] = [];
    let release!: () => void;
    let clock = 0;
    const runs = new FreshRuns(async () => {
      const at = ++clock;
      started.push(at);
      await new Promise<void>((r) => (release = r));
      return at;
    });
    const first = runs.run();
    // These arrive while run 1 is in progress: it began before them, so they all get run 2.
    const during = [runs.run(), runs.run(), runs.run()];
    release();
    expect(await first).toBe(1);
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual([1, 2]);
    const late = runs.run(); // arrives during run 2: gets run 3
    release();
    expect(await Promise.all(during)).toEqual([2, 2, 2]);
    await new Promise((r) => setTimeout(r, 0));
    release();
    expect(await late).toBe(3);
    expect(started).toEqual([1, 2, 3]);
  });

  it('a failed run fails its callers only; the next callers get a fresh run', async () => {
    let n = 0;
    const runs = new FreshRuns(async () => {
      n++;
      if (n === 1) throw new Error('boom');
      return n;
    });
    await expect(runs.run()).rejects.toThrow('boom');
    expect(await runs.run()).toBe(2);
  });
});

// The Revocations contract: in-process and NATS run this suite unchanged.
import { describe, expect, it } from 'vitest';
import { closeAfterEach } from '../close-after-each.contract.js';
import type { Revocations } from './revocations.js';

export interface RevocationsHarness {
  /** Two processes' views of one fresh deployment (the same object twice when in-process). */
  open(): Promise<[Revocations, Revocations]>;
}

const eventually = async (check: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
};

export function revocationsContract(name: string, harness: RevocationsHarness): void {
  describe(`Revocations contract: ${name}`, () => {
    const closing = closeAfterEach();
    const fresh = async () => {
      const pair = await harness.open();
      for (const one of new Set(pair)) closing(one);
      return pair;
    };

    it('reaches every subscriber, the publishing process included', async () => {
      const [a, b] = await fresh();
      const heardA: string[][] = [];
      const heardB: string[][] = [];
      await a.subscribe((ids) => heardA.push(ids));
      await b.subscribe((ids) => heardB.push(ids));
      await a.publish(['d_1', 'k_2']);
      await eventually(() => heardA.length > 0 && heardB.length > 0);
      expect(heardA).toEqual([['d_1', 'k_2']]);
      expect(heardB).toEqual([['d_1', 'k_2']]);
    });

    it('stops delivering to a subscription that was stopped', async () => {
      const [a, b] = await fresh();
      const stopped: string[][] = [];
      const kept: string[][] = [];
      const sub = await b.subscribe((ids) => stopped.push(ids));
      await b.subscribe((ids) => kept.push(ids));
      await sub.stop();
      await a.publish(['d_3']);
      await eventually(() => kept.length > 0);
      expect(kept).toEqual([['d_3']]);
      expect(stopped).toEqual([]);
    });
  });
}

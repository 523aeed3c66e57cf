// The ReportStore contract: SQLite and PostgreSQL run this suite unchanged.
import type { Report } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import { message, type StoreHarness, storeWorlds } from '../store-harness.contract.js';

export function reportStoreContract(name: string, harness: StoreHarness): void {
  describe(`ReportStore contract: ${name}`, () => {
    const world = storeWorlds(harness);

    it('keeps each report with its copy of the message, newest first, up to the limit', async () => {
      const { store, alice, bob, conv, tag } = await world();
      const copy = {
        ...message(conv, bob.id, 1, 'the reported words'),
        reactions: [{ userId: alice.id, emoji: '👍' }],
      };
      const report = (n: number, over: Partial<Report>): Report => ({
        id: `r_${n}_${tag}`,
        reporterId: alice.id,
        conversationId: conv,
        messageId: null,
        userId: null,
        reason: `reason ${n}`,
        message: null,
        createdAt: new Date(Date.UTC(2026, 0, n)).toISOString(),
        ...over,
      });
      await store.reports.createReport(report(1, { messageId: copy.id, userId: bob.id, message: copy }));
      await store.reports.createReport(report(3, { userId: bob.id }));
      await store.reports.createReport(report(2, {}));
      const all = await store.reports.reports(10);
      expect(all.map((r) => r.id)).toEqual([3, 2, 1].map((n) => `r_${n}_${tag}`));
      expect(all[2]).toEqual(report(1, { messageId: copy.id, userId: bob.id, message: copy }));
      expect(all[1]).toEqual(report(2, {}));
      expect((await store.reports.reports(2)).map((r) => r.id)).toEqual([`r_3_${tag}`, `r_2_${tag}`]);
    });
  });
}

// The RecordSink contract (the quarantine side; apply is proven by every suite that reads what it
// wrote): SQLite and PostgreSQL run this suite unchanged.
import { describe, expect, it } from 'vitest';
import { message, record, type StoreHarness, storeWorlds } from '../store-harness.contract.js';

export function recordSinkContract(name: string, harness: StoreHarness): void {
  describe(`RecordSink contract: ${name}`, () => {
    const world = storeWorlds(harness);

    it('quarantines refused records apart, once each, oldest first, and readers never see them', async () => {
      const { store, alice, conv } = await world();
      expect(await store.records.quarantined(10)).toEqual([]);
      const first = record({
        type: 'message.created',
        conversationId: conv,
        message: message(conv, alice.id, 41, 'kept aside'),
      });
      const second = record({
        type: 'reaction.updated',
        conversationId: conv,
        messageId: 'm_x',
        userId: alice.id,
        emoji: '👍',
      });
      await store.records.quarantine(first, 'refused: 22007');
      await store.records.quarantine(second, 'refused: 22021');
      await store.records.quarantine(first, 'refused again');
      const kept = await store.records.quarantined(10);
      expect(kept.map((q) => [q.conversationId, q.pos, q.type, q.reason])).toEqual([
        [conv, first.pos, 'message.created', 'refused: 22007'],
        [conv, second.pos, 'reaction.updated', 'refused: 22021'],
      ]);
      expect(JSON.parse(kept[0]!.record)).toEqual(first);
      expect(Number.isNaN(Date.parse(kept[0]!.at))).toBe(false);
      expect(await store.records.quarantined(1)).toHaveLength(1);
      expect(await store.messages.history(conv, alice.id, { limit: 10 })).toEqual([]);
    });
  });
}

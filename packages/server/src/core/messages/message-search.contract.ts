// The MessageSearch contract: SQLite and PostgreSQL run this suite unchanged.
import { describe, expect, it } from 'vitest';
import { type StoreHarness, storeWorlds } from '../store-harness.contract.js';

export function messageSearchContract(name: string, harness: StoreHarness): void {
  describe(`MessageSearch contract: ${name}`, () => {
    const world = storeWorlds(harness);

    it('searches accent-insensitively, by prefix and in CJK, only where the viewer is a member', async () => {
      const { store, alice, bob, carol, conv, send } = await world();
      await send(alice.id, 'Un café au lait, s’il vous plaît');
      await send(bob.id, 'I love bananas');
      await send(alice.id, '我住在東京都');
      expect((await store.search.search(bob.id, { q: 'cafe', limit: 10 }))[0]!.message.body).toContain('café');
      expect((await store.search.search(bob.id, { q: 'banan', limit: 10 }))[0]!.message.body).toContain('bananas');
      const cjk = await store.search.search(bob.id, { q: '東京', limit: 10 });
      expect(cjk).toHaveLength(1);
      expect(cjk[0]!.snippet).toContain('東京');
      expect(await store.search.search(carol.id, { q: 'cafe', limit: 10 })).toHaveLength(0);
      expect(await store.search.search(bob.id, { q: 'cafe', conversationId: 'c_elsewhere', limit: 10 })).toHaveLength(
        0,
      );
      expect(await store.search.search(bob.id, { q: 'cafe', conversationId: conv, limit: 10 })).toHaveLength(1);
    });

    it('ranks search results best match first, then newest', async () => {
      const { store, alice, bob, send } = await world();
      await send(alice.id, 'pancake pancake pancake for breakfast');
      await send(bob.id, 'one pancake maybe');
      await send(alice.id, 'one pancake please');
      const bodies = (await store.search.search(bob.id, { q: 'pancake', limit: 10 })).map((r) => r.message.body);
      expect(bodies).toEqual(['pancake pancake pancake for breakfast', 'one pancake please', 'one pancake maybe']);
    });
  });
}

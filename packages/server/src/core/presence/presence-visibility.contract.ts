// The PresenceVisibility contract: SQLite and PostgreSQL run this suite unchanged.
import { describe, expect, it } from 'vitest';
import { type StoreHarness, storeWorlds } from '../store-harness.contract.js';

export function presenceVisibilityContract(name: string, harness: StoreHarness): void {
  describe(`PresenceVisibility contract: ${name}`, () => {
    const world = storeWorlds(harness);

    it('stores presence visibility per user', async () => {
      const { store, alice, bob } = await world();
      await store.users.setPresenceVisible(bob.id, false);
      expect(await store.users.hiddenPresence([alice.id, bob.id])).toEqual(new Set([bob.id]));
    });
  });
}

// The SuspensionStore contract: SQLite and PostgreSQL run this suite unchanged.
import { describe, expect, it } from 'vitest';
import { now, type StoreHarness, storeWorlds } from '../store-harness.contract.js';

export function suspensionStoreContract(name: string, harness: StoreHarness): void {
  describe(`SuspensionStore contract: ${name}`, () => {
    const world = storeWorlds(harness);

    it('suspends once, per user, until lifted', async () => {
      const { store, alice, bob } = await world();
      expect(await store.suspensions.isSuspended(alice.id)).toBe(false);
      await store.suspensions.suspend(alice.id, 'spam', now());
      await store.suspensions.suspend(alice.id, 'again', now());
      expect(await store.suspensions.isSuspended(alice.id)).toBe(true);
      expect(await store.suspensions.isSuspended(bob.id)).toBe(false);
      expect(await store.suspensions.unsuspend(alice.id)).toBe(true);
      expect(await store.suspensions.unsuspend(alice.id)).toBe(false);
      expect(await store.suspensions.isSuspended(alice.id)).toBe(false);
      expect(await store.suspensions.unsuspend(bob.id)).toBe(false);
    });
  });
}

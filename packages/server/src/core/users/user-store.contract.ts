// The UserStore contract: SQLite and PostgreSQL run this suite unchanged.
import { describe, expect, it } from 'vitest';
import { now, type StoreHarness, storeWorlds } from '../store-harness.contract.js';

export function userStoreContract(name: string, harness: StoreHarness): void {
  describe(`UserStore contract: ${name}`, () => {
    const world = storeWorlds(harness);

    it('creates users with unique usernames and finds them by key hash', async () => {
      const { store, alice, tag } = await world();
      expect(await store.users.userByKeyHash(`hash_alice_${tag}`)).toEqual(alice);
      expect(await store.users.userByKeyHash('nope')).toBeNull();
      expect(await store.users.userByUsername(alice.username)).toEqual(alice);
      await expect(
        store.users.createUser({
          id: 'u_x',
          username: alice.username,
          displayName: 'x',
          createdAt: now(),
          apiKeyHash: 'h2',
        }),
      ).rejects.toMatchObject({ code: 'conflict' });
    });

    it('reads users by id in the order asked, skipping unknown ones, asks at once each with its answer', async () => {
      const { store, alice, bob, carol } = await world();
      expect(await store.users.usersByIds([carol.id, 'u_nobody', alice.id])).toEqual([carol, alice]);
      expect(
        await Promise.all([
          store.users.usersByIds([bob.id, alice.id]),
          store.users.usersByIds(['u_nobody']),
          store.users.usersByIds([]),
          store.users.usersByIds([alice.id, alice.id]),
        ]),
      ).toEqual([[bob, alice], [], [], [alice, alice]]);
    });
  });
}

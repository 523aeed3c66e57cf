// The PeopleDirectory contract: SQLite and PostgreSQL run this suite unchanged.
import { describe, expect, it } from 'vitest';
import { now, type StoreHarness, storeWorlds } from '../store-harness.contract.js';
import { DELETED_USERNAME_PREFIX } from './people-directory.js';

export function peopleDirectoryContract(name: string, harness: StoreHarness): void {
  describe(`PeopleDirectory contract: ${name}`, () => {
    const world = storeWorlds(harness);

    it('finds users by username or display-name prefix, case-insensitively, by username, within the limit', async () => {
      const { store, alice, bob, carol, tag } = await world();
      const mk = (n: string, displayName: string) =>
        store.users.createUser({
          id: `u_${n}_${tag}`,
          username: `${n}_${tag}`,
          displayName,
          createdAt: now(),
          apiKeyHash: `hash_${n}_${tag}`,
        });
      const dora = await mk('dora', 'Bobby Tables');
      expect((await store.people.searchPeople(alice.id, 'bob', 10)).map((u) => u.id)).toEqual([bob.id, dora.id]);
      expect(await store.people.searchPeople(alice.id, `carol_${tag}`, 10)).toEqual([carol]);
      expect((await store.people.searchPeople(alice.id, 'bob', 1)).map((u) => u.id)).toEqual([bob.id]);
      // Never the viewer, and no match in the middle of a name.
      expect(await store.people.searchPeople(bob.id, 'bob_', 10)).toEqual([]);
      expect(await store.people.searchPeople(alice.id, 'ob', 10)).toEqual([]);
    });

    it('leaves out the undiscoverable, the suspended, the deleted and whoever blocked the viewer', async () => {
      const { store, alice, bob, carol, tag } = await world();
      const search = async () => (await store.people.searchPeople(alice.id, '', 10)).map((u) => u.id).sort();
      const mk = (n: string, username: string) =>
        store.users.createUser({
          id: `u_${n}_${tag}`,
          username,
          displayName: 'Deleted account',
          createdAt: now(),
          apiKeyHash: `h_${n}_${tag}`,
        });
      await mk('gone', `${DELETED_USERNAME_PREFIX}u_gone_${tag}`);
      expect(await search()).toEqual([bob.id, carol.id].sort());
      await store.people.setDiscoverable(bob.id, false);
      expect(await search()).toEqual([carol.id]);
      await store.people.setDiscoverable(bob.id, true);
      await store.blocks.block(carol.id, alice.id, now());
      expect(await search()).toEqual([bob.id]);
      // Blocking someone does not hide them from your own searches.
      expect((await store.people.searchPeople(carol.id, '', 10)).map((u) => u.id).sort()).toEqual(
        [alice.id, bob.id].sort(),
      );
      await store.suspensions.suspend(bob.id, 'spam', now());
      expect(await search()).toEqual([]);
    });
  });
}

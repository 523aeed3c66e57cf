// The MemberStanding contract: SQLite and PostgreSQL run this suite unchanged. What it writes is
// read back through the ConversationStore of the same store, as the use cases read it.
import { describe, expect, it } from 'vitest';
import { now, type StoreHarness, storeWorlds } from '../store-harness.contract.js';

export function memberStandingContract(name: string, harness: StoreHarness): void {
  describe(`MemberStanding contract: ${name}`, () => {
    const world = storeWorlds(harness);

    const group = async (w: Awaited<ReturnType<ReturnType<typeof storeWorlds>>>) => {
      const id = `c_grp_${w.tag}`;
      await w.store.conversations.createConversation({
        id,
        kind: 'group',
        title: 'Team',
        createdAt: now(),
        memberIds: [w.alice.id, w.bob.id, w.carol.id],
        directKey: null,
        admins: [w.alice.id],
        pending: [w.carol.id],
      });
      return id;
    };

    it('moves a member between request, accepted and declined', async () => {
      const w = await world();
      const { store, carol } = w;
      const id = await group(w);
      const listed = async (requests: boolean) =>
        (await store.conversations.conversations(carol.id, 50, null, requests)).conversations.map((c) => c.id);
      expect((await store.conversations.membership(id, carol.id))!.request).toBe('pending');
      expect((await store.conversations.conversation(id, carol.id))!.request).toBe(true);
      expect(await listed(true)).toEqual([id]);
      expect(await listed(false)).toEqual([]);

      await store.conversations.setRequestState(id, carol.id, 'accepted');
      expect((await store.conversations.conversation(id, carol.id))!.request).toBe(false);
      expect(await listed(false)).toEqual([id]);
      expect(await listed(true)).toEqual([]);

      await store.conversations.setRequestState(id, carol.id, 'declined');
      expect((await store.conversations.membership(id, carol.id))!.request).toBe('declined');
      expect(await listed(false)).toEqual([]);
      expect(await listed(true)).toEqual([]);
    });

    it('does nothing for a user who is not a member', async () => {
      const w = await world();
      const id = await group(w);
      await w.store.conversations.setRequestState(id, 'u_stranger', 'accepted');
      await w.store.conversations.setRole(id, 'u_stranger', 'admin');
      expect(await w.store.conversations.membership(id, 'u_stranger')).toBeNull();
      expect(await w.store.conversations.memberIds(id)).toHaveLength(3);
    });

    it('changes roles', async () => {
      const w = await world();
      const id = await group(w);
      const roles = async () =>
        Object.fromEntries(
          (await w.store.conversations.conversation(id, w.alice.id))!.members.map((m) => [m.userId, m.role]),
        );
      expect(await roles()).toEqual({ [w.alice.id]: 'admin', [w.bob.id]: 'member', [w.carol.id]: 'member' });
      await w.store.conversations.setRole(id, w.bob.id, 'admin');
      await w.store.conversations.setRole(id, w.alice.id, 'member');
      expect(await roles()).toEqual({ [w.alice.id]: 'member', [w.bob.id]: 'admin', [w.carol.id]: 'member' });
      expect((await w.store.conversations.membership(id, w.bob.id))!.role).toBe('admin');
    });

    it("changes only the group settings given, for every member's view", async () => {
      const w = await world();
      const id = await group(w);
      expect(await w.store.conversations.conversation(id, w.bob.id)).toMatchObject({
        title: 'Team',
        membersCanAdd: true,
      });
      await w.store.conversations.updateGroup(id, { membersCanAdd: false });
      expect(await w.store.conversations.conversation(id, w.bob.id)).toMatchObject({
        title: 'Team',
        membersCanAdd: false,
      });
      await w.store.conversations.updateGroup(id, { title: 'Renamed' });
      expect(await w.store.conversations.conversation(id, w.alice.id)).toMatchObject({
        title: 'Renamed',
        membersCanAdd: false,
      });
      await w.store.conversations.updateGroup(id, {});
      expect(await w.store.conversations.conversation(id, w.carol.id)).toMatchObject({ title: 'Renamed' });
    });
  });
}

// The ConversationStore contract: SQLite and PostgreSQL run this suite unchanged. Messages go in
// the way the persister writes them (RecordSink.apply), since they change what a chat view shows.
import { describe, expect, it } from 'vitest';
import { createChat, message, now, record, type StoreHarness, storeWorlds } from '../store-harness.contract.js';

export function conversationStoreContract(name: string, harness: StoreHarness): void {
  describe(`ConversationStore contract: ${name}`, () => {
    const world = storeWorlds(harness);

    it('returns the same direct chat for the same pair', async () => {
      const { store, alice, bob, conv } = await world();
      const again = await store.conversations.createConversation({
        id: 'c_other',
        kind: 'direct',
        title: null,
        createdAt: now(),
        memberIds: [bob.id, alice.id],
        directKey: `${alice.id}:${bob.id}`,
      });
      expect(again).toEqual({ id: conv, created: false });
    });

    it('builds the chat view: lastMessage, unreadCount, receipts that never go back', async () => {
      const { store, alice, bob, conv, send } = await world();
      await send(alice.id, 'one');
      await send(bob.id, 'two');
      await send(bob.id, 'three');
      let view = await store.conversations.conversation(conv, alice.id);
      expect(view).toMatchObject({ id: conv, kind: 'direct', lastSeq: 3, unreadCount: 2, muted: false });
      expect(view!.lastMessage!.body).toBe('three');
      await store.records.apply([record({ type: 'receipt.read', conversationId: conv, userId: alice.id, seq: 2 })]);
      await store.records.apply([record({ type: 'receipt.read', conversationId: conv, userId: alice.id, seq: 1 })]);
      view = await store.conversations.conversation(conv, alice.id);
      expect(view!.unreadCount).toBe(1);
      expect(view!.members.find((m) => m.userId === alice.id)!.readSeq).toBe(2);
      expect(await store.conversations.conversation(conv, 'u_stranger')).toBeNull();
    });

    it("conversationViews equals each member's own view, and leaves out non-members", async () => {
      const { store, alice, bob, conv, send } = await world();
      const first = await send(alice.id, 'one');
      await send(bob.id, 'two');
      await store.records.apply([record({ type: 'receipt.read', conversationId: conv, userId: bob.id, seq: 2 })]);
      await store.records.apply([
        record({
          type: 'message.deleted',
          conversationId: conv,
          messageId: first.id,
          for: 'me',
          userId: bob.id,
          at: now(),
        }),
      ]);
      await store.conversations.setMuted(conv, alice.id, true);
      const views = await store.conversations.conversationViews(conv, [alice.id, bob.id, 'u_stranger']);
      expect([...views.keys()].sort()).toEqual([alice.id, bob.id].sort());
      expect(views.get(alice.id)).toEqual(await store.conversations.conversation(conv, alice.id));
      expect(views.get(bob.id)).toEqual(await store.conversations.conversation(conv, bob.id));
      expect(views.get(alice.id)).toMatchObject({ muted: true, unreadCount: 1 });
      expect(views.get(bob.id)).toMatchObject({ muted: false, unreadCount: 0 });
      expect((await store.conversations.conversationViews(conv, [])).size).toBe(0);
    });

    it('hides history from before a member joined and forgets a member who left', async () => {
      const { store, alice, bob, carol, tag } = await world();
      const group = await createChat(store, `g_${tag}`, 'group', [alice.id, bob.id], 'G');
      const m = message(group, alice.id, 1, 'before carol');
      await store.records.apply([record({ type: 'message.created', conversationId: group, message: m })]);
      expect(await store.conversations.addMembers(group, [carol.id, bob.id])).toEqual([carol.id]);
      expect(await store.messages.history(group, carol.id, { limit: 10 })).toEqual([]);
      expect((await store.conversations.conversation(group, carol.id))!.lastMessage).toBeNull();
      expect(await store.search.search(carol.id, { q: 'carol', limit: 10 })).toEqual([]);
      const m2 = message(group, alice.id, 2, 'after carol');
      await store.records.apply([record({ type: 'message.created', conversationId: group, message: m2 })]);
      expect((await store.messages.history(group, carol.id, { limit: 10 })).map((x) => x.seq)).toEqual([2]);
      expect(await store.conversations.removeMember(group, carol.id)).toBe(true);
      expect(await store.conversations.membership(group, carol.id)).toBeNull();
      expect((await store.conversations.memberIds(group)).sort()).toEqual([alice.id, bob.id].sort());
      expect(await store.conversations.contacts(carol.id)).toEqual([]);
    });

    it('lists chats newest activity first with a cursor that visits each once', async () => {
      const { store, alice, tag } = await world();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const other = await store.users.createUser({
          id: `u_o${i}_${tag}`,
          username: `o${i}_${tag}`,
          displayName: `O${i}`,
          createdAt: now(),
          apiKeyHash: `h_o${i}_${tag}`,
        });
        const id = await createChat(store, `c_${i}_${tag}`, 'direct', [alice.id, other.id]);
        ids.push(id);
        const m = message(id, other.id, 1, `hi ${i}`);
        m.createdAt = new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString();
        await store.records.apply([record({ type: 'message.created', conversationId: id, message: m })]);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { conversations: { id: string }[]; nextCursor: string | null } =
          await store.conversations.conversations(alice.id, 3, cursor);
        seen.push(...page.conversations.map((c) => c.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen.slice(0, 7)).toEqual([...ids].reverse());
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('stores mute per member', async () => {
      const { store, alice, bob, conv } = await world();
      await store.conversations.setMuted(conv, alice.id, true);
      expect((await store.conversations.conversation(conv, alice.id))!.muted).toBe(true);
      expect((await store.conversations.conversation(conv, bob.id))!.muted).toBe(false);
    });
  });
}

// The MessageStore contract: SQLite and PostgreSQL run this suite unchanged. Data goes in the way
// the persister writes it (RecordSink.apply), so the suite also proves replays change nothing.
import { describe, expect, it } from 'vitest';
import type { Message } from '@messenger/protocol';
import { now, record, type StoreHarness, storeWorlds } from '../store-harness.contract.js';

export function messageStoreContract(name: string, harness: StoreHarness): void {
  describe(`MessageStore contract: ${name}`, () => {
    const world = storeWorlds(harness);

    it('applies message records idempotently and pages history by seq', async () => {
      const { store, alice, bob, conv, send } = await world();
      const sent: Message[] = [];
      for (let i = 0; i < 7; i++) sent.push(await send(i % 2 ? bob.id : alice.id, `message ${i}`));
      await store.records.apply([record({ type: 'message.created', conversationId: conv, message: sent[3]! })]);
      const all = await store.messages.history(conv, alice.id, { limit: 50 });
      expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect((await store.messages.history(conv, alice.id, { limit: 3 })).map((m) => m.seq)).toEqual([5, 6, 7]);
      expect((await store.messages.history(conv, alice.id, { afterSeq: 2, limit: 2 })).map((m) => m.seq)).toEqual([
        3, 4,
      ]);
      expect((await store.messages.history(conv, alice.id, { beforeSeq: 3, limit: 10 })).map((m) => m.seq)).toEqual([
        1, 2,
      ]);
      expect(await store.messages.messageByClientId(alice.id, sent[0]!.clientMsgId)).toMatchObject({
        id: sent[0]!.id,
        seq: 1,
      });
      expect(await store.conversations.lastSeq(conv)).toBe(7);
    });

    it('edits, deletes for everyone (tombstone, out of search and preview) and hides for one user', async () => {
      const { store, alice, bob, conv, send } = await world();
      const a = await send(alice.id, 'first secret words');
      const b = await send(alice.id, 'second message');
      await store.records.apply([
        record({
          type: 'message.updated',
          conversationId: conv,
          messageId: a.id,
          body: 'first edited words',
          editedAt: now(),
          message: a,
        }),
      ]);
      expect((await store.messages.message(conv, a.id))!.body).toBe('first edited words');
      expect(await store.search.search(bob.id, { q: 'secret', limit: 10 })).toHaveLength(0);
      expect(await store.search.search(bob.id, { q: 'edited', limit: 10 })).toHaveLength(1);
      await store.records.apply([
        record({ type: 'reaction.updated', conversationId: conv, messageId: b.id, userId: bob.id, emoji: '👍' }),
      ]);
      await store.records.apply([
        record({
          type: 'message.deleted',
          conversationId: conv,
          messageId: b.id,
          for: 'everyone',
          userId: alice.id,
          at: now(),
        }),
      ]);
      const tomb = (await store.messages.message(conv, b.id))!;
      expect(tomb).toMatchObject({ body: '', reactions: [] });
      expect(tomb.deletedAt).not.toBeNull();
      expect(await store.search.search(bob.id, { q: 'second', limit: 10 })).toHaveLength(0);
      expect((await store.conversations.conversation(conv, bob.id))!.lastMessage!.body).toBe('');
      await store.records.apply([
        record({
          type: 'message.deleted',
          conversationId: conv,
          messageId: a.id,
          for: 'me',
          userId: bob.id,
          at: now(),
        }),
      ]);
      expect((await store.messages.history(conv, bob.id, { limit: 10 })).map((m) => m.id)).toEqual([b.id]);
      expect((await store.messages.history(conv, alice.id, { limit: 10 })).map((m) => m.id)).toEqual([a.id, b.id]);
      expect(await store.search.search(bob.id, { q: 'edited', limit: 10 })).toHaveLength(0);
    });

    it('keeps one reaction per user, replacing and removing', async () => {
      const { store, alice, bob, conv, send } = await world();
      const m = await send(alice.id, 'react to me');
      await store.records.apply([
        record({ type: 'reaction.updated', conversationId: conv, messageId: m.id, userId: bob.id, emoji: '👍' }),
      ]);
      await store.records.apply([
        record({ type: 'reaction.updated', conversationId: conv, messageId: m.id, userId: bob.id, emoji: '❤️' }),
      ]);
      await store.records.apply([
        record({ type: 'reaction.updated', conversationId: conv, messageId: m.id, userId: alice.id, emoji: '😂' }),
      ]);
      expect((await store.messages.message(conv, m.id))!.reactions).toHaveLength(2);
      expect((await store.messages.message(conv, m.id))!.reactions).toContainEqual({ userId: bob.id, emoji: '❤️' });
      await store.records.apply([
        record({ type: 'reaction.updated', conversationId: conv, messageId: m.id, userId: bob.id, emoji: null }),
      ]);
      expect((await store.messages.message(conv, m.id))!.reactions).toEqual([{ userId: alice.id, emoji: '😂' }]);
    });
  });
}

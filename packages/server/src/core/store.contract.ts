// The Store contract: SQLite and PostgreSQL run this suite unchanged. Data goes in the way the
// persister writes it (apply of log records), so the suite also proves replays change nothing.
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '@messenger/protocol';
import type { LogDraft, LogRecord } from './log-entries.js';
import type { Store } from './store.js';

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<Store>;
}

let pos = 0;
let unique = 0;
const record = (draft: LogDraft): LogRecord => ({ ...draft, pos: ++pos }) as LogRecord;
const now = () => new Date().toISOString();

function message(conversationId: string, senderId: string, seq: number, body: string): Message {
  unique += 1;
  return {
    id: `m_${unique}_${seq}`,
    conversationId,
    seq,
    senderId,
    clientMsgId: `cm_${unique}`,
    body,
    createdAt: new Date(Date.now() + seq).toISOString(),
    editedAt: null,
    deletedAt: null,
    replyToId: null,
    reactions: [],
  };
}

export function storeContract(name: string, harness: StoreHarness): void {
  describe(`Store contract: ${name}`, () => {
    const stores: Store[] = [];
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });

    async function world() {
      const store = await harness.open();
      stores.push(store);
      const tag = Math.random().toString(36).slice(2, 8);
      const mk = (n: string) =>
        store.createUser({
          id: `u_${n}_${tag}`,
          username: `${n}_${tag}`,
          displayName: n.toUpperCase(),
          createdAt: now(),
          apiKeyHash: `hash_${n}_${tag}`,
        });
      const [alice, bob, carol] = await Promise.all([mk('alice'), mk('bob'), mk('carol')]);
      const conv = `c_${tag}`;
      await store.createConversation({
        id: conv,
        kind: 'direct',
        title: null,
        createdAt: now(),
        memberIds: [alice.id, bob.id],
        directKey: `${alice.id}:${bob.id}`,
      });
      let seq = 0;
      const send = async (senderId: string, body: string, conversationId = conv) => {
        const m = message(conversationId, senderId, ++seq, body);
        await store.apply([record({ type: 'message.created', conversationId, message: m })]);
        return m;
      };
      return { store, alice, bob, carol, conv, send, tag };
    }

    it('creates users with unique usernames and finds them by key hash', async () => {
      const { store, alice, tag } = await world();
      expect(await store.userByKeyHash(`hash_alice_${tag}`)).toEqual(alice);
      expect(await store.userByKeyHash('nope')).toBeNull();
      expect(await store.userByUsername(alice.username)).toEqual(alice);
      await expect(
        store.createUser({ id: 'u_x', username: alice.username, displayName: 'x', createdAt: now(), apiKeyHash: 'h2' }),
      ).rejects.toMatchObject({ code: 'conflict' });
    });

    it('returns the same direct chat for the same pair', async () => {
      const { store, alice, bob, conv } = await world();
      const again = await store.createConversation({
        id: 'c_other',
        kind: 'direct',
        title: null,
        createdAt: now(),
        memberIds: [bob.id, alice.id],
        directKey: `${alice.id}:${bob.id}`,
      });
      expect(again).toEqual({ id: conv, created: false });
    });

    it('applies message records idempotently and pages history by seq', async () => {
      const { store, alice, bob, conv, send } = await world();
      const sent: Message[] = [];
      for (let i = 0; i < 7; i++) sent.push(await send(i % 2 ? bob.id : alice.id, `message ${i}`));
      await store.apply([record({ type: 'message.created', conversationId: conv, message: sent[3]! })]);
      const all = await store.history(conv, alice.id, { limit: 50 });
      expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect((await store.history(conv, alice.id, { limit: 3 })).map((m) => m.seq)).toEqual([5, 6, 7]);
      expect((await store.history(conv, alice.id, { afterSeq: 2, limit: 2 })).map((m) => m.seq)).toEqual([3, 4]);
      expect((await store.history(conv, alice.id, { beforeSeq: 3, limit: 10 })).map((m) => m.seq)).toEqual([1, 2]);
      expect(await store.messageByClientId(alice.id, sent[0]!.clientMsgId)).toMatchObject({ id: sent[0]!.id, seq: 1 });
      expect(await store.lastSeq(conv)).toBe(7);
    });

    it('builds the chat view: lastMessage, unreadCount, receipts that never go back', async () => {
      const { store, alice, bob, conv, send } = await world();
      await send(alice.id, 'one');
      await send(bob.id, 'two');
      await send(bob.id, 'three');
      let view = await store.conversation(conv, alice.id);
      expect(view).toMatchObject({ id: conv, kind: 'direct', lastSeq: 3, unreadCount: 2, muted: false });
      expect(view!.lastMessage!.body).toBe('three');
      await store.apply([record({ type: 'receipt.read', conversationId: conv, userId: alice.id, seq: 2 })]);
      await store.apply([record({ type: 'receipt.read', conversationId: conv, userId: alice.id, seq: 1 })]);
      view = await store.conversation(conv, alice.id);
      expect(view!.unreadCount).toBe(1);
      expect(view!.members.find((m) => m.userId === alice.id)!.readSeq).toBe(2);
      expect(await store.conversation(conv, 'u_stranger')).toBeNull();
    });

    it("conversationViews equals each member's own view, and leaves out non-members", async () => {
      const { store, alice, bob, conv, send } = await world();
      const first = await send(alice.id, 'one');
      await send(bob.id, 'two');
      await store.apply([record({ type: 'receipt.read', conversationId: conv, userId: bob.id, seq: 2 })]);
      await store.apply([
        record({
          type: 'message.deleted',
          conversationId: conv,
          messageId: first.id,
          for: 'me',
          userId: bob.id,
          at: now(),
        }),
      ]);
      await store.setMuted(conv, alice.id, true);
      const views = await store.conversationViews(conv, [alice.id, bob.id, 'u_stranger']);
      expect([...views.keys()].sort()).toEqual([alice.id, bob.id].sort());
      expect(views.get(alice.id)).toEqual(await store.conversation(conv, alice.id));
      expect(views.get(bob.id)).toEqual(await store.conversation(conv, bob.id));
      expect(views.get(alice.id)).toMatchObject({ muted: true, unreadCount: 1 });
      expect(views.get(bob.id)).toMatchObject({ muted: false, unreadCount: 0 });
      expect((await store.conversationViews(conv, [])).size).toBe(0);
    });

    it('edits, deletes for everyone (tombstone, out of search and preview) and hides for one user', async () => {
      const { store, alice, bob, conv, send } = await world();
      const a = await send(alice.id, 'first secret words');
      const b = await send(alice.id, 'second message');
      await store.apply([
        record({
          type: 'message.updated',
          conversationId: conv,
          messageId: a.id,
          body: 'first edited words',
          editedAt: now(),
          message: a,
        }),
      ]);
      expect((await store.message(conv, a.id))!.body).toBe('first edited words');
      expect(await store.search(bob.id, { q: 'secret', limit: 10 })).toHaveLength(0);
      expect(await store.search(bob.id, { q: 'edited', limit: 10 })).toHaveLength(1);
      await store.apply([
        record({ type: 'reaction.updated', conversationId: conv, messageId: b.id, userId: bob.id, emoji: '👍' }),
      ]);
      await store.apply([
        record({
          type: 'message.deleted',
          conversationId: conv,
          messageId: b.id,
          for: 'everyone',
          userId: alice.id,
          at: now(),
        }),
      ]);
      const tomb = (await store.message(conv, b.id))!;
      expect(tomb).toMatchObject({ body: '', reactions: [] });
      expect(tomb.deletedAt).not.toBeNull();
      expect(await store.search(bob.id, { q: 'second', limit: 10 })).toHaveLength(0);
      expect((await store.conversation(conv, bob.id))!.lastMessage!.body).toBe('');
      await store.apply([
        record({
          type: 'message.deleted',
          conversationId: conv,
          messageId: a.id,
          for: 'me',
          userId: bob.id,
          at: now(),
        }),
      ]);
      expect((await store.history(conv, bob.id, { limit: 10 })).map((m) => m.id)).toEqual([b.id]);
      expect((await store.history(conv, alice.id, { limit: 10 })).map((m) => m.id)).toEqual([a.id, b.id]);
      expect(await store.search(bob.id, { q: 'edited', limit: 10 })).toHaveLength(0);
    });

    it('keeps one reaction per user, replacing and removing', async () => {
      const { store, alice, bob, conv, send } = await world();
      const m = await send(alice.id, 'react to me');
      await store.apply([
        record({ type: 'reaction.updated', conversationId: conv, messageId: m.id, userId: bob.id, emoji: '👍' }),
      ]);
      await store.apply([
        record({ type: 'reaction.updated', conversationId: conv, messageId: m.id, userId: bob.id, emoji: '❤️' }),
      ]);
      await store.apply([
        record({ type: 'reaction.updated', conversationId: conv, messageId: m.id, userId: alice.id, emoji: '😂' }),
      ]);
      expect((await store.message(conv, m.id))!.reactions).toHaveLength(2);
      expect((await store.message(conv, m.id))!.reactions).toContainEqual({ userId: bob.id, emoji: '❤️' });
      await store.apply([
        record({ type: 'reaction.updated', conversationId: conv, messageId: m.id, userId: bob.id, emoji: null }),
      ]);
      expect((await store.message(conv, m.id))!.reactions).toEqual([{ userId: alice.id, emoji: '😂' }]);
    });

    it('searches accent-insensitively, by prefix and in CJK, only where the viewer is a member', async () => {
      const { store, alice, bob, carol, conv, send } = await world();
      await send(alice.id, 'Un café au lait, s’il vous plaît');
      await send(bob.id, 'I love bananas');
      await send(alice.id, '我住在東京都');
      expect((await store.search(bob.id, { q: 'cafe', limit: 10 }))[0]!.message.body).toContain('café');
      expect((await store.search(bob.id, { q: 'banan', limit: 10 }))[0]!.message.body).toContain('bananas');
      const cjk = await store.search(bob.id, { q: '東京', limit: 10 });
      expect(cjk).toHaveLength(1);
      expect(cjk[0]!.snippet).toContain('東京');
      expect(await store.search(carol.id, { q: 'cafe', limit: 10 })).toHaveLength(0);
      expect(await store.search(bob.id, { q: 'cafe', conversationId: 'c_elsewhere', limit: 10 })).toHaveLength(0);
      expect(await store.search(bob.id, { q: 'cafe', conversationId: conv, limit: 10 })).toHaveLength(1);
    });

    it('ranks search results best match first, then newest', async () => {
      const { store, alice, bob, send } = await world();
      await send(alice.id, 'pancake pancake pancake for breakfast');
      await send(bob.id, 'one pancake maybe');
      await send(alice.id, 'one pancake please');
      const bodies = (await store.search(bob.id, { q: 'pancake', limit: 10 })).map((r) => r.message.body);
      expect(bodies).toEqual(['pancake pancake pancake for breakfast', 'one pancake please', 'one pancake maybe']);
    });

    it('hides history from before a member joined and forgets a member who left', async () => {
      const { store, alice, bob, carol, tag } = await world();
      const group = `g_${tag}`;
      await store.createConversation({
        id: group,
        kind: 'group',
        title: 'G',
        createdAt: now(),
        memberIds: [alice.id, bob.id],
        directKey: null,
      });
      const m = message(group, alice.id, 1, 'before carol');
      await store.apply([record({ type: 'message.created', conversationId: group, message: m })]);
      expect(await store.addMembers(group, [carol.id, bob.id])).toEqual([carol.id]);
      expect(await store.history(group, carol.id, { limit: 10 })).toEqual([]);
      expect((await store.conversation(group, carol.id))!.lastMessage).toBeNull();
      expect(await store.search(carol.id, { q: 'carol', limit: 10 })).toEqual([]);
      const m2 = message(group, alice.id, 2, 'after carol');
      await store.apply([record({ type: 'message.created', conversationId: group, message: m2 })]);
      expect((await store.history(group, carol.id, { limit: 10 })).map((x) => x.seq)).toEqual([2]);
      expect(await store.removeMember(group, carol.id)).toBe(true);
      expect(await store.membership(group, carol.id)).toBeNull();
      expect((await store.memberIds(group)).sort()).toEqual([alice.id, bob.id].sort());
      expect(await store.contacts(carol.id)).toEqual([]);
    });

    it('lists chats newest activity first with a cursor that visits each once', async () => {
      const { store, alice, tag } = await world();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const other = await store.createUser({
          id: `u_o${i}_${tag}`,
          username: `o${i}_${tag}`,
          displayName: `O${i}`,
          createdAt: now(),
          apiKeyHash: `h_o${i}_${tag}`,
        });
        const id = `c_${i}_${tag}`;
        ids.push(id);
        await store.createConversation({
          id,
          kind: 'direct',
          title: null,
          createdAt: now(),
          memberIds: [alice.id, other.id],
          directKey: `${alice.id}:${other.id}`,
        });
        const m = message(id, other.id, 1, `hi ${i}`);
        m.createdAt = new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString();
        await store.apply([record({ type: 'message.created', conversationId: id, message: m })]);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { conversations: { id: string }[]; nextCursor: string | null } = await store.conversations(
          alice.id,
          3,
          cursor,
        );
        seen.push(...page.conversations.map((c) => c.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen.slice(0, 7)).toEqual([...ids].reverse());
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('stores mute and presence visibility per user', async () => {
      const { store, alice, bob, conv } = await world();
      await store.setMuted(conv, alice.id, true);
      expect((await store.conversation(conv, alice.id))!.muted).toBe(true);
      expect((await store.conversation(conv, bob.id))!.muted).toBe(false);
      await store.setPresenceVisible(bob.id, false);
      expect(await store.hiddenPresence([alice.id, bob.id])).toEqual(new Set([bob.id]));
    });

    it('quarantines refused records apart, once each, oldest first, and readers never see them', async () => {
      const { store, alice, conv } = await world();
      expect(await store.quarantined(10)).toEqual([]);
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
      await store.quarantine(first, 'refused: 22007');
      await store.quarantine(second, 'refused: 22021');
      await store.quarantine(first, 'refused again');
      const kept = await store.quarantined(10);
      expect(kept.map((q) => [q.conversationId, q.pos, q.type, q.reason])).toEqual([
        [conv, first.pos, 'message.created', 'refused: 22007'],
        [conv, second.pos, 'reaction.updated', 'refused: 22021'],
      ]);
      expect(JSON.parse(kept[0]!.record)).toEqual(first);
      expect(Number.isNaN(Date.parse(kept[0]!.at))).toBe(false);
      expect(await store.quarantined(1)).toHaveLength(1);
      expect(await store.history(conv, alice.id, { limit: 10 })).toEqual([]);
    });
  });
}

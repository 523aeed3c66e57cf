// The PushSubscriptions contract: every implementation runs this suite unchanged. The badge count
// is checked against the store it sits beside, so both must read the same database.
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '@messenger/protocol';
import { message, now, record, type StoreParts, world } from '../store-harness.contract.js';
import type { PushSubscriptionRecord, PushSubscriptions } from './subscriptions.js';

export interface PushSubscriptionsHarness {
  /** A fresh, empty database: the implementation under test and a store over the same data. */
  open(): Promise<{ subscriptions: PushSubscriptions; store: StoreParts }>;
}

export function pushSubscriptionsContract(name: string, harness: PushSubscriptionsHarness): void {
  describe(`PushSubscriptions contract: ${name}`, () => {
    const opened: { subscriptions: PushSubscriptions; store: StoreParts }[] = [];
    afterEach(async () => {
      for (const o of opened.splice(0)) {
        await o.subscriptions.close();
        await o.store.close();
      }
    });
    const fresh = async () => {
      const o = await harness.open();
      opened.push(o);
      return o;
    };
    const sub = (userId: string, n: number, createdAt = now()): PushSubscriptionRecord => ({
      userId,
      endpoint: `https://push.example.com/send/${n}`,
      p256dh: `key${n}`,
      auth: `auth${n}`,
      createdAt,
    });

    it('saves, lists per user and removes only the caller own endpoint', async () => {
      const { subscriptions } = await fresh();
      await subscriptions.save(sub('u_a', 1, '2024-01-01T00:00:00.000Z'));
      await subscriptions.save(sub('u_a', 2, '2024-01-02T00:00:00.000Z'));
      await subscriptions.save(sub('u_b', 3));
      expect((await subscriptions.forUsers(['u_a'])).map((s) => s.endpoint)).toEqual([
        sub('u_a', 1).endpoint,
        sub('u_a', 2).endpoint,
      ]);
      expect(await subscriptions.forUsers(['u_a', 'u_b', 'u_none'])).toHaveLength(3);
      expect(await subscriptions.forUsers([])).toEqual([]);
      expect(await subscriptions.remove('u_b', sub('u_a', 1).endpoint)).toBe(false);
      expect(await subscriptions.remove('u_a', sub('u_a', 1).endpoint)).toBe(true);
      expect(await subscriptions.remove('u_a', sub('u_a', 1).endpoint)).toBe(false);
      expect((await subscriptions.forUsers(['u_a'])).map((s) => s.endpoint)).toEqual([sub('u_a', 2).endpoint]);
    });

    it('upserts by endpoint: new keys replace old ones and a new owner takes the endpoint over', async () => {
      const { subscriptions } = await fresh();
      await subscriptions.save(sub('u_a', 1));
      await subscriptions.save({ ...sub('u_a', 1), p256dh: 'newkey', auth: 'newauth' });
      expect(await subscriptions.forUsers(['u_a'])).toEqual([
        expect.objectContaining({ p256dh: 'newkey', auth: 'newauth' }),
      ]);
      await subscriptions.save(sub('u_b', 1));
      expect(await subscriptions.forUsers(['u_a'])).toEqual([]);
      expect(await subscriptions.forUsers(['u_b'])).toEqual(
        [sub('u_b', 1)].map((s) => expect.objectContaining({ ...s, createdAt: expect.any(String) })),
      );
    });

    it('drops a dead endpoint whoever holds it, idempotently', async () => {
      const { subscriptions } = await fresh();
      await subscriptions.save(sub('u_a', 1));
      await subscriptions.removeEndpoint(sub('u_a', 1).endpoint);
      await subscriptions.removeEndpoint(sub('u_a', 1).endpoint);
      expect(await subscriptions.forUsers(['u_a'])).toEqual([]);
    });

    it('counts unread over all conversations exactly as the chat list does', async () => {
      const { subscriptions, store } = await fresh();
      const { alice, bob, carol, conv: direct, group: makeGroup } = await world(store);
      const group = await makeGroup('g', [alice.id, bob.id]);
      const seqs = new Map<string, number>();
      const send = async (conversationId: string, senderId: string): Promise<Message> => {
        const seq = (seqs.get(conversationId) ?? 0) + 1;
        seqs.set(conversationId, seq);
        const sent = message(conversationId, senderId, seq, `hello ${seq}`);
        await store.records.apply([record({ type: 'message.created', conversationId, message: sent })]);
        return sent;
      };
      expect(await subscriptions.unreadTotal(alice.id)).toBe(0);
      await send(direct, alice.id);
      await send(direct, bob.id);
      const deleted = await send(direct, bob.id);
      const hidden = await send(group, bob.id);
      await send(group, bob.id);
      await send(group, bob.id);
      await store.records.apply([
        record({
          type: 'message.deleted',
          conversationId: direct,
          messageId: deleted.id,
          for: 'everyone',
          userId: bob.id,
          at: now(),
        }),
      ]);
      await store.records.apply([
        record({
          type: 'message.deleted',
          conversationId: group,
          messageId: hidden.id,
          for: 'me',
          userId: alice.id,
          at: now(),
        }),
      ]);
      await store.records.apply([record({ type: 'receipt.read', conversationId: group, userId: alice.id, seq: 2 })]);
      await store.conversations.addMembers(group, [carol.id]);
      await send(group, bob.id);
      const listed = async (userId: string) =>
        (await store.conversations.conversations(userId, 100, null)).conversations.reduce(
          (n, c) => n + c.unreadCount,
          0,
        );
      expect(await subscriptions.unreadTotal(alice.id)).toBe(3);
      expect(await subscriptions.unreadTotal(alice.id)).toBe(await listed(alice.id));
      expect(await subscriptions.unreadTotal(bob.id)).toBe(await listed(bob.id));
      expect(await subscriptions.unreadTotal(carol.id)).toBe(1);
    });
  });
}

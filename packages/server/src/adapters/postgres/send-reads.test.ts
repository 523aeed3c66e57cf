// The send reads' linger: reads asked close together wait up to 2 ms to share one query; a lone read
// (a history page or a chat opened on a quiet gateway: every membership check asks here) does not.
// setTimeout and performance.now() are faked: a read that lingers stays pending until the test
// moves the clock, and the time between two reads is what the test says, whatever the machine's load.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { countQueries, onPostgres, seedDirect, seedGroup, seedUsers, withCountedTwin } from './test-db.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

onPostgres('SendReads', () => {
  describe('SendReads on PostgreSQL', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('sends a lone read at once, and lets reads that follow closely wait for each other', () =>
      withCountedTwin(async ({ store, pool, counted, at }) => {
        await seedUsers(store, ['u_a', 'u_b'], at);
        await seedDirect(store, 'c_ab', ['u_a', 'u_b'], at);
        await counted.ping(); // the pool's connection is open before the clock is faked
        const queries = countQueries(pool);
        try {
          vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
          // Nothing asked for a while: no linger, so it answers without the clock moving.
          expect(await counted.conversations.membership('c_ab', 'u_a')).toMatchObject({ userId: 'u_a' });
          expect(queries()).toBe(1);
          // A read asked a turn after another (which goes at once: none came in the 5 ms before it)
          // waits, and the read asked a turn later still joins it.
          vi.advanceTimersByTime(5);
          const lone = counted.conversations.membership('c_ab', 'u_a');
          await settle();
          expect(queries()).toBe(2);
          const first = counted.conversations.membership('c_ab', 'u_b');
          await settle();
          const second = counted.messages.messageKey('u_a', 'cm_none');
          await settle();
          expect(queries()).toBe(2);
          vi.advanceTimersByTime(2);
          expect(await lone).toMatchObject({ userId: 'u_a' });
          expect(await first).toMatchObject({ userId: 'u_b' });
          expect(await second).toBeNull();
          expect(queries()).toBe(3);
        } finally {
          // Real timers again before the stores close.
          vi.useRealTimers();
        }
      }));

    it("answers a send's membership and block reads, asked in one turn, with one query", () =>
      withCountedTwin(async ({ store, pool, counted, at }) => {
        await seedUsers(store, ['u_a', 'u_b', 'u_c'], at);
        await seedDirect(store, 'c_ab', ['u_a', 'u_b'], at);
        await seedDirect(store, 'c_ac', ['u_a', 'u_c'], at);
        await seedGroup(store, 'c_g', 'g', ['u_a', 'u_b', 'u_c'], at);
        await store.blocks.block('u_b', 'u_a', at);
        await counted.ping();
        const queries = countQueries(pool);
        // Whether the sender is blocked in each conversation: only Bob's direct chat, where he blocked Ann.
        const blockedIn: [conversationId: string, senderId: string, blocked: boolean][] = [
          ['c_ab', 'u_a', true],
          ['c_ab', 'u_b', false],
          ['c_ac', 'u_a', false],
          ['c_g', 'u_a', false],
          ['c_missing', 'u_a', false],
        ];
        const [membership, ...blocked] = await Promise.all([
          counted.conversations.membership('c_ab', 'u_a'),
          ...blockedIn.map(([conversationId, senderId]) =>
            counted.blocks.blockedInDirectChat(conversationId, senderId),
          ),
        ]);
        expect(membership).toMatchObject({ userId: 'u_a' });
        expect(blocked).toEqual(blockedIn.map(([, , answer]) => answer));
        expect(queries()).toBe(1);
      }));
  });
});

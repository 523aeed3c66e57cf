// The send reads' linger: reads asked close together wait up to 2 ms to share one query; a lone read
// (a history page or a chat opened on a quiet gateway: every membership check asks here) does not.
// setTimeout and performance.now() are faked: a read that lingers stays pending until the test
// moves the clock, and the time between two reads is what the test says, whatever the machine's load.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { countQueries, onPostgres, openWithCountedTwin, seedDirect, seedUsers } from './test-db.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

onPostgres('SendReads', () => {
  describe('SendReads on PostgreSQL', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('sends a lone read at once, and lets reads that follow closely wait for each other', async () => {
      const { store, pool, counted, close } = await openWithCountedTwin();
      try {
        const at = new Date().toISOString();
        await seedUsers(store, ['u_a', 'u_b'], at);
        await seedDirect(store, 'c_ab', ['u_a', 'u_b'], at);
        await counted.ping(); // the pool's connection is open before the clock is faked
        const queries = countQueries(pool);
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
        vi.useRealTimers();
        await close();
      }
    });

    it("answers a send's membership and block reads, asked in one turn, with one query", async () => {
      const { store, pool, counted, close } = await openWithCountedTwin();
      try {
        const at = new Date().toISOString();
        await seedUsers(store, ['u_a', 'u_b', 'u_c'], at);
        await seedDirect(store, 'c_ab', ['u_a', 'u_b'], at);
        await seedDirect(store, 'c_ac', ['u_a', 'u_c'], at);
        const members = ['u_a', 'u_b', 'u_c'];
        await store.conversations.createConversation({
          id: 'c_g',
          kind: 'group',
          title: 'g',
          createdAt: at,
          memberIds: members,
          directKey: null,
        });
        await store.blocks.block('u_b', 'u_a', at);
        await counted.ping();
        const queries = countQueries(pool);
        const asked = await Promise.all([
          counted.conversations.membership('c_ab', 'u_a'),
          counted.blocks.blockedInDirectChat('c_ab', 'u_a'),
          counted.blocks.blockedInDirectChat('c_ab', 'u_b'),
          counted.blocks.blockedInDirectChat('c_ac', 'u_a'),
          counted.blocks.blockedInDirectChat('c_g', 'u_a'),
          counted.blocks.blockedInDirectChat('c_missing', 'u_a'),
        ]);
        expect(asked[0]).toMatchObject({ userId: 'u_a' });
        expect(asked.slice(1)).toEqual([true, false, false, false, false]);
        expect(queries()).toBe(1);
      } finally {
        await close();
      }
    });
  });
});

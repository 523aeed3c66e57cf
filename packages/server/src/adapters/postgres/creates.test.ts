// Creates asked close together share one statement: each gets its own answer (a direct chat asked
// twice in one batch is created once, one that existed is returned), the members are written as
// one create would write them, and a create that fails fails alone.
import { describe, expect, it } from 'vitest';
import type { NewConversation } from '../../core/conversations/conversation-store.js';
import { countQueries, onPostgres, openWithCountedTwin } from './test-db.js';

onPostgres('PostgresCreates', () => {
  describe('PostgresCreates', () => {
    const at = '2026-12-07T03:00:00.000Z';
    const chat = (id: string, memberIds: string[], o: Partial<NewConversation> = {}): NewConversation => ({
      id,
      kind: 'group',
      title: id,
      createdAt: at,
      memberIds,
      directKey: null,
      ...o,
    });
    const direct = (id: string, a: string, b: string): NewConversation =>
      chat(id, [a, b], { kind: 'direct', title: null, directKey: `${a}:${b}` });

    it('a burst is one statement, each create with its own answer and members', async () => {
      const { store, pool, counted, close } = await openWithCountedTwin();
      try {
        for (const id of ['u_a', 'u_b', 'u_c'])
          await store.users.createUser({ id, username: id, displayName: id, createdAt: at, apiKeyHash: `h_${id}` });
        await store.conversations.createConversation(direct('c_old', 'u_a', 'u_c'));
        await counted.ping();
        const queries = countQueries(pool);
        const answers = await Promise.all([
          counted.conversations.createConversation(
            chat('c_g1', ['u_a', 'u_b', 'u_c'], { admins: ['u_a'], pending: ['u_c'] }),
          ),
          counted.conversations.createConversation(direct('c_ab1', 'u_a', 'u_b')),
          counted.conversations.createConversation(direct('c_ab2', 'u_a', 'u_b')),
          counted.conversations.createConversation(direct('c_ac', 'u_a', 'u_c')),
          counted.conversations.createConversation(chat('c_g2', ['u_b', 'u_c'])),
        ]);
        expect(queries()).toBe(1);
        expect(answers).toEqual([
          { id: 'c_g1', created: true },
          { id: 'c_ab1', created: true },
          { id: 'c_ab1', created: false },
          { id: 'c_old', created: false },
          { id: 'c_g2', created: true },
        ]);
        const g1 = await store.conversations.conversation('c_g1', 'u_a');
        expect(g1?.members.map((m) => [m.userId, m.role])).toEqual([
          ['u_a', 'admin'],
          ['u_b', 'member'],
          ['u_c', 'member'],
        ]);
        expect(g1).toMatchObject({ kind: 'group', title: 'c_g1', createdAt: at, lastSeq: 0, request: false });
        expect((await store.conversations.membership('c_g1', 'u_c'))?.request).toBe('pending');
        expect((await store.conversations.membership('c_g1', 'u_b'))?.request).toBe('accepted');
        expect(await store.conversations.memberIds('c_ab1')).toEqual(expect.arrayContaining(['u_a', 'u_b']));
        expect(await store.conversations.memberIds('c_ab2')).toEqual([]);
        expect(await store.conversations.conversation('c_ab2', 'u_a')).toBeNull();
        expect((await store.conversations.memberIds('c_g2')).sort()).toEqual(['u_b', 'u_c']);
      } finally {
        await close();
      }
    });

    it('a create the batch cannot write fails alone: the others are tried one by one', async () => {
      const { store, counted, close } = await openWithCountedTwin();
      try {
        for (const id of ['u_a', 'u_b'])
          await store.users.createUser({ id, username: id, displayName: id, createdAt: at, apiKeyHash: `h_${id}` });
        const [good, bad] = await Promise.allSettled([
          counted.conversations.createConversation(chat('c_good', ['u_a', 'u_b'])),
          // Breaks the kind CHECK: the shared statement fails, and so does this create alone.
          counted.conversations.createConversation(chat('c_bad', ['u_a', 'u_b'], { kind: 'neither' as 'group' })),
        ]);
        expect(good).toEqual({ status: 'fulfilled', value: { id: 'c_good', created: true } });
        expect(bad.status).toBe('rejected');
        expect((await store.conversations.memberIds('c_good')).sort()).toEqual(['u_a', 'u_b']);
        expect(await store.conversations.conversationKind('c_bad')).toBeNull();
      } finally {
        await close();
      }
    });
  });
});

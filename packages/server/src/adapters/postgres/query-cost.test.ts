// What the PostgreSQL store's reads cost: lookups asked in one event-loop turn share one query (a
// connect wave, a burst of sends), plans made on empty tables keep probing the indexes, statements
// are never JIT-compiled, and a 1,000-chat list takes a constant number of queries.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  admin,
  countQueries,
  created,
  inSchema,
  onPostgres,
  seedDirect,
  seedGroup,
  seedUsers,
  seqScans,
  URL,
  withCountedTwin,
} from './test-db.js';

onPostgres('PostgresStore query cost', () => {
  describe('PostgresStore query cost on PostgreSQL', () => {
    it('answers the API-key and contact lookups asked in one event-loop turn with one query each (a connect wave)', () =>
      withCountedTwin(async ({ store, pool, counted, at }) => {
        for (let i = 0; i < 20; i++)
          await store.users.createUser({
            id: `u_${i}`,
            username: `user${i}`,
            displayName: `U${i}`,
            createdAt: at,
            apiKeyHash: `h_${i}`,
          });
        for (let i = 0; i < 20; i += 2) await seedDirect(store, `c_${i}`, [`u_${i}`, `u_${i + 1}`], at);
        await seedGroup(store, 'c_g', 'G', ['u_0', 'u_2', 'u_4'], at);
        const queries = countQueries(pool);
        const users = await Promise.all([
          ...Array.from({ length: 20 }, (_, i) => counted.users.userByKeyHash(`h_${i}`)),
          counted.users.userByKeyHash('h_unknown'),
          counted.users.userByKeyHash('h_3'),
        ]);
        expect(users.map((u) => u?.id ?? null)).toEqual([
          ...Array.from({ length: 20 }, (_, i) => `u_${i}`),
          null,
          'u_3',
        ]);
        expect(queries()).toBe(1);
        const contacts = await Promise.all(
          ['u_0', 'u_1', 'u_4', 'u_nobody', 'u_0'].map((id) => counted.conversations.contacts(id)),
        );
        expect(contacts.map((c) => [...c].sort())).toEqual([
          ['u_1', 'u_2', 'u_4'],
          ['u_0'],
          ['u_0', 'u_2', 'u_5'],
          [],
          ['u_1', 'u_2', 'u_4'],
        ]);
        expect(queries()).toBe(2);
      }));

    it('answers the membership and dedup reads of a burst of sends asked in one event-loop turn with one query', () =>
      withCountedTwin(async ({ store, pool, counted, at }) => {
        await seedUsers(store, ['u_a', 'u_b', 'u_c'], at);
        await seedDirect(store, 'c_ab', ['u_a', 'u_b'], at);
        await store.records.apply([created('c_ab', 'u_a', 1, 'cm_1', at), created('c_ab', 'u_b', 2, 'cm_2', at)]);
        const queries = countQueries(pool);
        const [memberA, memberC, memberB, sent1, unsent, sent2, sent1Again] = await Promise.all([
          counted.conversations.membership('c_ab', 'u_a'),
          counted.conversations.membership('c_ab', 'u_c'),
          counted.conversations.membership('c_ab', 'u_b'),
          counted.messages.messageKey('u_a', 'cm_1'),
          counted.messages.messageKey('u_a', 'cm_2'),
          counted.messages.messageKey('u_b', 'cm_2'),
          counted.messages.messageKey('u_a', 'cm_1'),
        ]);
        expect(queries()).toBe(1);
        expect(memberA).toEqual({
          userId: 'u_a',
          joinedSeq: 0,
          readSeq: 1,
          deliveredSeq: 1,
          muted: false,
          role: 'member',
          request: 'accepted',
        });
        expect(memberC).toBeNull();
        expect(memberB).toEqual({
          userId: 'u_b',
          joinedSeq: 0,
          readSeq: 2,
          deliveredSeq: 2,
          muted: false,
          role: 'member',
          request: 'accepted',
        });
        expect(sent1).toEqual({ conversationId: 'c_ab', seq: 1, messageId: 'm_c_ab_1' });
        expect(unsent).toBeNull();
        expect(sent2).toEqual({ conversationId: 'c_ab', seq: 2, messageId: 'm_c_ab_2' });
        expect(sent1Again).toEqual(sent1);
        // A retry reads the message itself too.
        expect(await counted.messages.messageByClientId('u_a', 'cm_1')).toEqual({
          ...created('c_ab', 'u_a', 1, 'cm_1', at).message,
        });
        expect(await counted.messages.messageByClientId('u_a', 'cm_2')).toBeNull();
      }));

    it('keeps probing the indexes for the send reads and contact lists when the tables grow after the statements were planned (no statistics)', () =>
      inSchema(
        async ({ store, schema }) => {
          const { pool } = (store as unknown as { db: { pool: pg.Pool } }).db;
          const round = () =>
            Promise.all([
              store.conversations.membership('c_1', 'u_1'),
              store.conversations.membership('c_2', 'u_2'),
              store.messages.messageKey('u_1', 'k_1'),
              store.messages.messageKey('u_2', 'k_9'),
              store.conversations.contacts('u_1'),
              store.conversations.contacts('u_3'),
            ]);
          // Planned (and, after five executions, cached as generic) while the tables are empty.
          for (let i = 0; i < 8; i++) await round();
          await admin.query(
            `INSERT INTO ${schema}.members (conversation_id, user_id, active_minute) SELECT 'c_' || g, 'u_' || g, 0 FROM generate_series(1, 5000) g`,
          );
          await admin.query(
            `INSERT INTO ${schema}.members (conversation_id, user_id, active_minute) VALUES ('c_1', 'u_2', 0), ('c_3', 'u_1', 0)`,
          );
          await admin.query(
            `INSERT INTO ${schema}.message_keys SELECT 'u_' || g, 'k_' || g, 'c_' || g, g, 'm_' || g FROM generate_series(1, 5000) g`,
          );
          const scans = () => seqScans(pool, schema, ['members', 'message_keys']);
          const before = await scans();
          const [a, , k, , contacts] = await round();
          expect(a).toMatchObject({ userId: 'u_1' });
          expect(k).toEqual({ conversationId: 'c_1', seq: 1, messageId: 'm_1' });
          expect([...contacts].sort()).toEqual(['u_2', 'u_3']);
          for (let i = 0; i < 3; i++) await round();
          expect(await scans()).toEqual(before);
        },
        { maxConnections: 1 },
      ));

    it('never JIT-compiles its statements (a compile costs more than the few rows they touch)', () =>
      inSchema(
        async ({ store, schema }) => {
          const { pool } = (store as unknown as { db: { pool: pg.Pool } }).db;
          // Any cost would cross this threshold; with JIT on, EXPLAIN ANALYZE reports the compile.
          await pool.query('SET jit_above_cost = 0');
          const { rows } = await pool.query<{ 'QUERY PLAN': string }>(
            "EXPLAIN (ANALYZE) SELECT m.user_id FROM unnest('{c_1}'::text[], '{u_1}'::text[]) AS q(c, u) JOIN members m ON m.conversation_id = q.c AND m.user_id = q.u",
          );
          const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
          expect(plan).toContain('Execution Time');
          expect(plan).not.toContain('JIT');
          const available = await admin.query<{ a: boolean }>('SELECT pg_jit_available() AS a');
          if (available.rows[0]!.a) {
            // The same statement on a connection with the server's defaults does compile here.
            const plain = new pg.Client({
              connectionString: URL,
              options: `-c search_path=${schema} -c jit_above_cost=0`,
            });
            await plain.connect();
            const other = await plain.query<{ 'QUERY PLAN': string }>(
              "EXPLAIN (ANALYZE) SELECT m.user_id FROM unnest('{c_1}'::text[], '{u_1}'::text[]) AS q(c, u) JOIN members m ON m.conversation_id = q.c AND m.user_id = q.u",
            );
            await plain.end();
            expect(other.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('JIT');
          }
        },
        { maxConnections: 1 },
      ));

    it('lists 1,000 chats in a constant number of queries', () =>
      withCountedTwin(async ({ store, pool, counted }) => {
        const viewer = await store.users.createUser({
          id: 'u_v',
          username: 'v',
          displayName: 'V',
          createdAt: new Date().toISOString(),
          apiKeyHash: 'h_v',
        });
        await store.users.createUser({
          id: 'u_o',
          username: 'o',
          displayName: 'O',
          createdAt: new Date().toISOString(),
          apiKeyHash: 'h_o',
        });
        const base = Date.UTC(2030, 0, 1);
        // Seeded in bulk: 1,000 createConversation transactions would time the machine's fsync, not the chat list.
        await pool.query(
          `WITH c AS (INSERT INTO conversations (id, kind, title, created_at, last_activity_at)
                      SELECT 'c_' || i, 'group', 'G' || i, $1, $1 FROM generate_series(0, 999) i RETURNING id)
           INSERT INTO members (conversation_id, user_id, active_minute) SELECT c.id, u, messenger_minute($1) FROM c, unnest(ARRAY['u_v', 'u_o']) u`,
          [new Date(base).toISOString()],
        );
        await store.records.apply(
          Array.from({ length: 1000 }, (_, i) =>
            created(`c_${i}`, 'u_o', 1, `cm_${i}`, new Date(base + i * 1000).toISOString()),
          ),
        );
        const queries = countQueries(pool);
        const started = performance.now();
        const page = await counted.conversations.conversations(viewer.id, 50, null);
        const elapsed = performance.now() - started;
        expect(page.conversations.map((c) => c.id).slice(0, 3)).toEqual(['c_999', 'c_998', 'c_997']);
        expect(page.conversations[0]).toMatchObject({ unreadCount: 1, lastMessage: { body: 'hello 1' } });
        expect(page.conversations[0]!.members).toHaveLength(2);
        expect(queries()).toBe(2);
        expect(elapsed).toBeLessThan(1000);
        let seen = page.conversations.length;
        let cursor = page.nextCursor;
        while (cursor) {
          const next = await counted.conversations.conversations(viewer.id, 200, cursor);
          seen += next.conversations.length;
          cursor = next.nextCursor;
        }
        expect(seen).toBe(1000);
      }));
  });
});

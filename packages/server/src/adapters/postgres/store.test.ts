// PostgresStore against a real PostgreSQL: every store port's contract unchanged, plus what only PostgreSQL
// has (concurrent migrations, hash partitions, connection failures, chat-list round trips).
// Each store gets its own schema, dropped on close, so files and tests can run in parallel.
// PG_TEST_URL overrides the server; without it and without a server the suite skips, saying why.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../core/log-entries.js';
import { storeContract } from '../../core/store.contract.js';
import { MESSAGE_PARTITIONS, MIGRATIONS, migrate } from './migrations.js';
import { PostgresStore } from './store.js';
import {
  admin,
  countQueries,
  dropSchema,
  freshSchema,
  openInSchema,
  openWithCountedTwin,
  reachable,
  seqScans,
  nextPos,
  sent,
  URL,
} from './test-db.js';

const open = async (): Promise<PostgresStore> => (await openInSchema()).store;

type Created = Extract<LogRecord, { type: 'message.created' }>;

const created = (
  conversationId: string,
  senderId: string,
  seq: number,
  clientMsgId: string,
  createdAt: string,
): Created => sent(conversationId, senderId, seq, { clientMsgId, createdAt });

if (!reachable) {
  describe.skip(`PostgresStore: no PostgreSQL at ${URL} (start it or set PG_TEST_URL)`, () => {
    it('contract', () => undefined);
  });
} else {
  storeContract('PostgresStore', { open });

  describe('PostgresStore on PostgreSQL', () => {
    it('migrates once when two processes migrate the same schema at the same time', async () => {
      const schema = freshSchema();
      const pools = [0, 1].map(
        () => new pg.Pool({ connectionString: URL, max: 1, options: `-c search_path=${schema}` }),
      );
      try {
        await Promise.all(pools.map((pool) => migrate(pool, schema)));
        await migrate(pools[0]!, schema);
        const { rows } = await admin.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
        expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
        await dropSchema(schema);
      }
    });

    it('hash-partitions messages by conversation_id', async () => {
      const { store, schema } = await openInSchema();
      try {
        const { rows } = await admin.query(
          `SELECT p.partstrat, a.attname,
                  (SELECT count(*)::int FROM pg_inherits i WHERE i.inhparent = p.partrelid) AS partitions
             FROM pg_partitioned_table p
             JOIN pg_class c ON c.oid = p.partrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]
            WHERE n.nspname = $1 AND c.relname = 'messages'`,
          [schema],
        );
        expect(rows).toEqual([{ partstrat: 'h', attname: 'conversation_id', partitions: MESSAGE_PARTITIONS }]);
        const at = new Date().toISOString();
        await store.records.apply(Array.from({ length: 32 }, (_, i) => created(`c_${i}`, 'u_a', 1, `cm_${i}`, at)));
        const spread = await admin.query(`SELECT DISTINCT tableoid FROM ${schema}.messages`);
        expect(spread.rowCount).toBeGreaterThan(1);
      } finally {
        await store.close();
      }
    });

    it('keeps (sender, clientMsgId) idempotent across conversations through message_keys', async () => {
      const store = await open();
      try {
        const at = new Date().toISOString();
        await store.records.apply([created('c_1', 'u_a', 1, 'cm_same', at), created('c_2', 'u_a', 1, 'cm_same', at)]);
        expect(await store.messages.messageByClientId('u_a', 'cm_same')).toMatchObject({
          conversationId: 'c_1',
          seq: 1,
        });
        expect(await store.messages.message('c_2', 'm_c_2_1')).toBeNull();
        // A record whose (conversation, seq) is taken is ignored whole: its key is not left behind.
        const other = created('c_1', 'u_b', 1, 'cm_other', at);
        await store.records.apply([{ ...other, message: { ...other.message, id: 'm_other' } }]);
        expect(await store.messages.messageByClientId('u_b', 'cm_other')).toBeNull();
      } finally {
        await store.close();
      }
    });

    it('applies a batch in order, as if record by record: replays, conflicts and edits inside one call', async () => {
      const store = await open();
      try {
        const at = new Date().toISOString();
        const a = created('c_b', 'u_a', 1, 'cm_a', at);
        const clash: Created = {
          ...a,
          pos: nextPos(),
          message: { ...a.message, id: 'm_clash', senderId: 'u_b', clientMsgId: 'cm_clash', body: 'clash' },
        };
        const edit: LogRecord = {
          type: 'message.updated',
          conversationId: 'c_b',
          messageId: a.message.id,
          body: 'edited',
          editedAt: at,
          message: a.message,
          pos: nextPos(),
        };
        const b = created('c_b', 'u_b', 2, 'cm_b', at);
        const batch = [a, a, clash, edit, b, a];
        await store.records.apply(batch);
        await store.records.apply(batch);
        const all = await store.messages.history('c_b', 'u_a', { limit: 10 });
        expect(all.map((m) => [m.seq, m.id, m.body])).toEqual([
          [1, a.message.id, 'edited'],
          [2, 'm_c_b_2', 'hello 2'],
        ]);
        expect(await store.messages.messageByClientId('u_b', 'cm_clash')).toBeNull();
        expect(await store.conversations.lastSeq('c_b')).toBe(0); // no conversations row: nothing to bump, as in SQLite
      } finally {
        await store.close();
      }
    });

    it('stores text holding U+0000 (logged before the API refused it) with U+FFFD, instead of failing the batch for good', async () => {
      const store = await open();
      try {
        const at = new Date().toISOString();
        const a = created('c_nul', 'u_a', 1, 'cm_\u0000', at);
        const nul: Created = { ...a, message: { ...a.message, body: 'a\u0000b' } };
        const edit: LogRecord = {
          type: 'message.updated',
          conversationId: 'c_nul',
          messageId: a.message.id,
          body: 'c\u0000d',
          editedAt: at,
          message: nul.message,
          pos: nextPos(),
        };
        const react: LogRecord = {
          type: 'reaction.updated',
          conversationId: 'c_nul',
          messageId: a.message.id,
          userId: 'u_b',
          emoji: '\u0000',
          pos: nextPos(),
        };
        await store.records.apply([nul]);
        expect((await store.messages.history('c_nul', 'u_a', { limit: 10 })).map((m) => m.body)).toEqual(['a\uFFFDb']);
        await store.records.apply([edit, react, created('c_nul', 'u_a', 2, 'cm_next', at)]);
        const all = await store.messages.history('c_nul', 'u_a', { limit: 10 });
        expect(all.map((m) => [m.seq, m.body])).toEqual([
          [1, 'c\uFFFDd'],
          [2, 'hello 2'],
        ]);
        expect(all[0]!.reactions).toEqual([{ userId: 'u_b', emoji: '\uFFFD' }]);
        expect(await store.messages.messageByClientId('u_a', 'cm_\uFFFD')).toMatchObject({ seq: 1 });
      } finally {
        await store.close();
      }
    });

    it('answers the API-key and contact lookups asked in one event-loop turn with one query each (a connect wave)', async () => {
      const { store, pool, counted, close } = await openWithCountedTwin();
      try {
        const at = new Date().toISOString();
        for (let i = 0; i < 20; i++)
          await store.users.createUser({
            id: `u_${i}`,
            username: `user${i}`,
            displayName: `U${i}`,
            createdAt: at,
            apiKeyHash: `h_${i}`,
          });
        for (let i = 0; i < 20; i += 2) {
          await store.conversations.createConversation({
            id: `c_${i}`,
            kind: 'direct',
            title: null,
            createdAt: at,
            memberIds: [`u_${i}`, `u_${i + 1}`],
            directKey: `u_${i}:u_${i + 1}`,
          });
        }
        await store.conversations.createConversation({
          id: 'c_g',
          kind: 'group',
          title: 'G',
          createdAt: at,
          memberIds: ['u_0', 'u_2', 'u_4'],
          directKey: null,
        });
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
      } finally {
        await close();
      }
    });

    it('answers the membership and dedup reads of a burst of sends asked in one event-loop turn with one query', async () => {
      const { store, pool, counted, close } = await openWithCountedTwin();
      try {
        const at = new Date().toISOString();
        for (const id of ['u_a', 'u_b', 'u_c'])
          await store.users.createUser({ id, username: id, displayName: id, createdAt: at, apiKeyHash: `h_${id}` });
        await store.conversations.createConversation({
          id: 'c_ab',
          kind: 'direct',
          title: null,
          createdAt: at,
          memberIds: ['u_a', 'u_b'],
          directKey: 'u_a:u_b',
        });
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
      } finally {
        await close();
      }
    });

    it('keeps search_lexemes equal to the words of the indexed texts through sends, replays, conflicts, edits and deletes', async () => {
      const { store, schema } = await openInSchema();
      const words = async () => {
        const [kept, indexed] = await Promise.all([
          admin.query<{ w: string }>(`SELECT lexeme AS w FROM ${schema}.search_lexemes ORDER BY 1`),
          admin.query<{ w: string }>(
            `SELECT word AS w FROM ts_stat('SELECT search FROM ${schema}.messages') ORDER BY 1`,
          ),
        ]);
        expect(kept.rows.map((r) => r.w)).toEqual(indexed.rows.map((r) => r.w));
        return kept.rows.map((r) => r.w);
      };
      const say = (r: Created, body: string): Created => ({ ...r, message: { ...r.message, body } });
      try {
        const at = new Date().toISOString();
        await store.records.apply([
          say(created('c_1', 'u_a', 1, 'cm_1', at), 'Crème brûlée tonight'),
          say(created('c_1', 'u_b', 2, 'cm_2', at), 'tonight is fine'),
        ]);
        expect(await words()).toEqual(['brulee', 'creme', 'fine', 'is', 'tonight']);
        // A replay (same sender + clientMsgId) and a record whose seq is taken add none of their words.
        await store.records.apply([
          say(created('c_1', 'u_a', 3, 'cm_1', at), 'replayed words'),
          say(created('c_1', 'u_c', 2, 'cm_3', at), 'conflicting words'),
        ]);
        expect(await words()).toEqual(['brulee', 'creme', 'fine', 'is', 'tonight']);
        await store.records.apply([
          {
            type: 'message.updated',
            conversationId: 'c_1',
            pos: nextPos(),
            messageId: 'm_c_1_1',
            body: 'Crème caramel',
            editedAt: at,
            message: { ...created('c_1', 'u_a', 1, 'cm_1', at).message, body: 'Crème caramel' },
          },
          {
            type: 'message.deleted',
            conversationId: 'c_1',
            pos: nextPos(),
            messageId: 'm_c_1_2',
            for: 'everyone',
            userId: 'u_b',
            at,
          },
        ]);
        expect(await words()).toEqual(['caramel', 'creme']);
      } finally {
        await store.close();
      }
    });

    it('keeps probing the indexes for the send reads and contact lists when the tables grow after the statements were planned (no statistics)', async () => {
      const schema = freshSchema();
      const store = await PostgresStore.open({ connectionString: URL, schema, maxConnections: 1 });
      try {
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
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    });

    it('never JIT-compiles its statements (a compile costs more than the few rows they touch)', async () => {
      const schema = freshSchema();
      const store = await PostgresStore.open({ connectionString: URL, schema, maxConnections: 1 });
      try {
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
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    });

    it('lists 1,000 chats in a constant number of queries', async () => {
      const { store, pool, counted, close } = await openWithCountedTwin();
      try {
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
      } finally {
        await close();
      }
    });

    it('answers unavailable when the database cannot be reached', async () => {
      const store = new PostgresStore({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
      try {
        await expect(store.ping()).rejects.toMatchObject({ code: 'unavailable' });
        await expect(store.users.userByUsername('x')).rejects.toMatchObject({ code: 'unavailable' });
        await expect(store.records.apply([created('c', 'u', 1, 'cm', new Date().toISOString())])).rejects.toMatchObject(
          {
            code: 'unavailable',
          },
        );
      } finally {
        await store.close();
      }
    });
  });
}

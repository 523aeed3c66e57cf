// PostgresStore against a real PostgreSQL: every store port's contract unchanged, plus what only PostgreSQL
// has (concurrent migrations, hash partitions, applying batches of log records, connection failures).
// What its reads cost (round trips, plans) is in query-cost.test.ts.
// Each store gets its own schema, dropped on close, so files and tests can run in parallel.
// PG_TEST_URL overrides the server; without it and without a server the suite skips, saying why.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../core/log-entries.js';
import { storeContract } from '../../core/store.contract.js';
import { migrate } from './migrate.js';
import { MESSAGE_PARTITIONS, MIGRATIONS } from './migrations.js';
import { PostgresStore } from './store.js';
import {
  admin,
  type Created,
  created,
  dropSchema,
  freshSchema,
  inSchema,
  nextPos,
  onPostgres,
  openInSchema,
  URL,
} from './test-db.js';

const open = async (): Promise<PostgresStore> => (await openInSchema()).store;

onPostgres('PostgresStore', () => {
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

    it('hash-partitions messages by conversation_id', () =>
      inSchema(async ({ store, schema }) => {
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
      }));

    it('keeps (sender, clientMsgId) idempotent across conversations through message_keys', () =>
      inSchema(async ({ store, at }) => {
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
      }));

    it('applies a batch in order, as if record by record: replays, conflicts and edits inside one call', () =>
      inSchema(async ({ store, at }) => {
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
      }));

    it('stores text holding U+0000 (logged before the API refused it) with U+FFFD, instead of failing the batch for good', () =>
      inSchema(async ({ store, at }) => {
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
      }));

    it('keeps search_lexemes equal to the words of the indexed texts through sends, replays, conflicts, edits and deletes', () =>
      inSchema(async ({ store, schema, at }) => {
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
      }));

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
});

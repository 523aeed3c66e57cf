// The PostgreSQL chat list (GetChats) as a range of members_by_activity (migration 7): a page reads
// about its own rows whatever the viewer's number of chats and the statistics, the minute of activity
// copied to the member rows follows every write (including a member added while a message is being
// written), and the migration fills it on an existing schema.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../core/log-entries.js';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations.js';
import { PostgresStore } from './store.js';
import { admin, dropSchema, freshSchema, onPostgres, seedDirect, seedUsers, sent, seqScans, URL } from './test-db.js';

const created = (conversationId: string, senderId: string, seq: number, at: number): LogRecord =>
  sent(conversationId, senderId, seq, { createdAt: at });

const BASE = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const minute = (ms: number) => Math.floor(ms / MINUTE);

/** A store on one connection in a fresh schema (so the statistics it reads are its own backend's). */
async function openSingle(): Promise<{
  store: PostgresStore;
  pool: pg.Pool;
  schema: string;
  close: () => Promise<void>;
}> {
  const schema = freshSchema();
  const store = await PostgresStore.open({ connectionString: URL, schema, maxConnections: 1 });
  const { pool } = (store as unknown as { db: { pool: pg.Pool } }).db;
  return {
    store,
    pool,
    schema,
    close: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
}

const activity = async (schema: string, conversationId: string) =>
  (
    await admin.query<{ user_id: string; m: number }>(
      `SELECT user_id, active_minute AS m FROM ${schema}.members WHERE conversation_id = $1 ORDER BY user_id`,
      [conversationId],
    )
  ).rows.map((r) => [r.user_id, r.m]);

onPostgres('PostgreSQL chat list', () => {
  describe('PostgreSQL chat list', () => {
    it('reads a page of a 1,000-chat viewer as one index range, even on a plan made while the tables were empty', async () => {
      const { store, pool, schema, close } = await openSingle();
      try {
        for (const id of ['u_v', 'u_o'])
          await store.users.createUser({
            id,
            username: id,
            displayName: id,
            createdAt: new Date(BASE).toISOString(),
            apiKeyHash: `h_${id}`,
          });
        // Planned, and after five executions cached as generic, on empty tables.
        for (let i = 0; i < 8; i++) await store.conversations.conversations('u_v', 50, null);
        await admin.query(
          `WITH c AS (INSERT INTO ${schema}.conversations (id, kind, title, created_at, last_activity_at)
                      SELECT 'c_' || i, 'group', 'G' || i, $1, $1 FROM generate_series(0, 999) i RETURNING id)
           INSERT INTO ${schema}.members (conversation_id, user_id, active_minute) SELECT c.id, u, ${minute(BASE)} FROM c, unnest(ARRAY['u_v', 'u_o']) u`,
          [new Date(BASE).toISOString()],
        );
        // Other users' chats, so the tables hold more than the viewer's rows.
        await admin.query(
          `WITH c AS (INSERT INTO ${schema}.conversations (id, kind, title, created_at, last_activity_at)
                      SELECT 'x_' || i, 'group', 'X' || i, $1, $1 FROM generate_series(0, 3999) i RETURNING id)
           INSERT INTO ${schema}.members (conversation_id, user_id, active_minute) SELECT c.id, u, ${minute(BASE)} FROM c, unnest(ARRAY['u_o', 'u_x']) u`,
          [new Date(BASE).toISOString()],
        );
        // Activity in an order unlike the ids, three chats a minute: chat i was last active at
        // BASE + ((i * 7) % 1000) * 20 s (plus a second).
        await store.records.apply(
          Array.from({ length: 1000 }, (_, i) => created(`c_${i}`, 'u_o', 1, BASE + ((i * 7) % 1000) * 20_000 + 1000)),
        );
        const expected = Array.from({ length: 1000 }, (_, i) => i)
          .sort((a, b) => ((b * 7) % 1000) - ((a * 7) % 1000))
          .map((i) => `c_${i}`);

        const stats = async () => {
          await pool.query('SELECT pg_stat_force_next_flush()');
          const { rows } = await admin.query<{ relname: string; seq_scan: string; idx_tup_fetch: string }>(
            `SELECT relname, seq_scan, idx_tup_fetch FROM pg_stat_user_tables WHERE schemaname = $1 AND relname IN ('members', 'conversations') ORDER BY relname`,
            [schema],
          );
          return Object.fromEntries(
            rows.map((r) => [r.relname, { seqScans: Number(r.seq_scan), fetched: Number(r.idx_tup_fetch) }]),
          );
        };
        const before = await stats();
        const first = await store.conversations.conversations('u_v', 50, null);
        const second = await store.conversations.conversations('u_v', 50, first.nextCursor);
        const after = await stats();
        expect(first.conversations.map((c) => c.id)).toEqual(expected.slice(0, 50));
        expect(second.conversations.map((c) => c.id)).toEqual(expected.slice(50, 100));
        expect(after.members!.seqScans).toBe(before.members!.seqScans);
        expect(after.conversations!.seqScans).toBe(before.conversations!.seqScans);
        // Per page: 51 chats to find the oldest minute it reaches, then the chats from that minute
        // up (51 and at most 2 more that share the minute), plus the member lists of the chats shown
        // (two rows each), and a few more for the row versions the writes left behind. Not the
        // viewer's 1,000 memberships per page, nor 5,000 conversations.
        expect(after.members!.fetched - before.members!.fetched).toBeLessThanOrEqual(2 * (51 + 53) + 2 * 100 + 10);
        expect(after.conversations!.fetched - before.conversations!.fetched).toBeLessThanOrEqual(2 * (51 + 53) + 10);

        let seen = first.conversations.length + second.conversations.length;
        let cursor = second.nextCursor;
        const ids = [...first.conversations, ...second.conversations].map((c) => c.id);
        while (cursor) {
          const next = await store.conversations.conversations('u_v', 200, cursor);
          ids.push(...next.conversations.map((c) => c.id));
          seen += next.conversations.length;
          cursor = next.nextCursor;
        }
        expect(seen).toBe(1000);
        expect(ids).toEqual(expected);
      } finally {
        await close();
      }
    });

    it('copies each write to every member row, also of a member added while that write waits or runs', async () => {
      const { store, schema, close } = await openSingle();
      const other = new pg.Client({ connectionString: URL, options: `-c search_path=${schema}` });
      await other.connect();
      try {
        const at = new Date(BASE).toISOString();
        await seedUsers(store, ['u_a', 'u_b', 'u_c', 'u_d'], at);
        await store.conversations.createConversation({
          id: 'c_g',
          kind: 'group',
          title: 'G',
          createdAt: at,
          memberIds: ['u_a', 'u_b'],
          directKey: null,
        });
        const m0 = minute(BASE);
        expect(await activity(schema, 'c_g')).toEqual([
          ['u_a', m0],
          ['u_b', m0],
        ]);
        await store.records.apply([created('c_g', 'u_a', 1, BASE + MINUTE)]);
        expect(await activity(schema, 'c_g')).toEqual([
          ['u_a', m0 + 1],
          ['u_b', m0 + 1],
        ]);
        // A message in the same minute rewrites no member row.
        const versions = async () =>
          (
            await admin.query<{ x: string }>(
              `SELECT xmin::text AS x FROM ${schema}.members WHERE conversation_id = 'c_g' AND user_id = 'u_b'`,
            )
          ).rows[0]!.x;
        const version = await versions();
        await store.records.apply([created('c_g', 'u_a', 2, BASE + MINUTE + 30_000)]);
        expect(await versions()).toBe(version);
        expect(await activity(schema, 'c_g')).toEqual([
          ['u_a', m0 + 1],
          ['u_b', m0 + 1],
        ]);

        // A message write holds the conversation (not committed yet; these are its statements):
        // addMembers waits for it and copies its result.
        await other.query('BEGIN');
        await other.query(`SELECT 1 FROM conversations WHERE id = 'c_g' FOR NO KEY UPDATE`);
        await other.query(`UPDATE conversations SET last_seq = 3, last_activity_at = $1 WHERE id = 'c_g'`, [
          new Date(BASE + 2 * MINUTE).toISOString(),
        ]);
        await other.query(`UPDATE members SET active_minute = ${m0 + 2} WHERE conversation_id = 'c_g'`);
        const adding = store.conversations.addMembers('c_g', ['u_c']);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await other.query('COMMIT');
        expect(await adding).toEqual(['u_c']);
        expect(await activity(schema, 'c_g')).toEqual([
          ['u_a', m0 + 2],
          ['u_b', m0 + 2],
          ['u_c', m0 + 2],
        ]);
        expect(await store.conversations.membership('c_g', 'u_c')).toMatchObject({ joinedSeq: 3 });

        // A member is being added (the conversation held FOR SHARE, the row not committed) while a
        // message is written: the write waits, then its activity reaches the new member too. The
        // write's statement must take its snapshot after that wait, or it misses the new row.
        await other.query('BEGIN');
        await other.query(`SELECT 1 FROM conversations WHERE id = 'c_g' FOR SHARE`);
        await other.query(
          `INSERT INTO members (conversation_id, user_id, joined_seq, read_seq, delivered_seq, active_minute) VALUES ('c_g', 'u_d', 3, 3, 3, ${m0 + 2})`,
        );
        const writing = store.records.apply([created('c_g', 'u_b', 4, BASE + 3 * MINUTE)]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await other.query('COMMIT');
        await writing;
        expect(await activity(schema, 'c_g')).toEqual([
          ['u_a', m0 + 3],
          ['u_b', m0 + 3],
          ['u_c', m0 + 3],
          ['u_d', m0 + 3],
        ]);
        expect(
          (await store.conversations.conversations('u_d', 10, null)).conversations.map((c) => [
            c.id,
            c.lastMessage?.seq,
          ]),
        ).toEqual([['c_g', 4]]);
      } finally {
        await other.end();
        await close();
      }
    });

    it('keeps the members of the chats a write touches by index probes when the tables grew after the write was planned', async () => {
      const { store, pool, schema, close } = await openSingle();
      try {
        const at = new Date(BASE).toISOString();
        await seedDirect(store, 'c_1', ['u_a', 'u_b'], at);
        // Planned, and after five executions cached as generic, on nearly empty tables (never
        // analyzed: with autovacuum off they may stay so).
        for (let seq = 1; seq <= 8; seq++) await store.records.apply([created('c_1', 'u_a', seq, BASE + seq * MINUTE)]);
        await admin.query(
          `WITH c AS (INSERT INTO ${schema}.conversations (id, kind, title, created_at, last_activity_at)
                      SELECT 'x_' || i, 'group', 'X' || i, $1, $1 FROM generate_series(0, 4999) i RETURNING id)
           INSERT INTO ${schema}.members (conversation_id, user_id, active_minute) SELECT c.id, u, ${minute(BASE)} FROM c, unnest(ARRAY['u_o', 'u_x']) u`,
          [at],
        );
        const scans = () => seqScans(pool, schema, ['members', 'conversations']);
        const before = await scans();
        await store.records.apply([
          created('c_1', 'u_b', 9, BASE + 20 * MINUTE),
          created('x_7', 'u_o', 1, BASE + 21 * MINUTE),
        ]);
        expect(await scans()).toEqual(before);
        expect(await activity(schema, 'c_1')).toEqual([
          ['u_a', minute(BASE) + 20],
          ['u_b', minute(BASE) + 20],
        ]);
        expect(await activity(schema, 'x_7')).toEqual([
          ['u_o', minute(BASE) + 21],
          ['u_x', minute(BASE) + 21],
        ]);
        expect(await store.conversations.membership('c_1', 'u_b')).toMatchObject({ readSeq: 9, deliveredSeq: 9 });
        expect(await store.conversations.membership('c_1', 'u_a')).toMatchObject({ readSeq: 8, deliveredSeq: 8 });
      } finally {
        await close();
      }
    });

    it('fills the activity of every member row when migration 7 runs on an existing schema', async () => {
      const schema = freshSchema();
      const pool = new pg.Pool({ connectionString: URL, max: 1, options: `-c search_path=${schema}` });
      try {
        await pool.query(`CREATE SCHEMA ${schema}`);
        await pool.query(
          'CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
        );
        for (let v = 0; v < 6; v++) {
          await pool.query(MIGRATIONS[v]!);
          await pool.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v + 1]);
        }
        await pool.query(
          `INSERT INTO conversations (id, kind, title, created_at, last_activity_at)
           VALUES ('c_1', 'direct', NULL, $1, $2), ('c_2', 'direct', NULL, $1, $1)`,
          [new Date(BASE).toISOString(), new Date(BASE + 5 * MINUTE).toISOString()],
        );
        await pool.query(
          `INSERT INTO members (conversation_id, user_id) VALUES ('c_1', 'u_a'), ('c_1', 'u_b'), ('c_2', 'u_a')`,
        );
        await pool.query(
          `INSERT INTO users (id, username, display_name, created_at) VALUES ('u_a', 'a', 'A', $1), ('u_b', 'b', 'B', $1)`,
          [new Date(BASE).toISOString()],
        );
        await migrate(pool, schema);
        const { rows } = await pool.query<{ conversation_id: string; user_id: string; m: number }>(
          'SELECT conversation_id, user_id, active_minute AS m FROM members ORDER BY 1, 2',
        );
        expect(rows.map((r) => [r.conversation_id, r.user_id, r.m])).toEqual([
          ['c_1', 'u_a', minute(BASE) + 5],
          ['c_1', 'u_b', minute(BASE) + 5],
          ['c_2', 'u_a', minute(BASE)],
        ]);
        const store = new PostgresStore({ pool });
        expect((await store.conversations.conversations('u_a', 10, null)).conversations.map((c) => c.id)).toEqual([
          'c_1',
          'c_2',
        ]);
      } finally {
        await pool.end();
        await dropSchema(schema);
      }
    });
  });
});

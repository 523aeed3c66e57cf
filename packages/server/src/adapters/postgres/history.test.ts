// PostgreSQL history pages: named statements, so a connection plans them once (planning over the
// partitions cost more than running them), and the generic plan keeps probing one partition's
// primary key when the table grew after it was made.
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../core/log-entries.js';
import { PostgresStore } from './store.js';
import { admin, dropSchema, freshSchema, onPostgres, seedDirect, seedUsers, sent, URL } from './test-db.js';

const created = (conversationId: string, senderId: string, seq: number): LogRecord =>
  sent(conversationId, senderId, seq, { createdAt: Date.UTC(2030, 0, 1) + seq * 1000 });

onPostgres('PostgreSQL history', () => {
  describe('PostgreSQL history', () => {
    it('plans its pages once per connection and keeps probing the primary key as the table grows', async () => {
      const schema = freshSchema();
      const store = await PostgresStore.open({ connectionString: URL, schema, maxConnections: 1 });
      try {
        const { pool } = (store as unknown as { db: { pool: pg.Pool } }).db;
        const at = new Date().toISOString();
        await seedUsers(store, ['u_a', 'u_b'], at);
        await seedDirect(store, 'c_1', ['u_a', 'u_b'], at);
        await store.records.apply([created('c_1', 'u_a', 1), created('c_1', 'u_b', 2)]);
        // Planned, and after five executions cached as generic, while the tables are nearly empty.
        for (let i = 0; i < 8; i++) {
          await store.messages.history('c_1', 'u_a', { limit: 50 });
          await store.messages.history('c_1', 'u_a', { limit: 50, afterSeq: 0 });
        }
        await store.records.apply(
          Array.from({ length: 3000 }, (_, i) => created(`c_x${i % 300}`, 'u_b', Math.floor(i / 300) + 1)),
        );
        await store.records.apply(Array.from({ length: 298 }, (_, i) => created('c_1', i % 2 ? 'u_a' : 'u_b', i + 3)));
        const scans = async () => {
          await pool.query('SELECT pg_stat_force_next_flush()');
          const { rows } = await admin.query<{ n: string }>(
            `SELECT coalesce(sum(seq_scan), 0) AS n FROM pg_stat_user_tables WHERE schemaname = $1 AND relname LIKE 'messages_p%'`,
            [schema],
          );
          return Number(rows[0]!.n);
        };
        const before = await scans();
        const newest = await store.messages.history('c_1', 'u_a', { limit: 50 });
        const older = await store.messages.history('c_1', 'u_a', { limit: 50, beforeSeq: 40 });
        const after = await store.messages.history('c_1', 'u_a', { limit: 20, afterSeq: 100, beforeSeq: 110 });
        expect(newest.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 251 + i));
        expect(older.map((m) => m.seq)).toEqual(Array.from({ length: 39 }, (_, i) => 1 + i));
        expect(after.map((m) => m.seq)).toEqual(Array.from({ length: 9 }, (_, i) => 101 + i));
        expect(await scans()).toBe(before);
        const { rows } = await pool.query<{ name: string; generic_plans: string }>(
          "SELECT name, generic_plans FROM pg_prepared_statements WHERE name LIKE 'messenger.history.%' ORDER BY name",
        );
        expect(rows.map((r) => [r.name, Number(r.generic_plans) > 0])).toEqual([
          ['messenger.history.after', true],
          ['messenger.history.newest', true],
        ]);
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    });
  });
});

// The PostgreSQL the adapter tests run against (PG_TEST_URL, or the local server): an admin pool,
// whether it is reachable (without PG_TEST_URL and without a server onPostgres() skips, saying why),
// fresh schemas dropped on close, and a query counter for round-trip tests. Not part of the build.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import type { LogRecord } from '../../core/log-entries.js';
import type { Sent } from '../sql/apply.js';
import { PostgresStore } from './store.js';

export const URL = process.env.PG_TEST_URL ?? `postgres://${os.userInfo().username}@127.0.0.1:5432/test`;
export const admin = new pg.Pool({ connectionString: URL, max: 2 });
admin.on('error', () => undefined);
export const reachable = await admin.query('SELECT 1').then(
  () => true,
  (err: Error) => {
    if (process.env.PG_TEST_URL) throw err;
    return false;
  },
);
afterAll(() => admin.end());

/** Declares `suites` when PostgreSQL is reachable; otherwise a skipped suite named `name` says why. */
export function onPostgres(name: string, suites: () => void): void {
  if (!reachable) {
    describe.skip(`${name}: no PostgreSQL at ${URL} (start it or set PG_TEST_URL)`, () => {
      it('runs on PostgreSQL', () => undefined);
    });
    return;
  }
  suites();
}

export const freshSchema = () => `s_${randomBytes(6).toString('hex')}`;
export const dropSchema = (schema: string) => admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);

/** A store in a schema of its own, dropped when the store is closed. */
export async function openInSchema(maxConnections = 4): Promise<{ store: PostgresStore; schema: string }> {
  const schema = freshSchema();
  const store = await PostgresStore.open({ connectionString: URL, schema, maxConnections });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await dropSchema(schema);
  };
  return { store, schema };
}

/** The time a test on a fresh store starts, for the rows and records it writes. */
type Started = { at: string };

/**
 * Runs `test` on a store in a schema of its own (openInSchema), then closes the store and drops the
 * schema, whether the test passed or not.
 */
export async function inSchema(
  test: (db: { store: PostgresStore; schema: string } & Started) => Promise<void>,
  { maxConnections = 4 } = {},
): Promise<void> {
  const { store, schema } = await openInSchema(maxConnections);
  try {
    await test({ store, schema, at: new Date().toISOString() });
  } finally {
    await store.close();
  }
}

/** Counts the queries sent through `pool` from now on. */
export function countQueries(pool: pg.Pool): () => number {
  let queries = 0;
  const query = pool.query.bind(pool);
  pool.query = ((...args: Parameters<typeof query>) => {
    queries += 1;
    return query(...args);
  }) as typeof pool.query;
  return () => queries;
}

/**
 * Sequential scans so far of `tables` in `schema`, as [table, count] by table name. `pool`'s backends
 * flush their statistics first (pg_stat_user_tables is otherwise up to a second behind).
 */
export async function seqScans(pool: pg.Pool, schema: string, tables: string[]): Promise<[string, number][]> {
  await pool.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await admin.query<{ relname: string; seq_scan: string }>(
    'SELECT relname, seq_scan FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = ANY($2::text[]) ORDER BY relname',
    [schema, tables],
  );
  return rows.map((r) => [r.relname, Number(r.seq_scan)]);
}

/**
 * A store in a schema of its own, plus a second store on a pool of our own over that schema, for
 * tests that count the second one's queries (countQueries(pool)) while the first seeds the data.
 */
export async function openWithCountedTwin(): Promise<{
  store: PostgresStore;
  pool: pg.Pool;
  counted: PostgresStore;
  close: () => Promise<void>;
}> {
  const { store, schema } = await openInSchema();
  const pool = new pg.Pool({ connectionString: URL, max: 4, options: `-c search_path=${schema}` });
  return {
    store,
    pool,
    counted: new PostgresStore({ pool }),
    close: async () => {
      await pool.end();
      await store.close();
    },
  };
}

/** Runs `test` on openWithCountedTwin()'s stores, then closes them, whether the test passed or not. */
export async function withCountedTwin(
  test: (twin: { store: PostgresStore; pool: pg.Pool; counted: PostgresStore } & Started) => Promise<void>,
): Promise<void> {
  const { close, ...twin } = await openWithCountedTwin();
  try {
    await test({ ...twin, at: new Date().toISOString() });
  } finally {
    await close();
  }
}

let pos = 0;
/** Log positions for test records, increasing across the suites of a run. */
export const nextPos = () => ++pos;

/** A send as the log hands it to the persister, its ids made of its conversation and seq unless given. */
export function sent(
  conversationId: string,
  senderId: string,
  seq: number,
  o: { body?: string; clientMsgId?: string; createdAt: string | number },
): Sent {
  return {
    type: 'message.created',
    conversationId,
    pos: nextPos(),
    message: {
      id: `m_${conversationId}_${seq}`,
      conversationId,
      seq,
      senderId,
      clientMsgId: o.clientMsgId ?? `cm_${conversationId}_${seq}`,
      body: o.body ?? `hello ${seq}`,
      createdAt: typeof o.createdAt === 'string' ? o.createdAt : new Date(o.createdAt).toISOString(),
      editedAt: null,
      deletedAt: null,
      replyToId: null,
      reactions: [],
      attachments: [],
    },
  };
}

export type Created = Extract<LogRecord, { type: 'message.created' }>;

/** sent() with the client message id and the time given in line, as the store and query-cost tests write it. */
export const created = (
  conversationId: string,
  senderId: string,
  seq: number,
  clientMsgId: string,
  createdAt: string,
): Created => sent(conversationId, senderId, seq, { clientMsgId, createdAt });

/** Users whose ids are their usernames and display names too, created at `at`. */
export async function seedUsers(store: PostgresStore, ids: string[], at: string): Promise<void> {
  for (const id of ids)
    await store.users.createUser({ id, username: id, displayName: id, createdAt: at, apiKeyHash: `h_${id}` });
}

/** The group `id` titled `title` of `memberIds`, created at `at`. */
export function seedGroup(store: PostgresStore, id: string, title: string, memberIds: string[], at: string) {
  return store.conversations.createConversation({
    id,
    kind: 'group',
    title,
    createdAt: at,
    memberIds,
    directKey: null,
  });
}

/** The direct chat `id` of a pair of users, created at `at`. */
export function seedDirect(store: PostgresStore, id: string, pair: [string, string], at: string) {
  return store.conversations.createConversation({
    id,
    kind: 'direct',
    title: null,
    createdAt: at,
    memberIds: pair,
    directKey: pair.join(':'),
  });
}

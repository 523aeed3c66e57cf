// Fast setup for the capacity benchmarks: users, API keys and conversations written straight into a
// fresh SQLite file with the server's own adapters from packages/server/dist (as bench/data.js does),
// before the server starts. 100k users take a few seconds instead of minutes of HTTP sign-ups.
import crypto from 'node:crypto';
import path from 'node:path';
import { client, pool } from './http.js';

const dist = (p) => new URL(`../../packages/server/dist/${p}`, import.meta.url).href;

/**
 * opts: { users: N, pairs: bool (users 2i and 2i+1 share a direct chat), groups: [[userIndex...], ...] }
 * Returns { users: [{id, apiKey}], convs: [{id, members: [index...]}] }.
 */
export async function seedDirect(dataDir, opts) {
  const { openDatabase } = await import(dist('adapters/sqlite/db.js'));
  const { SqliteStore } = await import(dist('adapters/sqlite/store.js'));
  const db = openDatabase(path.join(dataDir, 'messenger.db'));
  const store = new SqliteStore({ db });
  const now = new Date().toISOString();
  const tag = Date.now().toString(36);
  const hash = (k) => crypto.createHash('sha256').update(k).digest('hex');
  const users = [];
  const convs = [];
  const CHUNK = 20_000;
  for (let start = 0; start < opts.users; start += CHUNK) {
    db.transaction(() => {
      for (let i = start; i < Math.min(opts.users, start + CHUNK); i++) {
        const apiKey = `mk_cap_${tag}_${i}_${crypto.randomBytes(12).toString('hex')}`;
        const id = `u_cap${tag}${i.toString(36)}`;
        store.users.createUser({
          id,
          username: `cap${tag}_${i}`,
          displayName: `Cap ${i}`,
          createdAt: now,
          apiKeyHash: hash(apiKey),
        });
        users.push({ id, apiKey });
      }
    })();
  }
  db.transaction(() => {
    if (opts.pairs) {
      for (let i = 0; i + 1 < users.length; i += 2) {
        const a = users[i].id;
        const b = users[i + 1].id;
        const id = `c_cap${tag}${(i / 2).toString(36)}`;
        store.conversations.createConversation({
          id,
          kind: 'direct',
          title: null,
          createdAt: now,
          memberIds: [a, b],
          directKey: a < b ? `${a}:${b}` : `${b}:${a}`,
        });
        convs.push({ id, members: [i, i + 1] });
      }
    }
    for (const [g, members] of (opts.groups ?? []).entries()) {
      const id = `c_capg${tag}${g.toString(36)}`;
      store.conversations.createConversation({
        id,
        kind: 'group',
        title: `Big group ${g}`,
        createdAt: now,
        memberIds: members.map((i) => users[i].id),
        directKey: null,
      });
      convs.push({ id, members });
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { users, convs };
}

/**
 * Cluster mode has no file to seed: the same shapes as seedDirect (opts: { users, pairs, groups }),
 * created over HTTP on a running server. Returns { users: [{id, apiKey}], convs: [{id, members}] }.
 */
export async function seedOverHttp(url, opts) {
  const http = client(url, { maxSockets: 32 });
  const tag = Date.now().toString(36);
  try {
    const users = await pool(opts.users, 32, async (i) => {
      const r = await http.request('POST', '/v1/users', { body: { username: `hs${tag}_${i}` } });
      if (r.status !== 201) throw new Error(`sign-up failed: ${r.status} ${JSON.stringify(r.json)}`);
      return { id: r.json.user.id, apiKey: r.json.apiKey };
    });
    const wanted = [];
    if (opts.pairs)
      for (let i = 0; i + 1 < users.length; i += 2)
        wanted.push({ members: [i, i + 1], body: { memberIds: [users[i + 1].id] } });
    for (const [g, members] of (opts.groups ?? []).entries()) {
      wanted.push({ members, body: { memberIds: members.slice(1).map((i) => users[i].id), title: `Big group ${g}` } });
    }
    return { users, convs: await createConversationsOverHttp(url, users, wanted) };
  } finally {
    http.close();
  }
}

/**
 * Conversations created over HTTP on a running server, each by its first member:
 * wanted = [{ members: [userIndex...], body: POST /v1/conversations body }]. Returns [{id, members}].
 */
export async function createConversationsOverHttp(url, users, wanted) {
  const http = client(url, { maxSockets: 32 });
  try {
    return await pool(wanted.length, 32, async (k) => {
      const { members, body } = wanted[k];
      const r = await http.request('POST', '/v1/conversations', { body, token: users[members[0]].apiKey });
      if (r.status !== 201 && r.status !== 200)
        throw new Error(`create conversation failed: ${r.status} ${JSON.stringify(r.json)}`);
      return { id: r.json.conversation.id, members };
    });
  } finally {
    http.close();
  }
}

/**
 * Cluster mode, fast: users and API keys inserted straight into the server's PostgreSQL schema
 * (env from clusterEnv(); the server must have started once, so its migrations made the tables),
 * in the columns PostgresUsers.create writes, SHA-256 key hashes as the server computes them, in
 * batches of 5,000 rows per unnest statement. Nothing else is touched: the gateway's key cache stays
 * cold, so every first auth is a PostgreSQL read, as after HTTP sign-ups. Users only (no chats).
 * Returns { users: [{id, apiKey}], convs: [] }.
 */
export async function seedPostgres(env, opts) {
  const { default: pg } = await import('pg');
  const schema = env.DATABASE_SCHEMA;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const url = new URL(env.DATABASE_URL);
  if (!url.username) url.username = process.env.PGUSER ?? (await import('node:os')).userInfo().username;
  const client = new pg.Client({ connectionString: url.toString(), options: `-c search_path=${schema}` });
  await client.connect();
  const now = new Date().toISOString();
  const tag = Date.now().toString(36);
  const hash = (k) => crypto.createHash('sha256').update(k).digest('hex');
  const users = [];
  try {
    const BATCH = 5_000;
    for (let start = 0; start < opts.users; start += BATCH) {
      const ids = [];
      const names = [];
      const displays = [];
      const hashes = [];
      for (let i = start; i < Math.min(opts.users, start + BATCH); i++) {
        const apiKey = `mk_cap_${tag}_${i}_${crypto.randomBytes(12).toString('hex')}`;
        const id = `u_cap${tag}${i.toString(36)}`;
        ids.push(id);
        names.push(`cap${tag}_${i}`);
        displays.push(`Cap ${i}`);
        hashes.push(hash(apiKey));
        users.push({ id, apiKey });
      }
      await client.query('BEGIN');
      await client.query(
        'INSERT INTO users (id, username, display_name, created_at) SELECT u.id, u.username, u.display_name, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, username, display_name)',
        [ids, names, displays, now],
      );
      await client.query(
        'INSERT INTO api_keys (key_hash, user_id, created_at) SELECT k.key_hash, k.user_id, $3 FROM unnest($1::text[], $2::text[]) AS k(key_hash, user_id)',
        [hashes, ids, now],
      );
      await client.query('COMMIT');
    }
  } finally {
    await client.end();
  }
  return { users, convs: [] };
}

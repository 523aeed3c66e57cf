// Fast setup for the capacity benchmarks: users, API keys and conversations written straight into a
// fresh SQLite file with the server's own adapters from packages/server/dist (as bench/data.js does),
// before the server starts. 100k users take a few seconds instead of minutes of HTTP sign-ups.
import crypto from 'node:crypto';
import path from 'node:path';

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
        store.users.create({ id, username: `cap${tag}_${i}`, displayName: `Cap ${i}`, createdAt: now, apiKeyHash: hash(apiKey) });
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
        store.convs.create({ id, kind: 'direct', title: null, createdAt: now, memberIds: [a, b], directKey: a < b ? `${a}:${b}` : `${b}:${a}` });
        convs.push({ id, members: [i, i + 1] });
      }
    }
    for (const [g, members] of (opts.groups ?? []).entries()) {
      const id = `c_capg${tag}${g.toString(36)}`;
      store.convs.create({ id, kind: 'group', title: `Big group ${g}`, createdAt: now, memberIds: members.map((i) => users[i].id), directKey: null });
      convs.push({ id, members });
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { users, convs };
}

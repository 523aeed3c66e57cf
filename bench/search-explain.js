// Where search time goes on a seeded DATA_DIR: the server's own search SQL run directly (read-only),
// with the FTS match count for each query, the query plan, and the cost of ranking every match.
import path from 'node:path';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { QUERIES } from './lib/corpus.js';

const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
const dist = (p) => new URL(`../packages/server/dist/${p}`, import.meta.url).href;

export async function searchExplain(opts) {
  if (!opts.dataDir) throw new Error('--data-dir=<seeded DATA_DIR> is required');
  const Database = require('better-sqlite3');
  const { queryTerms } = await import(dist('core/search/text.js'));
  const db = new Database(path.join(opts.dataDir, 'messenger.db'), { readonly: true });
  const meta = JSON.parse(fs.readFileSync(path.join(opts.dataDir, 'bench-seed.json'), 'utf8'));
  const viewer = meta.heavy.id;
  const { conversationToken } = await import(dist('core/search/text.js'));
  const terms = (q) =>
    `text : (${queryTerms(q)
      .map((t) => (t.kind === 'prefix' ? `"${t.text}"*` : `"${t.tokens.join(' ')}"`))
      .join(' AND ')})`;
  const convsOf = (id) =>
    db
      .prepare('SELECT conversation_id FROM members WHERE user_id = ?')
      .all(id)
      .map((r) => r.conversation_id);
  // The server's statement (adapters/sqlite/search.ts): matches newest first, visible ones only,
  // the first 200 ranked; a viewer in <= 300 chats has the query limited to them in the index.
  const serverSql = `SELECT m.*, f.rowid AS rid, bm25(message_fts, 1.0, 0.0) AS score
      FROM message_fts f JOIN messages m ON m.rowid = f.rowid
      JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?
      WHERE message_fts MATCH ? AND m.seq > mb.joined_seq AND m.deleted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ? AND h.conversation_id = m.conversation_id AND h.seq = m.seq)
      ORDER BY f.rowid DESC LIMIT 200`;
  const stmt = db.prepare(serverSql);
  const count = db.prepare('SELECT count(*) AS n FROM message_fts WHERE message_fts MATCH ?');
  const viewers = {
    heavy: { id: viewer, convs: convsOf(viewer) },
    light: { id: meta.light[0].id, convs: convsOf(meta.light[0].id) },
  };
  const matchFor = (v, q) =>
    v.convs.length <= 300 ? `${terms(q)} AND conv : (${v.convs.map(conversationToken).join(' OR ')})` : terms(q);
  console.log('query plan of the server search SQL:');
  for (const row of db.prepare(`EXPLAIN QUERY PLAN ${serverSql}`).all(viewer, terms('coffee'), viewer))
    console.log(`  ${row.detail}`);
  const time = (fn, n = 5) => {
    fn();
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    return (performance.now() - t) / n;
  };
  console.log(
    `\n${'query'.padEnd(18)} ${'fts matches'.padStart(11)} ${'heavy ms'.padStart(9)} ${'light ms'.padStart(9)} ${'light hits'.padStart(10)}`,
  );
  for (const qs of Object.values(QUERIES)) {
    for (const q of qs.slice(0, 3)) {
      const n = count.get(terms(q)).n;
      const tHeavy = time(() => stmt.all(viewer, matchFor(viewers.heavy, q), viewer));
      const light = viewers.light;
      const hits = stmt.all(light.id, matchFor(light, q), light.id).length;
      const tLight = time(() => stmt.all(light.id, matchFor(light, q), light.id));
      console.log(
        `${q.padEnd(18)} ${String(n).padStart(11)} ${tHeavy.toFixed(1).padStart(9)} ${tLight.toFixed(1).padStart(9)} ${String(hits).padStart(10)}`,
      );
    }
  }
  db.close();

  // The same reads through the server's own SqliteStore in-process (no HTTP): chat list and history.
  const { openDatabase } = await import(dist('adapters/sqlite/db.js'));
  const { SqliteStore } = await import(dist('adapters/sqlite/store.js'));
  const sdb = openDatabase(path.join(opts.dataDir, 'messenger.db'));
  const store = new SqliteStore({ db: sdb });
  const pct = (arr) => {
    const s = [...arr].sort((a, b) => a - b);
    return `p50 ${s[Math.floor(s.length / 2)].toFixed(2)} ms, p99 ${s[Math.ceil(s.length * 0.99) - 1].toFixed(2)} ms`;
  };
  const sample = async (fn, n = 200) => {
    for (let i = 0; i < 10; i++) await fn(i);
    const out = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await fn(i);
      out.push(performance.now() - t);
    }
    return pct(out);
  };
  console.log('\nin-process store reads (no HTTP), heavy user:');
  console.log(
    `  conversations(limit 50, first page): ${await sample(() => store.conversations.conversations(viewer, 50, null))}`,
  );
  console.log(
    `  history(newest 50):                  ${await sample((i) => store.messages.history(meta.heavyConvIds[(i * 7919) % meta.heavyConvIds.length], viewer, { limit: 50 }))}`,
  );
  console.log('  chat list page plan:');
  for (const row of sdb
    .prepare(`EXPLAIN QUERY PLAN SELECT c.* FROM members m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.user_id = ? AND (c.last_activity_at, c.id) < (?, ?) ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?`)
    .all(viewer, '\uffff', '\uffff', 51))
    console.log(`    ${row.detail}`);
  sdb.close();
}

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
  const fts = (q) => queryTerms(q).map((t) => (t.kind === 'prefix' ? `"${t.text}"*` : `"${t.tokens.join(' ')}"`)).join(' AND ');
  const serverSql = `SELECT m.*, bm25(message_fts) AS score FROM message_fts f JOIN messages m ON m.rowid = f.rowid
      JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?
      WHERE message_fts MATCH ? AND m.seq > mb.joined_seq AND m.deleted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ? AND h.conversation_id = m.conversation_id AND h.seq = m.seq)
        AND (? IS NULL OR m.conversation_id = ?)
      ORDER BY score ASC, m.created_at DESC LIMIT 20`;
  const stmt = db.prepare(serverSql);
  const count = db.prepare('SELECT count(*) AS n FROM message_fts WHERE message_fts MATCH ?');
  const matchOnly = db.prepare('SELECT rowid FROM message_fts WHERE message_fts MATCH ?');
  console.log('query plan of the server search SQL:');
  for (const row of db.prepare(`EXPLAIN QUERY PLAN ${serverSql}`).all(viewer, fts('coffee'), viewer, null, null)) console.log(`  ${row.detail}`);
  const time = (fn, n = 5) => {
    fn();
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    return (performance.now() - t) / n;
  };
  console.log(`\n${'query'.padEnd(18)} ${'fts matches'.padStart(11)} ${'match only ms'.padStart(14)} ${'server SQL ms'.padStart(14)}`);
  for (const qs of Object.values(QUERIES)) {
    for (const q of qs.slice(0, 3)) {
      const m = fts(q);
      const n = count.get(m).n;
      const tMatch = time(() => matchOnly.all(m));
      const tFull = time(() => stmt.all(viewer, m, viewer, null, null));
      console.log(`${q.padEnd(18)} ${String(n).padStart(11)} ${tMatch.toFixed(1).padStart(14)} ${tFull.toFixed(1).padStart(14)}`);
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
  console.log(`  conversations(limit 50, first page): ${await sample(() => store.conversations(viewer, 50, null))}`);
  console.log(`  history(newest 50):                  ${await sample((i) => store.history(meta.heavyConvIds[(i * 7919) % meta.heavyConvIds.length], viewer, { limit: 50 }))}`);
  console.log('  chat list page plan:');
  for (const row of sdb.prepare(`EXPLAIN QUERY PLAN SELECT c.* FROM members m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.user_id = ? AND (c.last_activity_at, c.id) < (?, ?) ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?`).all(viewer, '\uffff', '\uffff', 51)) console.log(`    ${row.detail}`);
  sdb.close();
}

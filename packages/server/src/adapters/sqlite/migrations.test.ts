// Migrations that run code over existing data (not only on an empty file).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteStore } from './store.js';

describe('SQLite migrations', () => {
  it('re-indexes the messages already stored when the search index changes shape', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-')), 'm.db');
    // A database as version 3 left it, with messages in it.
    const old = new Database(file);
    old.transaction(() => {
      for (let v = 0; v < 3; v++) old.exec(MIGRATIONS[v] as string);
      old.pragma('user_version = 3');
      old.prepare("INSERT INTO users (id, username, display_name, created_at) VALUES ('u_a', 'a', 'A', 'x')").run();
      old
        .prepare(
          "INSERT INTO conversations (id, kind, created_at, last_activity_at) VALUES ('c_1', 'direct', 'x', 'x')",
        )
        .run();
      old.prepare("INSERT INTO members (conversation_id, user_id) VALUES ('c_1', 'u_a')").run();
      const insert = old.prepare(
        "INSERT INTO messages (conversation_id, seq, id, sender_id, client_msg_id, body, created_at) VALUES ('c_1', ?, ?, 'u_a', ?, ?, 'x')",
      );
      for (let i = 1; i <= 12_000; i++)
        insert.run(i, `m_${i}`, `k${i}`, i === 11_999 ? 'un café à Tōkyō 東京' : `filler ${i}`);
    })();
    old.close();
    const store = new SqliteStore({ db: openDatabase(file) });
    const hits = await store.search.search('u_a', { q: 'cafe', limit: 5 });
    expect(hits.map((h) => h.message.seq)).toEqual([11_999]);
    expect((await store.search.search('u_a', { q: '東京', limit: 5 })).map((h) => h.message.seq)).toEqual([11_999]);
    expect(await store.search.search('u_a', { q: 'filler', limit: 3 })).toHaveLength(3);
    await store.close();
    // The counts BM25 ranks by (migration 7) were filled from the index.
    const db = new Database(file, { readonly: true });
    expect(
      db.prepare("SELECT docs FROM search_words WHERE word IN ('filler', 'cafe', 'tokyo') ORDER BY word").all(),
    ).toEqual([{ docs: 1 }, { docs: 11_999 }, { docs: 1 }]);
    // 11,999 texts of two words, one of 4 words + 4 CJK bigram/char tokens (東京 -> 東京, 京).
    expect(db.prepare('SELECT docs, words FROM search_stats').get()).toEqual({ docs: 12_000, words: 11_999 * 2 + 6 });
    db.close();
  });
});

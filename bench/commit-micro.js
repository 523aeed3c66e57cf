// Micro-benchmark of the embedded write path without sockets: the server's own SqliteEventLog +
// SqliteStore (from packages/server/dist), N sends appended in one event-loop turn (= one group
// commit), per-entry cost by batch size, with and without the search index.
import fs from 'node:fs';
import path from 'node:path';
import { freshDataDir } from './lib/server.js';

const dist = (p) => new URL(`../packages/server/dist/${p}`, import.meta.url).href;

export async function commitMicro(opts = {}) {
  const { openDatabase } = await import(dist('adapters/sqlite/db.js'));
  const { SqliteStore } = await import(dist('adapters/sqlite/store.js'));
  const { SqliteEventLog } = await import(dist('adapters/sqlite/event-log.js'));
  const logger = { info() {}, warn() {}, error: console.error, debug() {} };
  const total = opts.entries ?? 20000;
  const convs = opts.conversations ?? 500;
  const out = [];
  for (const variant of ['full', 'no-fts', 'no-fts-delete']) {
    for (const batch of String(opts.batches ?? '1,10,100,1000')
      .split(',')
      .map(Number)) {
      const dir = freshDataDir('micro');
      const db = openDatabase(path.join(dir, 'messenger.db'));
      const store = new SqliteStore({ db });
      if (variant === 'no-fts') store.search.put = () => {};
      if (variant === 'no-fts-delete') {
        const idx = store.search;
        const { indexText } = await import(dist('core/search/text.js'));
        idx.put = (m) => {
          const row = idx.s.rowid.get(m.conversationId, m.seq);
          if (row) idx.s.insert.run(row.rowid, indexText(m.body));
        };
      }
      const log = new SqliteEventLog({ db, logger, writeStore: true });
      const now = new Date().toISOString();
      for (let c = 0; c < convs; c++)
        store.conversations.createConversation({
          id: `c${c}`,
          kind: 'direct',
          title: null,
          createdAt: now,
          memberIds: [`ua${c}`, `ub${c}`],
          directKey: `k${c}`,
        });
      let n = 0;
      const t0 = performance.now();
      while (n < total) {
        const ps = [];
        for (let i = 0; i < batch && n < total; i++, n++) {
          const c = n % convs;
          ps.push(
            log.append({
              type: 'message.created',
              conversationId: `c${c}`,
              message: {
                id: `m${n}`,
                conversationId: `c${c}`,
                seq: 0,
                senderId: `ua${c}`,
                clientMsgId: `x${n}`,
                body: `${Date.now()} x${n} the quick brown fox jumps over the lazy dog; le café est prêt à midi. 東京で会いましょう`,
                createdAt: now,
                editedAt: null,
                deletedAt: null,
                replyToId: null,
                reactions: [],
              },
            }),
          );
        }
        await Promise.all(ps);
      }
      const ms = performance.now() - t0;
      await log.close();
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
      const row = {
        variant,
        batch,
        entries: total,
        usPerEntry: (ms * 1000) / total,
        entriesPerSec: total / (ms / 1000),
      };
      out.push(row);
      console.log(
        `${variant.padEnd(14)} batch ${String(batch).padStart(5)}: ${row.usPerEntry.toFixed(1).padStart(7)} µs/entry  ${row.entriesPerSec.toFixed(0).padStart(7)} entries/s`,
      );
    }
  }
  return out;
}

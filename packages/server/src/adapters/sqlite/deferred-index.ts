// Search indexing after the commit, on the log's writer thread: a commit acknowledges its messages
// without their search index, and the index follows in a later transaction that covers several
// commits (fewer FTS5 segments and word-count upserts per message, and no fsync of its own).
//
// Durable all the same: search_progress names the last message rowid the index covers, in the
// index's own transaction, so on start (after a kill -9 or a power loss) every message above it
// is indexed again (`recover`). Rowids only grow: messages are tombstoned, never deleted.
// Edits and deletions index what is queued first, in their own transaction, so an edit never
// meets a message the index does not have yet. A search asks for the index to catch up first.
import { searchableText } from '../../core/search/text.js';
import type { MessageIndex } from './apply.js';
import type { Db } from './db.js';
import type { SqliteSearch } from './search.js';

interface Queued {
  rowid: number;
  text: string;
  conversationId: string;
}

export class DeferredIndex implements MessageIndex {
  private readonly db: Db;
  private readonly search: SqliteSearch;
  /** Committed, not indexed yet; in rowid order. */
  private queue: Queued[] = [];
  /** Added by the transaction under way: queued only if it commits. */
  private staged: Queued[] = [];
  /** The transaction under way indexed the queue (an edit or deletion came). */
  private drained = false;
  private readonly s;

  constructor(db: Db, search: SqliteSearch) {
    this.db = db;
    this.search = search;
    this.s = {
      progress: db.prepare<[], { indexed_rowid: number }>('SELECT indexed_rowid FROM search_progress WHERE id = 1'),
      setProgress: db.prepare('UPDATE search_progress SET indexed_rowid = max(indexed_rowid, ?) WHERE id = 1'),
      after: db.prepare<[number], { rowid: number; conversation_id: string; body: string; attachments: string | null }>(
        'SELECT rowid, conversation_id, body, attachments FROM messages WHERE rowid > ? AND deleted_at IS NULL ORDER BY rowid',
      ),
      indexed: db.prepare<[number], { one: number }>('SELECT 1 AS one FROM message_fts WHERE rowid = ?'),
    };
  }

  /** Messages committed and not indexed yet. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * On start: indexes every message above search_progress. One that is in the index already (a
   * tool's in-transaction write, which does not move search_progress) is left as it is.
   */
  recover(): number {
    const from = this.s.progress.get()?.indexed_rowid ?? 0;
    const missing: Queued[] = [];
    let last = from;
    for (const row of this.s.after.all(from)) {
      last = row.rowid;
      if (this.s.indexed.get(row.rowid)) continue;
      const names = row.attachments ? (JSON.parse(row.attachments) as { name: string }[]) : null;
      missing.push({ rowid: row.rowid, text: searchableText(row.body, names), conversationId: row.conversation_id });
    }
    this.queue = missing;
    const count = missing.length;
    this.indexNow(last);
    return count;
  }

  /** The log's commit opens a transaction. */
  begin(): void {
    this.staged = [];
    this.drained = false;
  }

  /** The log's transaction ended: its new messages wait for the index if it committed. */
  end(committed: boolean): void {
    if (committed) {
      if (this.drained) this.queue = this.staged;
      else for (const q of this.staged) this.queue.push(q);
    }
    this.staged = [];
    this.drained = false;
  }

  add(rowid: number, body: string, conversationId: string): void {
    this.staged.push({ rowid, text: body, conversationId });
  }

  put(message: { conversationId: string; seq: number; body: string }, oldBody?: string): void {
    this.drainHere();
    this.search.put(message, oldBody);
  }

  remove(conversationId: string, seq: number, oldBody?: string): void {
    this.drainHere();
    this.search.remove(conversationId, seq, oldBody);
  }

  flush(): void {
    this.search.flush();
  }

  /**
   * Indexes the queue in a transaction of its own. synchronous=NORMAL: no fsync here; the next
   * commit's fsync of the WAL covers these pages too, and what a power loss takes is indexed
   * again by `recover`.
   */
  indexNow(upTo?: number): void {
    if (this.queue.length === 0 && upTo === undefined) return;
    const batch = this.queue;
    this.db.pragma('synchronous = NORMAL');
    try {
      this.db
        .transaction(() => {
          this.indexAll(batch);
          const last = batch.length > 0 ? batch[batch.length - 1]!.rowid : 0;
          this.s.setProgress.run(Math.max(last, upTo ?? 0));
        })
        .immediate();
      this.queue = this.queue === batch ? [] : this.queue.slice(batch.length);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /** Inside the log's transaction: the queue and this transaction's own adds so far. */
  private drainHere(): void {
    const all = this.drained ? this.staged : [...this.queue, ...this.staged];
    this.indexAll(all);
    if (all.length > 0) this.s.setProgress.run(all[all.length - 1]!.rowid);
    this.drained = true;
    this.staged = [];
  }

  private indexAll(items: Queued[]): void {
    for (const q of items) this.search.add(q.rowid, q.text, q.conversationId);
    this.search.flush();
  }
}

// SqliteLogWriter: the embedded log's one writer. A batch of drafts becomes one transaction: dedup
// on senderId:clientMsgId, seq assignment, log rows, the store's tables (when `writeStore`), and
// consumer positions; one fsync for all of it. It runs on the writer thread (writer-worker.ts) or,
// for tests and tools, on the caller's thread: the same code either way.
import { AppError, forbidden, invalid } from '../../domain/errors.js';
import { dedupKey, type LogDraft, type LogRecord } from '../../core/log-entries.js';
import type { AppendResult } from '../../core/messages/event-log.js';
import type { Db } from './db.js';
import { DeferredIndex } from './deferred-index.js';
import { SqliteMessages } from './messages.js';
import { SqliteSearch } from './search.js';

/** Per draft: its result, or the client error it was refused with (other failures reject the batch). */
export type DraftOutcome = { ok: true; result: AppendResult } | { ok: false; code: AppError['code']; message: string };

export interface CommitOutcome {
  outcomes: DraftOutcome[];
  records: LogRecord[];
}

/**
 * The record a committed draft becomes: the draft, its message's seq set for a message.created, and
 * its position. The writer thread answers with positions and seqs only, and the event loop rebuilds
 * the records from the drafts it holds with this same function.
 */
export function committedRecord(draft: LogDraft, seq: number | null, pos: number): LogRecord {
  if (draft.type === 'message.created' && seq !== null) return { ...draft, message: { ...draft.message, seq }, pos };
  return { ...draft, pos } as LogRecord;
}

export class SqliteLogWriter {
  private readonly db: Db;
  private readonly messages: SqliteMessages | null;
  /** With `deferIndex`: search is indexed after the commit (deferred-index.ts), by `indexNow`. */
  private readonly index: DeferredIndex | null;
  private readonly lastSeqs = new Map<string, number>();
  private readonly stmt;

  constructor(deps: { db: Db; writeStore: boolean; deferIndex?: boolean }) {
    this.db = deps.db;
    const search = deps.writeStore ? new SqliteSearch(this.db) : null;
    this.index = search && deps.deferIndex ? new DeferredIndex(this.db, search) : null;
    this.messages = search ? new SqliteMessages(this.db, this.index ?? search) : null;
    this.index?.recover();
    this.stmt = {
      insert: this.db.prepare(
        'INSERT INTO log (conversation_id, type, seq, message_id, dedup_key, payload) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      byKey: this.db.prepare<[string], { seq: number; message_id: string }>(
        'SELECT seq, message_id FROM log WHERE dedup_key = ?',
      ),
      maxSeq: this.db.prepare<[string], { s: number | null }>(
        'SELECT MAX(seq) AS s FROM log WHERE conversation_id = ? AND seq IS NOT NULL',
      ),
      forgetCreated: this.db.prepare(
        "UPDATE log SET payload = json_set(payload, '$.message.body', '') WHERE message_id = ? AND type = 'message.created'",
      ),
      forgetEdits: this.db.prepare(
        "UPDATE log SET payload = json_set(payload, '$.body', '', '$.message.body', '') WHERE message_id = ? AND type = 'message.updated'",
      ),
      deletedForEveryone: this.db.prepare<[string], { found: number }>(
        "SELECT 1 AS found FROM log WHERE message_id = ? AND type = 'message.deleted' AND json_extract(payload, '$.for') = 'everyone' LIMIT 1",
      ),
      saveOffset: this.db.prepare(
        'INSERT INTO log_offsets (consumer, pos) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET pos = excluded.pos',
      ),
    };
  }

  /**
   * Commits the batch, positions included. A draft refused for a client reason (AppError) is
   * answered alone and does not fail its neighbours: the batch is then retried draft by draft.
   */
  commit(drafts: LogDraft[], offsets: [string, number][]): CommitOutcome {
    try {
      return this.commitAll(drafts, offsets);
    } catch (error) {
      if (drafts.length <= 1 && !(error instanceof AppError)) throw error;
      const outcomes: DraftOutcome[] = [];
      const records: LogRecord[] = [];
      drafts.forEach((draft, i) => {
        try {
          const one = this.commitAll([draft], i === 0 ? offsets : []);
          outcomes.push(one.outcomes[0]!);
          records.push(...one.records);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          outcomes.push({ ok: false, code: err.code, message: err.message });
        }
      });
      return { outcomes, records };
    }
  }

  /** Messages committed whose search index is still to come (deferIndex only). */
  get unindexed(): number {
    return this.index?.pending ?? 0;
  }

  /** Indexes what the commits left for the search index, in a transaction of its own. */
  indexNow(): void {
    this.index?.indexNow();
  }

  private commitAll(drafts: LogDraft[], offsets: [string, number][]): CommitOutcome {
    this.index?.begin();
    try {
      const outcome = this.commitTransaction(drafts, offsets);
      this.index?.end(true);
      return outcome;
    } catch (error) {
      this.index?.end(false);
      throw error;
    }
  }

  private commitTransaction(drafts: LogDraft[], offsets: [string, number][]): CommitOutcome {
    const heads = new Map<string, number>();
    const seen = new Map<string, { seq: number; messageId: string }>();
    const outcomes: DraftOutcome[] = [];
    const records: LogRecord[] = [];
    this.db
      .transaction(() => {
        for (const draft of drafts) {
          const key = dedupKey(draft);
          let seq: number | null = null;
          let messageId: string | null = null;
          let entry: LogDraft = draft;
          if (draft.type === 'message.created' && key) {
            const prior = seen.get(key) ?? this.stmt.byKey.get(key);
            if (prior) {
              const original = 'messageId' in prior ? prior : { seq: prior.seq, messageId: prior.message_id };
              outcomes.push({
                ok: true,
                result: { duplicate: true, seq: original.seq, messageId: original.messageId },
              });
              continue;
            }
            seq = this.headOf(draft.conversationId, heads) + 1;
            heads.set(draft.conversationId, seq);
            messageId = draft.message.id;
            seen.set(key, { seq, messageId });
            entry = { ...draft, message: { ...draft.message, seq } };
          } else if (
            draft.type === 'message.updated' ||
            draft.type === 'message.deleted' ||
            draft.type === 'reaction.updated'
          ) {
            messageId = draft.messageId;
            // The use case checked this before appending, but a delete for everyone may have been ordered in between:
            // an edit or reaction after it would bring text back to clients and into the log.
            if (draft.type !== 'message.deleted' && this.stmt.deletedForEveryone.get(draft.messageId)) {
              throw draft.type === 'message.updated'
                ? forbidden('a deleted message cannot be edited')
                : invalid('a deleted message cannot get reactions');
            }
          }
          if (draft.type === 'message.deleted' && draft.for === 'everyone') this.forget(draft.messageId);
          const info = this.stmt.insert.run(
            draft.conversationId,
            draft.type,
            seq,
            messageId,
            key,
            JSON.stringify(entry),
          );
          const record = committedRecord(draft, seq, Number(info.lastInsertRowid));
          records.push(record);
          outcomes.push({ ok: true, result: { duplicate: false, record } });
        }
        if (records.length > 0) this.messages?.applySync(records);
        for (const [consumer, pos] of offsets) this.stmt.saveOffset.run(consumer, pos);
      })
      .immediate();
    // Heads move only once the transaction committed.
    for (const [conversationId, seq] of heads) this.lastSeqs.set(conversationId, seq);
    return { outcomes, records };
  }

  /** Deleted for everyone means the text is gone from storage, the log's copies included. */
  private forget(messageId: string): void {
    this.stmt.forgetCreated.run(messageId);
    this.stmt.forgetEdits.run(messageId);
  }

  private headOf(conversationId: string, heads: Map<string, number>): number {
    const tentative = heads.get(conversationId);
    if (tentative !== undefined) return tentative;
    const known = this.lastSeqs.get(conversationId);
    if (known !== undefined) return known;
    return this.stmt.maxSeq.get(conversationId)?.s ?? 0;
  }
}

// The persister's apply, written once for every SQL store: what each log record does to the store,
// in log order, as calls on a dialect that holds only its database's SQL. SQLite runs the calls
// synchronously inside the log writer's transaction, PostgreSQL awaits each one: the dialect's
// return type R is void for one and Promise<void> for the other, so neither pays for the other's model.
import type { LogRecord } from '../../core/log-entries.js';

export type Sent = Extract<LogRecord, { type: 'message.created' }>;
export type Edited = Extract<LogRecord, { type: 'message.updated' }>;
export type Deleted = Extract<LogRecord, { type: 'message.deleted' }>;
export type Reacted = Extract<LogRecord, { type: 'reaction.updated' }>;
export type Receipt = Extract<LogRecord, { type: 'receipt.read' | 'receipt.delivered' }>;

/**
 * One database's statements for the changes a record makes. Each must be idempotent on its record
 * (applying it again changes nothing): the persister replays records after a crash or a retry.
 */
export interface ApplyDialect<R> {
  /**
   * Consecutive sends, oldest first (one multi-row statement where the database gains by it). A
   * send whose sender + clientMsgId, id or (conversation, seq) is taken is ignored whole; a new one
   * also raises the conversation's last seq and activity and the sender's read and delivered seqs.
   */
  insert(run: Sent[]): R;
  /**
   * New text, and its words in the search index, unless the message is gone or deleted; a record
   * with a linkPreview (or linkPreview null) sets only that.
   */
  edit(record: Edited): R;
  /** Deleted for everyone: the text erased (a tombstone), its reactions and search words dropped. */
  erase(record: Deleted): R;
  /** Deleted for one member: hidden from that member only. */
  hide(record: Deleted): R;
  /** The user's one reaction set (emoji) or removed (null). */
  react(record: Reacted): R;
  /** A member's read or delivered seq, which only moves up. */
  receipt(record: Receipt): R;
}

/**
 * The dialect calls for `records`, in their order, consecutive sends in one call. conversation.updated
 * makes none: the store was written before the record was logged, which only orders fan-out.
 */
export function* applyCalls<R>(records: readonly LogRecord[], d: ApplyDialect<R>): Generator<R> {
  let run: Sent[] = [];
  for (const r of records) {
    if (r.type === 'message.created') {
      run.push(r);
      continue;
    }
    if (run.length > 0) yield d.insert(run);
    run = [];
    switch (r.type) {
      case 'message.updated':
        yield d.edit(r);
        break;
      case 'message.deleted':
        yield r.for === 'everyone' ? d.erase(r) : d.hide(r);
        break;
      case 'reaction.updated':
        yield d.react(r);
        break;
      case 'receipt.read':
      case 'receipt.delivered':
        yield d.receipt(r);
        break;
      case 'conversation.updated':
        break;
    }
  }
  if (run.length > 0) yield d.insert(run);
}

// Messages in SQLite: the persister's apply (idempotent per record), history and single reads.
import type { Message, Reaction } from '@messenger/protocol';
import type { LogRecord } from '../../core/log-entries.js';
import type { HistoryQuery, MessageStore } from '../../core/messages/message-store.js';
import { RecordRefused, type QuarantinedRecord } from '../../core/messages/record-sink.js';
import { type MessageIndex, SqliteApply } from './apply.js';
import type { Db } from './db.js';
import { toMessage, type MessageRow } from './rows.js';

/** Reads are MessageStore; the writes stay synchronous so the log's commit can run them in its transaction. */
export class SqliteMessages implements MessageStore {
  private readonly db: Db;
  private readonly writes: SqliteApply;
  private readonly s;

  constructor(db: Db, index?: MessageIndex) {
    this.db = db;
    this.writes = new SqliteApply(db, index);
    this.s = {
      byId: db.prepare<[string, string], MessageRow>('SELECT * FROM messages WHERE id = ? AND conversation_id = ?'),
      byClientId: db.prepare<[string, string], MessageRow>(
        'SELECT * FROM messages WHERE sender_id = ? AND client_msg_id = ?',
      ),
      reactionsOf: db.prepare<[string], { message_id: string; user_id: string; emoji: string }>(
        'SELECT message_id, user_id, emoji FROM reactions WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY message_id, user_id',
      ),
      joinedSeq: db.prepare<[string, string], { joined_seq: number }>(
        'SELECT joined_seq FROM members WHERE conversation_id = ? AND user_id = ?',
      ),
      after: db.prepare<[string, number, string, number], MessageRow>(
        `SELECT m.* FROM messages m WHERE m.conversation_id = ? AND m.seq > ?
           AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ? AND h.conversation_id = m.conversation_id AND h.seq = m.seq)
         ORDER BY m.seq ASC LIMIT ?`,
      ),
      before: db.prepare<[string, number, number, string, number], MessageRow>(
        `SELECT m.* FROM messages m WHERE m.conversation_id = ? AND m.seq > ? AND m.seq < ?
           AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ? AND h.conversation_id = m.conversation_id AND h.seq = m.seq)
         ORDER BY m.seq DESC LIMIT ?`,
      ),
    };
  }

  /** Runs inside the caller's transaction (the log's commit in embedded mode). */
  applySync(records: LogRecord[]): void {
    this.writes.run(records);
  }

  apply(records: LogRecord[]): void {
    try {
      this.db.transaction(() => this.applySync(records)).immediate();
    } catch (error) {
      // The data, not the database: a value too big or of the wrong type for its column.
      const code = (error as { code?: unknown }).code;
      if (code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH')
        throw new RecordRefused(`SQLite refused the data (${code}): ${(error as Error).message}`, { cause: error });
      throw error;
    }
  }

  quarantine(record: LogRecord, reason: string): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO quarantined_records (conversation_id, pos, type, record, reason, at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(record.conversationId, record.pos, record.type, JSON.stringify(record), reason, new Date().toISOString());
  }

  quarantined(limit: number): QuarantinedRecord[] {
    const rows = this.db
      .prepare(
        'SELECT conversation_id, pos, type, record, reason, at FROM quarantined_records ORDER BY at, conversation_id, pos LIMIT ?',
      )
      .all(limit) as {
      conversation_id: string;
      pos: number;
      type: LogRecord['type'];
      record: string;
      reason: string;
      at: string;
    }[];
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      pos: r.pos,
      type: r.type,
      record: r.record,
      reason: r.reason,
      at: r.at,
    }));
  }

  async message(conversationId: string, messageId: string): Promise<Message | null> {
    const row = this.s.byId.get(messageId, conversationId);
    return row ? this.withReactions([row])[0]! : null;
  }

  async messageByClientId(senderId: string, clientMsgId: string): Promise<Message | null> {
    const row = this.s.byClientId.get(senderId, clientMsgId);
    return row ? this.withReactions([row])[0]! : null;
  }

  async history(conversationId: string, viewerId: string, q: HistoryQuery): Promise<Message[]> {
    const joined = this.s.joinedSeq.get(conversationId, viewerId)?.joined_seq ?? 0;
    let rows: MessageRow[];
    if (q.afterSeq !== undefined) {
      rows = this.s.after.all(conversationId, Math.max(q.afterSeq, joined), viewerId, q.limit);
      if (q.beforeSeq !== undefined) rows = rows.filter((r) => r.seq < q.beforeSeq!);
    } else {
      rows = this.s.before
        .all(conversationId, joined, q.beforeSeq ?? Number.MAX_SAFE_INTEGER, viewerId, q.limit)
        .reverse();
    }
    return this.withReactions(rows);
  }

  /** One query for the reactions of all the rows, however many. */
  withReactions(rows: MessageRow[]): Message[] {
    const live = rows.filter((r) => !r.deleted_at).map((r) => r.id);
    const byMessage = new Map<string, Reaction[]>();
    if (live.length > 0) {
      for (const r of this.s.reactionsOf.all(JSON.stringify(live))) {
        let list = byMessage.get(r.message_id);
        if (!list) byMessage.set(r.message_id, (list = []));
        list.push({ userId: r.user_id, emoji: r.emoji });
      }
    }
    return rows.map((row) => toMessage(row, byMessage.get(row.id) ?? []));
  }
}

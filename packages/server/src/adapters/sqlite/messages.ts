// Messages in SQLite: the persister's apply (idempotent per record), history and single reads.
import type { Message, Reaction } from '@messenger/protocol';
import type { LogRecord } from '../../core/log-entries.js';
import type { HistoryQuery, MessageStore } from '../../core/messages/message-store.js';
import { RecordRefused, type QuarantinedRecord } from '../../core/messages/record-sink.js';
import type { Db } from './db.js';
import { toMessage, type MessageRow } from './rows.js';

/** Hook for secondary indexes (search) that must change in the same transaction as the message. */
export interface MessageIndex {
  /** A new message, by the rowid its insert got. */
  add(rowid: number, body: string, conversationId: string): void;
  /** `oldBody`: the text the message had, so its words can be forgotten where nothing else has them. */
  put(message: { conversationId: string; seq: number; body: string }, oldBody?: string): void;
  remove(conversationId: string, seq: number, oldBody?: string): void;
  /** End of a batch of changes, still inside its transaction. */
  flush?(): void;
}

/** Reads are MessageStore; the writes stay synchronous so the log's commit can run them in its transaction. */
export class SqliteMessages implements MessageStore {
  private readonly db: Db;
  private readonly index: MessageIndex | undefined;
  private readonly s;

  constructor(db: Db, index?: MessageIndex) {
    this.db = db;
    this.index = index;
    this.s = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO messages (conversation_id, seq, id, sender_id, client_msg_id, body, created_at, edited_at, deleted_at, reply_to_id)
         VALUES (@conversationId, @seq, @id, @senderId, @clientMsgId, @body, @createdAt, NULL, NULL, @replyToId)`,
      ),
      bumpConversation: db.prepare(
        'UPDATE conversations SET last_seq = MAX(last_seq, ?), last_activity_at = MAX(last_activity_at, ?) WHERE id = ?',
      ),
      senderRead: db.prepare(
        'UPDATE members SET read_seq = MAX(read_seq, ?), delivered_seq = MAX(delivered_seq, ?) WHERE conversation_id = ? AND user_id = ?',
      ),
      edit: db.prepare('UPDATE messages SET body = ?, edited_at = ? WHERE id = ? AND deleted_at IS NULL'),
      tombstone: db.prepare("UPDATE messages SET body = '', deleted_at = ? WHERE id = ? AND deleted_at IS NULL"),
      dropReactions: db.prepare('DELETE FROM reactions WHERE message_id = ?'),
      hide: db.prepare('INSERT OR IGNORE INTO hidden (user_id, conversation_id, seq, message_id) VALUES (?, ?, ?, ?)'),
      react: db.prepare(
        'INSERT INTO reactions (message_id, user_id, emoji) VALUES (?, ?, ?) ON CONFLICT (message_id, user_id) DO UPDATE SET emoji = excluded.emoji',
      ),
      unreact: db.prepare('DELETE FROM reactions WHERE message_id = ? AND user_id = ?'),
      read: db.prepare('UPDATE members SET read_seq = MAX(read_seq, ?) WHERE conversation_id = ? AND user_id = ?'),
      delivered: db.prepare(
        'UPDATE members SET delivered_seq = MAX(delivered_seq, ?) WHERE conversation_id = ? AND user_id = ?',
      ),
      byId: db.prepare<[string, string], MessageRow>('SELECT * FROM messages WHERE id = ? AND conversation_id = ?'),
      byAnyId: db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE id = ?'),
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
    for (const r of records) {
      switch (r.type) {
        case 'message.created': {
          const m = r.message;
          const info = this.s.insert.run({ ...m, replyToId: m.replyToId });
          if (info.changes === 0) break;
          this.s.bumpConversation.run(m.seq, m.createdAt, m.conversationId);
          this.s.senderRead.run(m.seq, m.seq, m.conversationId, m.senderId);
          this.index?.add(Number(info.lastInsertRowid), m.body, m.conversationId);
          break;
        }
        case 'message.updated': {
          const before = this.s.byAnyId.get(r.messageId);
          const info = this.s.edit.run(r.body, r.editedAt, r.messageId);
          const row = info.changes > 0 ? this.s.byAnyId.get(r.messageId) : undefined;
          if (row) this.index?.put({ conversationId: row.conversation_id, seq: row.seq, body: row.body }, before?.body);
          break;
        }
        case 'message.deleted': {
          const row = this.s.byAnyId.get(r.messageId);
          if (!row) break;
          if (r.for === 'everyone') {
            this.s.tombstone.run(r.at, r.messageId);
            this.s.dropReactions.run(r.messageId);
            this.index?.remove(row.conversation_id, row.seq, row.body);
          } else {
            this.s.hide.run(r.userId, row.conversation_id, row.seq, row.id);
          }
          break;
        }
        case 'reaction.updated':
          if (r.emoji === null) this.s.unreact.run(r.messageId, r.userId);
          else this.s.react.run(r.messageId, r.userId, r.emoji);
          break;
        case 'receipt.read':
          this.s.read.run(r.seq, r.conversationId, r.userId);
          break;
        case 'receipt.delivered':
          this.s.delivered.run(r.seq, r.conversationId, r.userId);
          break;
        case 'conversation.updated':
          break;
      }
    }
    this.index?.flush?.();
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

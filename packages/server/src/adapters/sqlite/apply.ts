// The persister's apply in SQLite: the statements of the shared orchestration (sql/apply.ts), run
// synchronously inside the caller's transaction (the log's commit in embedded mode).
import type { LogRecord } from '../../core/log-entries.js';
import {
  type ApplyDialect,
  applyCalls,
  type Deleted,
  type Edited,
  type Reacted,
  type Receipt,
  type Sent,
} from '../sql/apply.js';
import type { Db } from './db.js';
import { searchableText } from '../../core/search/text.js';
import { type MessageRow, toMessage } from './rows.js';

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

export class SqliteApply implements ApplyDialect<void> {
  private readonly index: MessageIndex | undefined;
  private readonly s;

  constructor(db: Db, index?: MessageIndex) {
    this.index = index;
    this.s = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO messages (conversation_id, seq, id, sender_id, client_msg_id, body, created_at, edited_at, deleted_at, reply_to_id, attachments)
         VALUES (@conversationId, @seq, @id, @senderId, @clientMsgId, @body, @createdAt, NULL, NULL, @replyToId, @attachments)`,
      ),
      bumpConversation: db.prepare(
        'UPDATE conversations SET last_seq = MAX(last_seq, ?), last_activity_at = MAX(last_activity_at, ?) WHERE id = ?',
      ),
      senderRead: db.prepare(
        'UPDATE members SET read_seq = MAX(read_seq, ?), delivered_seq = MAX(delivered_seq, ?) WHERE conversation_id = ? AND user_id = ?',
      ),
      byId: db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE id = ?'),
      edit: db.prepare('UPDATE messages SET body = ?, edited_at = ? WHERE id = ? AND deleted_at IS NULL'),
      preview: db.prepare('UPDATE messages SET link_preview = ? WHERE id = ? AND deleted_at IS NULL'),
      tombstone: db.prepare(
        "UPDATE messages SET body = '', attachments = NULL, link_preview = NULL, deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
      ),
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
    };
  }

  /** Runs inside the caller's transaction. */
  run(records: readonly LogRecord[]): void {
    for (const _ of applyCalls(records, this));
    this.index?.flush?.();
  }

  insert(run: Sent[]): void {
    for (const { message: m } of run) {
      const attachments = m.attachments?.length ? JSON.stringify(m.attachments) : null;
      const info = this.s.insert.run({ ...m, replyToId: m.replyToId, attachments });
      if (info.changes === 0) continue;
      this.s.bumpConversation.run(m.seq, m.createdAt, m.conversationId);
      this.s.senderRead.run(m.seq, m.seq, m.conversationId, m.senderId);
      this.index?.add(Number(info.lastInsertRowid), searchableText(m.body, m.attachments), m.conversationId);
    }
  }

  edit(r: Edited): void {
    if (r.linkPreview !== undefined) {
      this.s.preview.run(r.linkPreview ? JSON.stringify(r.linkPreview) : null, r.messageId);
      return;
    }
    const before = this.s.byId.get(r.messageId);
    if (this.s.edit.run(r.body, r.editedAt, r.messageId).changes === 0) return;
    const row = this.s.byId.get(r.messageId);
    if (!row) return;
    const text = (m: MessageRow) => searchableText(m.body, toMessage(m).attachments);
    this.index?.put({ conversationId: row.conversation_id, seq: row.seq, body: text(row) }, before && text(before));
  }

  erase(r: Deleted): void {
    const row = this.s.byId.get(r.messageId);
    if (!row) return;
    this.s.tombstone.run(r.at, r.messageId);
    this.s.dropReactions.run(r.messageId);
    this.index?.remove(row.conversation_id, row.seq, searchableText(row.body, toMessage(row).attachments));
  }

  hide(r: Deleted): void {
    const row = this.s.byId.get(r.messageId);
    if (row) this.s.hide.run(r.userId, row.conversation_id, row.seq, row.id);
  }

  react(r: Reacted): void {
    if (r.emoji === null) this.s.unreact.run(r.messageId, r.userId);
    else this.s.react.run(r.messageId, r.userId, r.emoji);
  }

  receipt(r: Receipt): void {
    (r.type === 'receipt.read' ? this.s.read : this.s.delivered).run(r.seq, r.conversationId, r.userId);
  }
}

// Messages in PostgreSQL: the persister's apply (idempotent per record, one transaction per call,
// records in the order given), history and single reads. Message data is addressed by
// (conversation_id, ...) so every statement prunes to one hash partition.
import type { Message } from '@messenger/protocol';
import type { LogRecord } from '../../core/log-entries.js';
import type { HistoryQuery, MessageStore } from '../../core/messages/message-store.js';
import { RecordRefused, type QuarantinedRecord, type RecordSink } from '../../core/messages/record-sink.js';
import { applyCalls } from '../sql/apply.js';
import { PostgresApply, storableText } from './apply.js';
import type { PgDb } from './pool.js';
import { MESSAGE_COLUMNS, notHiddenFor, toMessage, type MessageRow } from './rows.js';
import type { MessageKey, SendReads } from './send-reads.js';

/**
 * $1 conversation, $2 viewer, $3 after seq, $4 limit, $5 before seq: a page of history in `order`.
 * Named statements of fixed text: planning this over the partitions (about 1.3-1.9 ms a call on the
 * 10M corpus, warm) cost more than running it; the generic plan prunes to one partition at start.
 */
const history = (order: 'ASC' | 'DESC') => `
  SELECT ${MESSAGE_COLUMNS} FROM messages m
   WHERE m.conversation_id = $1
     AND m.seq > GREATEST($3::bigint, COALESCE((SELECT joined_seq FROM members WHERE conversation_id = $1 AND user_id = $2), 0))
     AND m.seq < $5::bigint AND ${notHiddenFor('$2')}
   ORDER BY m.seq ${order} LIMIT $4`;
const HISTORY_NEWEST = history('DESC');
const HISTORY_AFTER = history('ASC');

export class PostgresMessages implements MessageStore, RecordSink {
  private readonly db: PgDb;
  private readonly reads: SendReads;

  constructor(db: PgDb, reads: SendReads) {
    this.db = db;
    this.reads = reads;
  }

  async apply(records: LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.applyInTx(records);
    } catch (error) {
      // SQLSTATE class 22, data exception (a bad encoding, a value out of range): the data, not the
      // database. Constraint violations (class 23) are not taken as such: order could explain one.
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('22'))
        throw new RecordRefused(`PostgreSQL refused the data (${code}): ${(error as Error).message}`, { cause: error });
      throw error;
    }
  }

  async quarantine(record: LogRecord, reason: string): Promise<void> {
    await this.db.query(
      'INSERT INTO quarantined_records (conversation_id, pos, type, record, reason) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
      [record.conversationId, record.pos, record.type, JSON.stringify(record), storableText(reason)],
    );
  }

  async quarantined(limit: number): Promise<QuarantinedRecord[]> {
    const rows = await this.db.query<{
      conversation_id: string;
      pos: string;
      type: LogRecord['type'];
      record: string;
      reason: string;
      at: Date;
    }>(
      'SELECT conversation_id, pos, type, record, reason, at FROM quarantined_records ORDER BY at, conversation_id, pos LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      pos: Number(r.pos),
      type: r.type,
      record: r.record,
      reason: r.reason,
      at: r.at.toISOString(),
    }));
  }

  private async applyInTx(records: LogRecord[]): Promise<void> {
    await this.db.tx(async (client) => {
      for (const call of applyCalls(records, new PostgresApply(client))) await call;
    });
  }

  async message(conversationId: string, messageId: string): Promise<Message | null> {
    const [row] = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = $1 AND m.id = $2`,
      [conversationId, messageId],
      'messenger.message.one',
    );
    return row ? toMessage(row) : null;
  }

  /**
   * Where message_keys (the idempotency authority) says the message sent under this clientMsgId
   * is. Every send in cluster mode asks this first (the log's lasting dedup), batched with the
   * sends' membership reads; only a retry then reads the message.
   */
  async messageKey(senderId: string, clientMsgId: string): Promise<MessageKey | null> {
    return this.reads.key(senderId, clientMsgId);
  }

  async messageByClientId(senderId: string, clientMsgId: string): Promise<Message | null> {
    const key = await this.reads.key(senderId, clientMsgId);
    return key ? this.message(key.conversationId, key.messageId) : null;
  }

  async history(conversationId: string, viewerId: string, q: HistoryQuery): Promise<Message[]> {
    const after = q.afterSeq !== undefined;
    const rows = await this.db.query<MessageRow>(
      after ? HISTORY_AFTER : HISTORY_NEWEST,
      [conversationId, viewerId, q.afterSeq ?? 0, q.limit, q.beforeSeq ?? Number.MAX_SAFE_INTEGER],
      after ? 'messenger.history.after' : 'messenger.history.newest',
    );
    if (!after) rows.reverse();
    return rows.map(toMessage);
  }
}

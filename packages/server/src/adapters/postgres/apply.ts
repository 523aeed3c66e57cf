// The persister's apply in PostgreSQL: the statements of the shared orchestration (sql/apply.ts),
// awaited one after the other on the transaction's client. A run of sends is one multi-row
// statement whatever its length. Message data is addressed by (conversation_id, ...) so every
// statement prunes to one hash partition.
import type { PoolClient } from 'pg';
import { indexText, searchableText } from '../../core/search/text.js';
import type { ApplyDialect, Deleted, Edited, Reacted, Receipt, Sent } from '../sql/apply.js';
import { searchVector } from './rows.js';

/** What the search index sees of a body; lowercased here so folding never depends on the server's locale. */
export const searchText = (body: string) => indexText(body).toLowerCase();

/**
 * PostgreSQL's text cannot hold U+0000, and a record the store refuses would stop the persister on
 * its partition for good (it retries in order). The API refuses such text; a log written before it
 * did may still hold some, which is stored with U+FFFD in its place.
 */
export const storableText = (text: string): string =>
  text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;

// One statement for a run of sends, whatever its length. message_keys decides: a replay (same sender
// + clientMsgId) inserts no key, so nothing below it runs for that record; within a run the earlier
// record wins, as applying them one by one would. Data-modifying CTEs run once each even when the
// final SELECT ignores them, but cannot see each other's writes: hence the follow-up for orphan keys.
const CREATE = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[], $10::jsonb[])
      WITH ORDINALITY AS t(conversation_id, seq, id, sender_id, client_msg_id, body, created_at, reply_to_id, search_text, attachments, ord)
  ), k AS (
    INSERT INTO message_keys (sender_id, client_msg_id, conversation_id, seq, message_id)
    SELECT sender_id, client_msg_id, conversation_id, seq, id FROM input ORDER BY ord
    ON CONFLICT DO NOTHING RETURNING sender_id, client_msg_id, conversation_id, seq, message_id
  ), m AS (
    INSERT INTO messages (conversation_id, seq, id, sender_id, client_msg_id, body, created_at, reply_to_id, search, attachments)
    SELECT i.conversation_id, i.seq, i.id, i.sender_id, i.client_msg_id, i.body, i.created_at, i.reply_to_id, ${searchVector('i.search_text')}, i.attachments
      FROM input i JOIN k ON k.sender_id = i.sender_id AND k.client_msg_id = i.client_msg_id
                         AND k.conversation_id = i.conversation_id AND k.seq = i.seq AND k.message_id = i.id
     ORDER BY i.ord
    ON CONFLICT DO NOTHING RETURNING conversation_id, seq, sender_id, client_msg_id, created_at
  ), c AS (
    UPDATE conversations c SET last_seq = GREATEST(c.last_seq, x.seq), last_activity_at = GREATEST(c.last_activity_at, x.at)
      FROM (SELECT conversation_id, max(seq) AS seq, max(created_at) AS at FROM m GROUP BY conversation_id) x
     WHERE c.id = x.conversation_id
  ), t AS (
    SELECT conversation_id, messenger_minute(max(created_at)) AS minute FROM m GROUP BY conversation_id
  ), r AS (
    -- One update of the members of the chats written: each sender's receipts, and the minute of
    -- the chat's new activity for every member whose row is behind it (migration 7: a row is
    -- rewritten for activity once a minute at most). One row per member through one GROUP BY, so
    -- the cost stays linear in the batch whatever the planner guesses of these CTEs' sizes (it
    -- guesses one row, so each member row is a probe of the primary key); the members behind are
    -- found chat by chat (a fenced LATERAL).
    UPDATE members mb SET read_seq = GREATEST(mb.read_seq, COALESCE(x.seq, 0)), delivered_seq = GREATEST(mb.delivered_seq, COALESCE(x.seq, 0)),
                          active_minute = GREATEST(mb.active_minute, x.minute)
      FROM (SELECT conversation_id, user_id, max(seq) AS seq, max(minute) AS minute FROM (
              SELECT conversation_id, sender_id AS user_id, seq, messenger_minute(created_at) AS minute FROM m
              UNION ALL
              SELECT t.conversation_id, mm.user_id, NULL, t.minute
                FROM t CROSS JOIN LATERAL (
                  SELECT user_id FROM members WHERE conversation_id = t.conversation_id AND active_minute < t.minute OFFSET 0) mm
            ) u GROUP BY conversation_id, user_id) x
     WHERE mb.conversation_id = x.conversation_id AND mb.user_id = x.user_id
  )
  SELECT k.sender_id, k.client_msg_id FROM k
   WHERE NOT EXISTS (SELECT 1 FROM m WHERE m.sender_id = k.sender_id AND m.client_msg_id = k.client_msg_id)`;

/**
 * Locks the chats a run writes before the run's statement takes its snapshot, so that statement
 * sees every member added until then: addMembers holds the conversation FOR SHARE while it reads the
 * activity it copies, and either commits before this lock is granted (its member is then visible and
 * gets the new minute) or waits for this transaction (and copies its result). In id order, so two
 * writers of the same chats cannot deadlock on them.
 */
const LOCK_CHATS = 'SELECT 1 FROM conversations WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE';

const EDIT = `UPDATE messages SET body = $3, edited_at = $4, search = ${searchVector('$5::text')}
  WHERE conversation_id = $1 AND id = $2 AND deleted_at IS NULL`;

const PREVIEW = 'UPDATE messages SET link_preview = $3 WHERE conversation_id = $1 AND id = $2 AND deleted_at IS NULL';

const TOMBSTONE = `
  WITH t AS (
    UPDATE messages SET body = '', attachments = NULL, link_preview = NULL, deleted_at = $3, search = NULL
     WHERE conversation_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING 1
  )
  DELETE FROM reactions WHERE conversation_id = $1 AND message_id = $2
     AND EXISTS (SELECT 1 FROM messages WHERE conversation_id = $1 AND id = $2)`;

const HIDE = `INSERT INTO hidden (user_id, conversation_id, seq, message_id)
  SELECT $3, conversation_id, seq, id FROM messages WHERE conversation_id = $1 AND id = $2
  ON CONFLICT DO NOTHING`;

const REACT = `INSERT INTO reactions (conversation_id, message_id, user_id, emoji) VALUES ($1, $2, $3, $4)
  ON CONFLICT (conversation_id, message_id, user_id) DO UPDATE SET emoji = excluded.emoji`;

const OLD_LEXEMES =
  'SELECT tsvector_to_array(search) AS lexemes FROM messages WHERE conversation_id = $1 AND id = $2 AND search IS NOT NULL';

// The words of a text that left the index (deleted for everyone, or edited) leave search_lexemes
// unless another message still has them, so no word of a deleted text stays in the database. (A
// persister of another partition inserting the same rare word at that instant can lose the race:
// the word is then missing from prefix expansion until a message uses it again.)
const FORGET_LEXEMES = `
  DELETE FROM search_lexemes l
   WHERE l.lexeme = ANY($1::text[])
     AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.search @@ quote_literal(l.lexeme)::tsquery)`;

const UNREACT = 'DELETE FROM reactions WHERE conversation_id = $1 AND message_id = $2 AND user_id = $3';
const READ = 'UPDATE members SET read_seq = GREATEST(read_seq, $1) WHERE conversation_id = $2 AND user_id = $3';
const DELIVERED =
  'UPDATE members SET delivered_seq = GREATEST(delivered_seq, $1) WHERE conversation_id = $2 AND user_id = $3';

/** One transaction's statements: built on its client, used for one apply. */
export class PostgresApply implements ApplyDialect<Promise<void>> {
  private readonly client: PoolClient;

  constructor(client: PoolClient) {
    this.client = client;
  }

  async insert(run: Sent[]): Promise<void> {
    const client = this.client;
    await client.query({
      name: 'messenger.message.lock-chats',
      text: LOCK_CHATS,
      values: [[...new Set(run.map((r) => r.conversationId))]],
    });
    const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], []];
    for (const { message: m } of run) {
      const body = storableText(m.body);
      const row = [
        m.conversationId,
        m.seq,
        m.id,
        m.senderId,
        storableText(m.clientMsgId),
        body,
        m.createdAt,
        m.replyToId,
        searchText(searchableText(body, m.attachments)),
        m.attachments?.length ? JSON.stringify(m.attachments) : null,
      ];
      for (let i = 0; i < row.length; i++) cols[i]!.push(row[i]);
    }
    const { rows } = await client.query<{ sender_id: string; client_msg_id: string }>(
      { name: 'messenger.message.created', text: CREATE },
      cols,
    );
    // The key was free but (conversation, seq) or the id was taken: the record is ignored whole, as
    // SQLite's INSERT OR IGNORE does, so its key must not linger.
    if (rows.length > 0) {
      await client.query(
        'DELETE FROM message_keys WHERE (sender_id, client_msg_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
        [rows.map((r) => r.sender_id), rows.map((r) => r.client_msg_id)],
      );
    }
  }

  async edit(r: Edited): Promise<void> {
    if (r.linkPreview !== undefined) {
      const preview = r.linkPreview ? JSON.stringify(r.linkPreview) : null;
      await this.client.query(PREVIEW, [r.conversationId, r.messageId, preview]);
      return;
    }
    const body = storableText(r.body);
    const values = [
      r.conversationId,
      r.messageId,
      body,
      r.editedAt,
      searchText(searchableText(body, r.message.attachments)),
    ];
    await this.withForgottenWords(r.conversationId, r.messageId, EDIT, values);
  }

  async erase(r: Deleted): Promise<void> {
    await this.withForgottenWords(r.conversationId, r.messageId, TOMBSTONE, [r.conversationId, r.messageId, r.at]);
  }

  async hide(r: Deleted): Promise<void> {
    await this.client.query(HIDE, [r.conversationId, r.messageId, r.userId]);
  }

  async react(r: Reacted): Promise<void> {
    if (r.emoji === null) await this.client.query(UNREACT, [r.conversationId, r.messageId, r.userId]);
    else await this.client.query(REACT, [r.conversationId, r.messageId, r.userId, storableText(r.emoji)]);
  }

  async receipt(r: Receipt): Promise<void> {
    await this.client.query(r.type === 'receipt.read' ? READ : DELIVERED, [r.seq, r.conversationId, r.userId]);
  }

  /** Runs the statement `text` (which takes a message's text out of the index) and forgets the words only it had. */
  private async withForgottenWords(
    conversationId: string,
    messageId: string,
    text: string,
    values: unknown[],
  ): Promise<void> {
    const { rows } = await this.client.query<{ lexemes: string[] }>(OLD_LEXEMES, [conversationId, messageId]);
    await this.client.query(text, values);
    if (rows[0] && rows[0].lexemes.length > 0) await this.client.query(FORGET_LEXEMES, [rows[0].lexemes]);
  }
}

// Row shapes and SQL fragments shared by the PostgreSQL store modules, and their mapping to API
// objects. bigint columns arrive as strings and timestamptz as Date (node-postgres defaults).
import type { Attachment, Message, Reaction, User } from '@messenger/protocol';
import { type UserRow as SqlUserRow, userFromRow } from '../sql/user-rows.js';

export interface MessageRow {
  conversation_id: string;
  seq: string | number;
  id: string;
  sender_id: string;
  client_msg_id: string;
  body: string;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  reply_to_id: string | null;
  reactions: Reaction[];
  attachments: Attachment[] | null;
  link_preview?: Message['linkPreview'];
}

/** The message columns of alias `m` plus its reactions (one user each, by user id), never the tsvector. */
export const MESSAGE_COLUMNS = `m.conversation_id, m.seq, m.id, m.sender_id, m.client_msg_id, m.body, m.created_at,
  m.edited_at, m.deleted_at, m.reply_to_id, m.attachments, m.link_preview,
  (SELECT coalesce(json_agg(json_build_object('userId', r.user_id, 'emoji', r.emoji) ORDER BY r.user_id), '[]')
     FROM reactions r WHERE r.conversation_id = m.conversation_id AND r.message_id = m.id) AS reactions`;

/** Excludes what `viewer` (a parameter) deleted for themselves; alias `m`. */
export const notHiddenFor = (viewer: string) =>
  `NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ${viewer} AND h.conversation_id = m.conversation_id AND h.seq = m.seq)`;

/** The search vector of a body, given indexText(body) as a parameter. */
export const searchVector = (indexText: string) => `to_tsvector('simple', messenger_unaccent(lower(${indexText})))`;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: Number(row.seq),
    senderId: row.sender_id,
    clientMsgId: row.client_msg_id,
    body: row.body,
    createdAt: row.created_at.toISOString(),
    editedAt: iso(row.edited_at),
    deletedAt: iso(row.deleted_at),
    replyToId: row.reply_to_id,
    reactions: row.deleted_at ? [] : row.reactions,
    attachments: row.deleted_at ? [] : (row.attachments ?? []),
    ...(row.link_preview && !row.deleted_at ? { linkPreview: row.link_preview } : {}),
  };
}

export type UserRow = SqlUserRow<Date>;

export const toUser = (row: UserRow): User => userFromRow(row, (d) => d.toISOString());

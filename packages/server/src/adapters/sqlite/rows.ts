// Row shapes and their mapping to API objects, shared by the SQLite store modules.
import type { Attachment, Message, Reaction, User } from '@messenger/protocol';
import { type UserRow as SqlUserRow, userFromRow } from '../sql/user-rows.js';

export interface MessageRow {
  conversation_id: string;
  seq: number;
  id: string;
  sender_id: string;
  client_msg_id: string;
  body: string;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  reply_to_id: string | null;
  /** JSON of the Attachment list; NULL for none. */
  attachments: string | null;
  /** JSON of the LinkPreview; NULL until one is fetched. */
  link_preview?: string | null;
}

export function toMessage(row: MessageRow, reactions: Reaction[] = []): Message {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: row.seq,
    senderId: row.sender_id,
    clientMsgId: row.client_msg_id,
    body: row.body,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    deletedAt: row.deleted_at,
    replyToId: row.reply_to_id,
    reactions: row.deleted_at ? [] : reactions,
    attachments: row.deleted_at || !row.attachments ? [] : (JSON.parse(row.attachments) as Attachment[]),
    ...(row.link_preview && !row.deleted_at
      ? { linkPreview: JSON.parse(row.link_preview) as Message['linkPreview'] }
      : {}),
  };
}

export type UserRow = SqlUserRow<string>;

export const toUser = (row: UserRow): User => userFromRow(row, (t) => t);

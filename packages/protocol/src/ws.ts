// WebSocket frames: what a client sends, what the server answers and pushes.
import { z } from 'zod';
import type { ErrorBody } from './errors.js';
import type { Conversation, Message, PresenceStatus, User } from './objects.js';
import { attachmentIds, clientMsgId, id, sendBody } from './http.js';

export const requestId = z.union([z.string().min(1).max(64), z.number().int().safe()]);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const authFrame = z.object({ type: z.literal('auth'), token: z.string().min(1).max(256) });

export const clientRequest = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('send'),
    id: requestId,
    conversationId: id,
    clientMsgId,
    body: sendBody,
    replyToId: id.optional().nullable(),
    attachments: attachmentIds.optional(),
  }),
  z.object({ type: z.literal('read'), id: requestId, conversationId: id, seq }),
  z.object({ type: z.literal('delivered'), id: requestId, conversationId: id, seq }),
  z.object({ type: z.literal('typing'), id: requestId, conversationId: id }),
  z.object({ type: z.literal('presence'), id: requestId, status: z.enum(['online', 'away']) }),
  z.object({ type: z.literal('ping'), id: requestId }),
]);

export type AuthFrame = z.infer<typeof authFrame>;
export type ClientRequest = z.infer<typeof clientRequest>;
export type ClientRequestType = ClientRequest['type'];
export type RequestId = z.infer<typeof requestId>;

/** What each request type answers with on success. */
export interface RequestResults {
  send: { message: Message };
  read: Record<string, never>;
  delivered: Record<string, never>;
  typing: Record<string, never>;
  presence: Record<string, never>;
  ping: Record<string, never>;
}

export type ServerEvent =
  | { type: 'message.created'; conversationId: string; message: Message }
  | { type: 'message.updated'; conversationId: string; message: Message }
  | { type: 'message.deleted'; conversationId: string; messageId: string; for: 'everyone' | 'me' }
  | { type: 'reaction.updated'; conversationId: string; messageId: string; userId: string; emoji: string | null }
  | { type: 'receipt.read'; conversationId: string; userId: string; seq: number }
  | { type: 'receipt.delivered'; conversationId: string; userId: string; seq: number }
  | { type: 'typing'; conversationId: string; userId: string }
  | { type: 'presence'; userId: string; status: PresenceStatus; lastSeenAt: string | null }
  | { type: 'conversation.updated'; conversation: Conversation }
  /** v1.1: someone who shares a conversation with the recipient changed their profile or left. */
  | { type: 'user.updated'; user: User };

export type ServerEventType = ServerEvent['type'];
export type EventOf<T extends ServerEventType> = Extract<ServerEvent, { type: T }>;

export type ReplyFrame =
  | { type: 'reply'; id: RequestId | null; ok: true; result: unknown }
  | { type: 'reply'; id: RequestId | null; ok: false; error: ErrorBody };

export type ServerFrame =
  | { type: 'ready'; userId: string; sessionId: string }
  | ReplyFrame
  | { type: 'event'; event: ServerEvent };

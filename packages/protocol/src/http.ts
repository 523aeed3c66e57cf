// Schemas of every HTTP body and query in the v1 contract, and the shapes of their answers.
import { z } from 'zod';
import { newPassword } from './accounts.js';
import { LIMITS } from './limits.js';
import type { Conversation, Message, PresenceInfo, SearchResult, User } from './objects.js';

/**
 * No text may hold U+0000: PostgreSQL's text type cannot store it, and in cluster mode a message
 * that the log accepted but the store refuses would stop its partition's persister for good.
 */
const nulFree = (text: string) => !text.includes('\u0000');
const NUL_MESSAGE = { message: 'must not contain NUL (U+0000) characters' };

export const id = z
  .string()
  .min(1)
  .max(LIMITS.maxIdChars)
  .regex(/^[A-Za-z0-9_-]+$/, 'bad id');
/** A message text; its byte cap (413) is checked apart from this schema, so that the status is right. */
export const messageBody = z.string().min(1, 'body must not be empty').refine(nulFree, NUL_MESSAGE);
/** A send's text: empty only with attachments, which the server checks (400 otherwise). */
export const sendBody = z.string().refine(nulFree, NUL_MESSAGE).default('');
/** v1.1: upload ids, each the sender's own and not attached before. */
export const attachmentIds = z.array(id).max(LIMITS.maxAttachments, `at most ${LIMITS.maxAttachments} attachments`);
export const clientMsgId = z.string().min(1).max(LIMITS.maxClientMsgIdChars).refine(nulFree, NUL_MESSAGE);
const seqNumber = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const queryInt = (max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, 'must be a non-negative integer')
    .transform(Number)
    .pipe(z.number().max(max));

export const createUserBody = z.object({
  username: z.string().regex(LIMITS.usernamePattern, 'username: 3-32 characters of a-z, 0-9, _ and .'),
  displayName: z.string().trim().min(1).max(LIMITS.maxDisplayNameChars).refine(nulFree, NUL_MESSAGE).optional(),
  /** With a password the answer is a device session instead of an API key (accounts.ts). */
  password: newPassword.optional(),
});

export const userLookupQuery = z.object({ username: z.string().min(1).max(64).refine(nulFree, NUL_MESSAGE) });

export const createConversationBody = z.object({
  memberIds: z.array(id).min(1).max(1024),
  title: z.string().trim().min(1).max(LIMITS.maxTitleChars).refine(nulFree, NUL_MESSAGE).optional(),
});

export const listConversationsQuery = z.object({
  limit: queryInt(LIMITS.maxChatsLimit).pipe(z.number().min(1)).optional(),
  cursor: z.string().min(1).max(200).refine(nulFree, NUL_MESSAGE).optional(),
  /** v1.1: `true` lists only the caller's message requests. */
  requests: z.enum(['true', 'false']).optional(),
});

export const addMembersBody = z.object({ userIds: z.array(id).min(1).max(1024) });

export const sendMessageBody = z.object({
  clientMsgId,
  body: sendBody,
  replyToId: id.optional().nullable(),
  attachments: attachmentIds.optional(),
});

export const historyQuery = z.object({
  afterSeq: queryInt(Number.MAX_SAFE_INTEGER).optional(),
  beforeSeq: queryInt(Number.MAX_SAFE_INTEGER).optional(),
  limit: queryInt(LIMITS.maxHistoryLimit).pipe(z.number().min(1)).optional(),
});

export const editMessageBody = z.object({ body: messageBody });

export const deleteMessageQuery = z.object({ for: z.enum(['everyone', 'me']) });

export const reactionBody = z.object({ emoji: z.string().min(1).max(64).refine(nulFree, NUL_MESSAGE) });

export const readBody = z.object({ seq: seqNumber });

export const conversationSettingsBody = z.object({ muted: z.boolean() });

export const presenceQuery = z.object({
  userIds: z
    .string()
    .min(1)
    .max(64 * 200)
    .transform((s) => s.split(',').filter((x) => x.length > 0))
    .pipe(z.array(id).min(1).max(200)),
});

export const searchQuery = z.object({
  q: z.string().trim().min(1).max(LIMITS.maxSearchQueryChars).refine(nulFree, NUL_MESSAGE),
  conversationId: id.optional(),
  limit: queryInt(LIMITS.maxSearchLimit).pipe(z.number().min(1)).optional(),
});

export const pushSubscriptionBody = z.object({
  endpoint: z.string().url().max(2048).refine(nulFree, NUL_MESSAGE),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    p256dh: z.string().min(1).max(256).refine(nulFree, NUL_MESSAGE),
    auth: z.string().min(1).max(256).refine(nulFree, NUL_MESSAGE),
  }),
});

export const pushUnsubscribeQuery = z.object({ endpoint: z.string().url().max(2048).refine(nulFree, NUL_MESSAGE) });

export type CreateUserBody = z.infer<typeof createUserBody>;
export type CreateConversationBody = z.infer<typeof createConversationBody>;
export type SendMessageBody = z.input<typeof sendMessageBody>;
export type PushSubscriptionBody = z.infer<typeof pushSubscriptionBody>;

export interface CreateUserResponse {
  user: User;
  apiKey: string;
}
export interface UserResponse {
  user: User;
}
export interface ConversationResponse {
  conversation: Conversation;
}
export interface ConversationsResponse {
  conversations: Conversation[];
  nextCursor: string | null;
}
export interface MessageResponse {
  message: Message;
}
export interface MessagesResponse {
  messages: Message[];
}
export interface PresenceResponse {
  presence: Record<string, PresenceInfo>;
}
export interface SearchResponse {
  results: SearchResult[];
}
export interface VapidKeyResponse {
  publicKey: string;
}

/** The decrypted body of a Web Push the notifier sends (one per new message for an offline member). */
export interface PushMessagePayload {
  type: 'message';
  conversationId: string;
  messageId: string;
  /** The sender's display name. */
  senderName: string;
  /** The start of the body; absent when the message was deleted before the push went out. */
  preview?: string;
  /** The recipient's unread messages over all conversations, for the app badge. */
  unreadTotal: number;
}

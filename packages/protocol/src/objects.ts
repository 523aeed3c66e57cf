// The objects the API returns.
import type { Attachment } from './media.js';

export interface User {
  id: string;
  username: string;
  displayName: string;
  createdAt: string;
  /** v1.1: null until media uploads bring avatars. */
  avatarUrl: string | null;
}

export interface Reaction {
  userId: string;
  emoji: string;
}

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  clientMsgId: string;
  body: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  replyToId: string | null;
  reactions: Reaction[];
  /** v1.1: the files sent with it, in the order given; `[]` when none (and once deleted). */
  attachments: Attachment[];
  /** v1.1: the first link's page, added by a later message.updated; absent or null until then. */
  linkPreview?: LinkPreview | null;
}

/** What the server read of a page a message links to. */
export interface LinkPreview {
  url: string;
  title: string | null;
  description: string | null;
  /** Absolute http(s) URL on the linked site, as the page names it; clients show thumbnailUrl instead. */
  imageUrl: string | null;
  /**
   * v1.1: the server's own copy of that image (fetched by the server, longest side at most 320 px,
   * WebP), a signed URL like an attachment's thumbnailUrl; null or absent when it had none or
   * the image could not be read.
   */
  thumbnailUrl?: string | null;
}

export interface Member {
  userId: string;
  username: string;
  displayName: string;
  readSeq: number;
  deliveredSeq: number;
  /** v1.1: group admins may rename, set who adds, change roles and remove members. */
  role: 'admin' | 'member';
  /** v1.1: the member's avatar, as User.avatarUrl. */
  avatarUrl?: string | null;
}

export type ConversationKind = 'direct' | 'group';

export interface Conversation {
  id: string;
  kind: ConversationKind;
  title: string | null;
  members: Member[];
  createdAt: string;
  lastSeq: number;
  lastMessage: Message | null;
  unreadCount: number;
  muted: boolean;
  /** v1.1: true while the caller has not accepted the conversation (a message request). */
  request: boolean;
  /** v1.1: whether members who are not admins may add members (groups; always true for a direct chat). */
  membersCanAdd: boolean;
  /** v1.1: a group's picture (signed, its thumbnail); null for none and for direct chats. */
  avatarUrl: string | null;
}

export type PresenceStatus = 'online' | 'away' | 'offline';

export interface PresenceInfo {
  status: PresenceStatus;
  lastSeenAt: string | null;
}

export interface SearchResult {
  conversationId: string;
  message: Message;
  snippet: string;
  /** Added to v1: [start, end) UTF-16 offsets of the matches within `snippet`, for highlighting as text. */
  highlights?: [number, number][];
}

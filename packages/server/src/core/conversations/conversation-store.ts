// ConversationStore: chats, their members and each member's view of them (GetChats). Written
// directly for membership and settings, and by the persister's records for what messages change
// (last seq, receipts); in a cluster those may lag the log.
import type { Conversation } from '@messenger/protocol';

export interface NewConversation {
  id: string;
  kind: 'direct' | 'group';
  title: string | null;
  createdAt: string;
  memberIds: string[];
  /** Set for a direct chat: the two user ids in order, unique. */
  directKey: string | null;
}

export interface Membership {
  userId: string;
  /** Messages with seq <= joinedSeq were written before this member joined and stay hidden. */
  joinedSeq: number;
  readSeq: number;
  deliveredSeq: number;
  muted: boolean;
}

export interface ConversationStore {
  /** Creates, or for a direct chat returns the existing one (unique per pair): `created` says which. */
  createConversation(conv: NewConversation): Promise<{ id: string; created: boolean }>;
  /** Adds members who are not in yet, each joining after the current last seq; returns who was added. */
  addMembers(conversationId: string, userIds: string[]): Promise<string[]>;
  removeMember(conversationId: string, userId: string): Promise<boolean>;
  membership(conversationId: string, userId: string): Promise<Membership | null>;
  memberIds(conversationId: string): Promise<string[]>;
  conversationKind(conversationId: string): Promise<'direct' | 'group' | null>;
  /** The chat as `viewerId` sees it; null when missing or when the viewer is not a member. */
  conversation(conversationId: string, viewerId: string): Promise<Conversation | null>;
  /**
   * The same as `conversation` for each of `viewerIds` (members only; others are left out): a
   * change to a 1,000-member group needs 1,000 views at once, which a remote store builds in a few
   * statements rather than two round trips per viewer.
   */
  conversationViews(conversationId: string, viewerIds: string[]): Promise<Map<string, Conversation>>;
  /** GetChats: newest activity first; `cursor` is opaque, from a previous page. */
  conversations(
    viewerId: string,
    limit: number,
    cursor: string | null,
  ): Promise<{ conversations: Conversation[]; nextCursor: string | null }>;
  setMuted(conversationId: string, userId: string, muted: boolean): Promise<void>;
  /** The highest seq the store holds for the conversation (0 if none): may trail the log. */
  lastSeq(conversationId: string): Promise<number>;
  /** Everyone who shares at least one conversation with `userId` (not the user). */
  contacts(userId: string): Promise<string[]>;
}

// ConversationStore: chats, their members and each member's view of them (GetChats). Written
// directly for membership and settings, and by the persister's records for what messages change
// (last seq, receipts); in a cluster those may lag the log.
import type { Conversation, ConversationsResponse } from '@messenger/protocol';
import type { RequestState } from './member-standing.js';

export interface NewConversation {
  id: string;
  kind: 'direct' | 'group';
  title: string | null;
  createdAt: string;
  memberIds: string[];
  /** Set for a direct chat: the two user ids in order, unique. */
  directKey: string | null;
  /** Members who start as admins (a group's creator); the others start as members. */
  admins?: string[];
  /** Members for whom the chat starts as a message request; the others have accepted it. */
  pending?: string[];
}

export interface Membership {
  userId: string;
  /** Messages with seq <= joinedSeq were written before this member joined and stay hidden. */
  joinedSeq: number;
  readSeq: number;
  deliveredSeq: number;
  muted: boolean;
  role: 'admin' | 'member';
  /** 'pending': a message request the member has not accepted; 'declined': hidden from them. */
  request: RequestState;
}

export interface ConversationStore {
  /** Creates, or for a direct chat returns the existing one (unique per pair): `created` says which. */
  createConversation(conv: NewConversation): Promise<{ id: string; created: boolean }>;
  /**
   * Adds members who are not in yet, each joining after the current last seq, as a message request
   * for those in `pending`; returns who was added.
   */
  addMembers(conversationId: string, userIds: string[], pending?: string[]): Promise<string[]>;
  removeMember(conversationId: string, userId: string): Promise<boolean>;
  membership(conversationId: string, userId: string): Promise<Membership | null>;
  memberIds(conversationId: string): Promise<string[]>;
  conversationKind(conversationId: string): Promise<'direct' | 'group' | null>;
  /**
   * The chat as `viewerId` sees it; null when missing or when the viewer is not a member. The
   * receipts of another member who has not accepted it show where that member joined.
   */
  conversation(conversationId: string, viewerId: string): Promise<Conversation | null>;
  /**
   * The same as `conversation` for each of `viewerIds` (members only; others are left out): a
   * change to a 1,000-member group needs 1,000 views at once, which a remote store builds in a few
   * statements rather than two round trips per viewer.
   */
  conversationViews(conversationId: string, viewerIds: string[]): Promise<Map<string, Conversation>>;
  /**
   * GetChats: newest activity first; `cursor` is opaque, from a previous page. The chats the viewer
   * accepted, or with `requests` only their message requests (declined ones are in neither).
   */
  conversations(
    viewerId: string,
    limit: number,
    cursor: string | null,
    requests?: boolean,
  ): Promise<ConversationsResponse>;
  setMuted(conversationId: string, userId: string, muted: boolean): Promise<void>;
  /** The highest seq the store holds for the conversation (0 if none): may trail the log. */
  lastSeq(conversationId: string): Promise<number>;
  /** Everyone who shares with `userId` a conversation both have accepted (not the user). */
  contacts(userId: string): Promise<string[]>;
}

// Store: the queryable state (users, conversations, messages, search), built from the log.
// Reads may lag the log in a cluster; the embedded backend applies records inside the log's commit.
import type { Conversation, Message, SearchResult, User } from '@messenger/protocol';
import type { LogRecord } from './log-entries.js';

export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  createdAt: string;
  apiKeyHash: string;
}

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

export interface HistoryQuery {
  afterSeq?: number;
  beforeSeq?: number;
  limit: number;
}

export interface SearchQuery {
  q: string;
  conversationId?: string;
  limit: number;
}

export interface UserStore {
  /** Throws AppError('conflict') when the username is taken. */
  createUser(user: NewUser): Promise<User>;
  userByKeyHash(hash: string): Promise<User | null>;
  userByUsername(username: string): Promise<User | null>;
  usersByIds(ids: string[]): Promise<User[]>;
  setPresenceVisible(userId: string, visible: boolean): Promise<void>;
  /** Users whose presence is hidden, among `ids`. */
  hiddenPresence(ids: string[]): Promise<Set<string>>;
}

export interface ConversationStore {
  /** Creates, or for a direct chat returns the existing one: `created` says which. */
  createConversation(conv: NewConversation): Promise<{ id: string; created: boolean }>;
  /** Adds members who are not in yet, each joining after the current last seq; returns who was added. */
  addMembers(conversationId: string, userIds: string[]): Promise<string[]>;
  removeMember(conversationId: string, userId: string): Promise<boolean>;
  membership(conversationId: string, userId: string): Promise<Membership | null>;
  memberIds(conversationId: string): Promise<string[]>;
  conversationKind(conversationId: string): Promise<'direct' | 'group' | null>;
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
  lastSeq(conversationId: string): Promise<number>;
  /** Everyone who shares at least one conversation with `userId` (not the user). */
  contacts(userId: string): Promise<string[]>;
}

/**
 * Thrown by `apply` when the store refuses a record's data for good (say, text its database cannot
 * hold): unlike a store that is down or busy, retrying can never succeed. The persister then
 * quarantines that record instead of stopping its partition on it.
 */
export class RecordRefused extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecordRefused';
  }
}

/** A record the store refused (see RecordRefused), kept as it came from the log. */
export interface QuarantinedRecord {
  pos: number;
  conversationId: string;
  type: LogRecord['type'];
  /** The record as JSON. */
  record: string;
  reason: string;
  at: string;
}

export interface MessageStore {
  /**
   * The persister's write: idempotent per record (replaying a record changes nothing). Throws
   * RecordRefused when the data itself is refused; anything else is worth retrying.
   */
  apply(records: LogRecord[]): Promise<void>;
  /** Keeps a refused record aside (idempotent); readers never see it. */
  quarantine(record: LogRecord, reason: string): Promise<void>;
  /** The quarantined records, oldest first: for operators and tests. */
  quarantined(limit: number): Promise<QuarantinedRecord[]>;
  message(conversationId: string, messageId: string): Promise<Message | null>;
  messageByClientId(senderId: string, clientMsgId: string): Promise<Message | null>;
  /** Ascending seq; without afterSeq: the newest `limit` (below beforeSeq if set). */
  history(conversationId: string, viewerId: string, query: HistoryQuery): Promise<Message[]>;
  search(viewerId: string, query: SearchQuery): Promise<SearchResult[]>;
}

export interface Store extends UserStore, ConversationStore, MessageStore {
  /** Throws when the store cannot answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

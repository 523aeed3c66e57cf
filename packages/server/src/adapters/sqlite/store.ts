// SqliteStore: the embedded Store, one SQLite file shared with the event log (one writer).
import type { Conversation, Message, SearchResult, User } from '@messenger/protocol';
import type { LogRecord } from '../../core/log-entries.js';
import type {
  HistoryQuery,
  Membership,
  NewConversation,
  NewUser,
  QuarantinedRecord,
  SearchQuery,
  Store,
} from '../../core/store.js';
import type { Db } from './db.js';
import { SqliteConversations } from './conversations.js';
import { SqliteMessages } from './messages.js';
import { SqliteSearch } from './search.js';
import { SqliteUsers } from './users.js';

export class SqliteStore implements Store {
  private readonly db: Db;
  private readonly users: SqliteUsers;
  private readonly messages: SqliteMessages;
  private readonly convs: SqliteConversations;
  private readonly searchIndex: SqliteSearch;

  constructor(deps: { db: Db }) {
    this.db = deps.db;
    this.users = new SqliteUsers(this.db);
    this.searchIndex = new SqliteSearch(this.db);
    this.messages = new SqliteMessages(this.db, this.searchIndex);
    this.convs = new SqliteConversations(this.db, this.messages);
  }

  async createUser(user: NewUser): Promise<User> {
    return this.users.create(user);
  }
  async userByKeyHash(hash: string): Promise<User | null> {
    return this.users.byKeyHash(hash);
  }
  async userByUsername(username: string): Promise<User | null> {
    return this.users.byUsername(username);
  }
  async usersByIds(ids: string[]): Promise<User[]> {
    return this.users.byIds(ids);
  }
  async setPresenceVisible(userId: string, visible: boolean): Promise<void> {
    this.users.setPresenceVisible(userId, visible);
  }
  async hiddenPresence(ids: string[]): Promise<Set<string>> {
    return this.users.hiddenPresence(ids);
  }

  async createConversation(conv: NewConversation): Promise<{ id: string; created: boolean }> {
    return this.convs.create(conv);
  }
  async addMembers(conversationId: string, userIds: string[]): Promise<string[]> {
    return this.convs.addMembers(conversationId, userIds);
  }
  async removeMember(conversationId: string, userId: string): Promise<boolean> {
    return this.convs.removeMember(conversationId, userId);
  }
  async membership(conversationId: string, userId: string): Promise<Membership | null> {
    return this.convs.membership(conversationId, userId);
  }
  async memberIds(conversationId: string): Promise<string[]> {
    return this.convs.memberIds(conversationId);
  }
  async conversationKind(conversationId: string): Promise<'direct' | 'group' | null> {
    return this.convs.kind(conversationId);
  }
  async conversation(conversationId: string, viewerId: string): Promise<Conversation | null> {
    return this.convs.view(conversationId, viewerId);
  }
  /** In-process SQLite: one view per viewer is cheap enough (no round trips). */
  async conversationViews(conversationId: string, viewerIds: string[]): Promise<Map<string, Conversation>> {
    const out = new Map<string, Conversation>();
    for (const viewerId of viewerIds) {
      const view = this.convs.view(conversationId, viewerId);
      if (view) out.set(viewerId, view);
    }
    return out;
  }
  async conversations(viewerId: string, limit: number, cursor: string | null) {
    return this.convs.page(viewerId, limit, cursor);
  }
  async setMuted(conversationId: string, userId: string, muted: boolean): Promise<void> {
    this.convs.setMuted(conversationId, userId, muted);
  }
  async lastSeq(conversationId: string): Promise<number> {
    return this.convs.lastSeq(conversationId);
  }
  async contacts(userId: string): Promise<string[]> {
    return this.convs.contacts(userId);
  }

  async apply(records: LogRecord[]): Promise<void> {
    this.messages.apply(records);
  }
  async quarantine(record: LogRecord, reason: string): Promise<void> {
    this.messages.quarantine(record, reason);
  }
  async quarantined(limit: number): Promise<QuarantinedRecord[]> {
    return this.messages.quarantined(limit);
  }
  async message(conversationId: string, messageId: string): Promise<Message | null> {
    return this.messages.message(conversationId, messageId);
  }
  async messageByClientId(senderId: string, clientMsgId: string): Promise<Message | null> {
    return this.messages.messageByClientId(senderId, clientMsgId);
  }
  async history(conversationId: string, viewerId: string, query: HistoryQuery): Promise<Message[]> {
    return this.messages.history(conversationId, viewerId, query);
  }
  async search(viewerId: string, query: SearchQuery): Promise<SearchResult[]> {
    return this.searchIndex.search(viewerId, query, (rows) => this.messages.withReactions(rows));
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }
  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

// PostgresStore: the cluster's Store. Users and conversations are relational; messages are
// Cassandra-shaped (keyed by conversation and seq, hash-partitioned by conversation). Written by the
// persister through apply(), read by every gateway; reads may lag the log.
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
import { PostgresConversations } from './conversations.js';
import { PostgresMessages } from './messages.js';
import { migrate } from './migrations.js';
import { openPool, PgDb, type PostgresConnection } from './pool.js';
import { PostgresSearch } from './search.js';
import { SendReads, type MessageKey } from './send-reads.js';
import { PostgresUsers } from './users.js';

export type PostgresStoreDeps = PostgresConnection;

export class PostgresStore implements Store {
  private readonly db: PgDb;
  private readonly owned: boolean;
  private readonly schema: string | null;
  private readonly users: PostgresUsers;
  private readonly convs: PostgresConversations;
  private readonly messages: PostgresMessages;
  private readonly searchIndex: PostgresSearch;
  private closed = false;

  constructor(deps: PostgresStoreDeps) {
    const { pool, owned, schema } = openPool(deps);
    this.db = new PgDb(pool);
    this.owned = owned;
    this.schema = schema;
    this.users = new PostgresUsers(this.db);
    const reads = new SendReads(this.db);
    this.convs = new PostgresConversations(this.db, reads);
    this.messages = new PostgresMessages(this.db, reads);
    this.searchIndex = new PostgresSearch(this.db);
  }

  /** Constructs and migrates: what a process calls at startup. */
  static async open(deps: PostgresStoreDeps): Promise<PostgresStore> {
    const store = new PostgresStore(deps);
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** Applies pending migrations (creating the schema if one was named); safe from many processes at once. */
  async migrate(): Promise<void> {
    await migrate(this.db.pool, this.schema);
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
    return this.users.setPresenceVisible(userId, visible);
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
  async conversations(viewerId: string, limit: number, cursor: string | null) {
    return this.convs.page(viewerId, limit, cursor);
  }
  async conversationViews(conversationId: string, viewerIds: string[]): Promise<Map<string, Conversation>> {
    return this.convs.viewsFor(conversationId, viewerIds);
  }
  async setMuted(conversationId: string, userId: string, muted: boolean): Promise<void> {
    return this.convs.setMuted(conversationId, userId, muted);
  }
  async lastSeq(conversationId: string): Promise<number> {
    return this.convs.lastSeq(conversationId);
  }
  async contacts(userId: string): Promise<string[]> {
    return this.convs.contacts(userId);
  }

  async apply(records: LogRecord[]): Promise<void> {
    return this.messages.apply(records);
  }
  async quarantine(record: LogRecord, reason: string): Promise<void> {
    return this.messages.quarantine(record, reason);
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
  /** The log's lasting dedup: where the message sent under this clientMsgId is, without reading it. */
  async messageKey(senderId: string, clientMsgId: string): Promise<MessageKey | null> {
    return this.messages.messageKey(senderId, clientMsgId);
  }
  async history(conversationId: string, viewerId: string, query: HistoryQuery): Promise<Message[]> {
    return this.messages.history(conversationId, viewerId, query);
  }
  async search(viewerId: string, query: SearchQuery): Promise<SearchResult[]> {
    return this.searchIndex.search(viewerId, query);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  /** Ends the pool if this store opened it; a pool passed in belongs to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) await this.db.pool.end();
  }
}

// Direct chats and groups: create, list (GetChats), read one, add members, leave, mute.
import type { Conversation } from '@messenger/protocol';
import { LIMITS } from '@messenger/protocol';
import { invalid, notFound } from '../../domain/errors.js';
import { directKey, newId } from '../../domain/ids.js';
import type { EventLog } from '../messages/event-log.js';
import type { UserStore } from '../users/user-store.js';
import type { ConversationStore, Membership } from './conversation-store.js';

type Chats = Pick<
  ConversationStore,
  | 'createConversation'
  | 'addMembers'
  | 'removeMember'
  | 'membership'
  | 'memberIds'
  | 'conversationKind'
  | 'conversation'
  | 'conversations'
  | 'setMuted'
>;

export class Conversations {
  private readonly store: Chats;
  private readonly users: Pick<UserStore, 'usersByIds'>;
  private readonly log: EventLog;
  private readonly maxGroupMembers: number;

  /** Resolves once the store holds everything the log has (when it may trail it: a cluster). */
  private readonly storeCatchUp: ((conversationId: null) => Promise<unknown>) | undefined;

  constructor(deps: {
    conversationStore: Chats;
    userStore: Pick<UserStore, 'usersByIds'>;
    log: EventLog;
    maxGroupMembers: number;
    storeCatchUp?: (conversationId: null) => Promise<unknown>;
  }) {
    this.storeCatchUp = deps.storeCatchUp;
    this.store = deps.conversationStore;
    this.users = deps.userStore;
    this.log = deps.log;
    this.maxGroupMembers = deps.maxGroupMembers;
  }

  /** The caller's membership, or 404 whether the conversation is missing or just not theirs. */
  async requireMember(conversationId: string, userId: string): Promise<Membership> {
    const membership = await this.store.membership(conversationId, userId);
    if (!membership) throw notFound();
    return membership;
  }

  async create(
    callerId: string,
    input: { memberIds: string[]; title?: string | undefined },
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const others = [...new Set(input.memberIds)].filter((id) => id !== callerId);
    if (others.length === 0) throw invalid('memberIds must name at least one other user');
    await this.requireUsers(others);
    const direct = others.length === 1 && input.title === undefined;
    if (!direct && others.length + 1 > this.maxGroupMembers)
      throw invalid(`a group has at most ${this.maxGroupMembers} members`);
    const memberIds = [callerId, ...others];
    const { id, created } = await this.store.createConversation({
      id: newId('c'),
      kind: direct ? 'direct' : 'group',
      title: direct ? null : (input.title ?? null),
      createdAt: new Date().toISOString(),
      memberIds,
      directKey: direct ? directKey(callerId, others[0]!) : null,
    });
    if (created) await this.log.append({ type: 'conversation.updated', conversationId: id, userIds: memberIds });
    return { conversation: await this.view(id, callerId), created };
  }

  async list(callerId: string, limit: number = LIMITS.defaultChatsLimit, cursor: string | null = null) {
    // A reconnecting client plans its catch-up from this list (each chat's lastSeq): it must not
    // be older than the events the client may have missed, or a chat would look caught up.
    if (cursor === null && this.storeCatchUp) await this.storeCatchUp(null);
    return this.store.conversations(callerId, limit, cursor);
  }

  async get(conversationId: string, callerId: string): Promise<Conversation> {
    return this.view(conversationId, callerId);
  }

  async addMembers(conversationId: string, callerId: string, userIds: string[]): Promise<Conversation> {
    await this.requireMember(conversationId, callerId);
    await this.requireGroup(conversationId);
    const wanted = [...new Set(userIds)];
    await this.requireUsers(wanted);
    const current = await this.store.memberIds(conversationId);
    const fresh = wanted.filter((id) => !current.includes(id));
    if (current.length + fresh.length > this.maxGroupMembers)
      throw invalid(`a group has at most ${this.maxGroupMembers} members`);
    const added = await this.store.addMembers(conversationId, fresh);
    if (added.length > 0) {
      await this.log.append({ type: 'conversation.updated', conversationId, userIds: [...current, ...added] });
    }
    return this.view(conversationId, callerId);
  }

  async leave(conversationId: string, callerId: string): Promise<void> {
    await this.requireMember(conversationId, callerId);
    await this.requireGroup(conversationId);
    await this.store.removeMember(conversationId, callerId);
    const remaining = await this.store.memberIds(conversationId);
    await this.log.append({ type: 'conversation.updated', conversationId, userIds: remaining });
  }

  async setMuted(conversationId: string, callerId: string, muted: boolean): Promise<Conversation> {
    await this.requireMember(conversationId, callerId);
    await this.store.setMuted(conversationId, callerId, muted);
    return this.view(conversationId, callerId);
  }

  private async view(conversationId: string, callerId: string): Promise<Conversation> {
    const conversation = await this.store.conversation(conversationId, callerId);
    if (!conversation) throw notFound();
    return conversation;
  }

  private async requireGroup(conversationId: string): Promise<void> {
    if ((await this.store.conversationKind(conversationId)) !== 'group')
      throw invalid('only a group has members to add or leave');
  }

  private async requireUsers(ids: string[]): Promise<void> {
    const found = await this.users.usersByIds(ids);
    if (found.length !== ids.length) {
      const known = new Set(found.map((u) => u.id));
      throw invalid(`unknown user id: ${ids.find((id) => !known.has(id))}`);
    }
  }
}

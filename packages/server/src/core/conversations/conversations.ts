// Direct chats and groups: create, list (GetChats), read one, add members, leave, mute; message
// requests (accept, decline) and group administration (settings, roles, removing members).
import type { Conversation, User } from '@messenger/protocol';
import { LIMITS } from '@messenger/protocol';
import { AppError, invalid, notFound } from '../../domain/errors.js';
import { directKey, newId } from '../../domain/ids.js';
import { checkAdmin, checkCanAdd, successor } from '../../domain/safety.js';
import { type Attachments, avatarUploadIdOf } from '../media/attachments.js';
import type { EventLog } from '../messages/event-log.js';
import type { RateLimiter } from '../rate-limit.js';
import type { Reach } from '../safety/reach.js';
import type { UserStore } from '../users/user-store.js';
import type { ConversationStore, Membership, NewConversation } from './conversation-store.js';
import type { MemberStanding } from './member-standing.js';
import { newConversationView } from './new-view.js';

/**
 * A new chat of at most this many members travels in its log record, so that the fan-out sends
 * each member their view without reading it back; a bigger group's record stays small and its views are read.
 */
const CREATED_IN_RECORD = 64;

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
  private readonly standing: MemberStanding;
  private readonly reach: Reach;
  private readonly users: Pick<UserStore, 'usersByIds'>;
  private readonly log: EventLog;
  private readonly maxGroupMembers: number;
  private readonly creations: RateLimiter | undefined;

  /** Resolves once the store holds everything the log has (when it may trail it: a cluster). */
  private readonly storeCatchUp: ((conversationId: null) => Promise<unknown>) | undefined;
  private readonly avatars: Pick<Attachments, 'claimAvatar' | 'deleteUpload'> | undefined;

  constructor(deps: {
    conversationStore: Chats;
    memberStanding: MemberStanding;
    reach: Reach;
    userStore: Pick<UserStore, 'usersByIds'>;
    log: EventLog;
    maxGroupMembers: number;
    /** Conversations created per user (RATE_LIMIT_CONVERSATIONS per hour). */
    creations?: RateLimiter;
    storeCatchUp?: (conversationId: null) => Promise<unknown>;
    /** Group avatars; without it, setting one is refused. */
    avatars?: Pick<Attachments, 'claimAvatar' | 'deleteUpload'>;
  }) {
    this.avatars = deps.avatars;
    this.storeCatchUp = deps.storeCatchUp;
    this.store = deps.conversationStore;
    this.standing = deps.memberStanding;
    this.reach = deps.reach;
    this.users = deps.userStore;
    this.log = deps.log;
    this.maxGroupMembers = deps.maxGroupMembers;
    this.creations = deps.creations;
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
    // The three reads are independent: sent together (a round trip instead of three), then judged
    // in this order, so the answer is the one the checks one after another would give.
    // The caller's own user row comes with the others': the reply's member list needs it.
    const [users, reach, pending] = await Promise.allSettled([
      this.requireUsers(others, callerId),
      this.reach.checkCanReach(callerId, others),
      this.reach.pendingFor(callerId, others),
    ]);
    if (users.status === 'rejected') throw users.reason;
    const direct = others.length === 1 && input.title === undefined;
    if (!direct && others.length + 1 > this.maxGroupMembers)
      throw invalid(`a group has at most ${this.maxGroupMembers} members`);
    if (reach.status === 'rejected') throw reach.reason;
    if (pending.status === 'rejected') throw pending.reason;
    const wait = this.creations?.take(callerId) ?? 0;
    if (wait > 0) throw new AppError('rate_limited', 'creating conversations too fast', wait);
    const memberIds = [callerId, ...others];
    const conv: NewConversation = {
      id: newId('c'),
      kind: direct ? 'direct' : 'group',
      title: direct ? null : (input.title ?? null),
      createdAt: new Date().toISOString(),
      memberIds,
      directKey: direct ? directKey(callerId, others[0]!) : null,
      admins: direct ? [] : [callerId],
      pending: pending.value,
    };
    const { id, created } = await this.store.createConversation(conv);
    // An existing direct chat is read as it is now; a new one is what was just inserted.
    if (!created) return { conversation: await this.view(id, callerId), created };
    const conversation = newConversationView(conv, users.value, callerId);
    await this.log.append({
      type: 'conversation.updated',
      conversationId: id,
      userIds: memberIds,
      ...(memberIds.length <= CREATED_IN_RECORD ? { created: { conversation, pending: conv.pending ?? [] } } : {}),
    });
    return { conversation, created };
  }

  /** The chat list, or with `requests` the caller's message requests. */
  async list(
    callerId: string,
    limit: number = LIMITS.defaultChatsLimit,
    cursor: string | null = null,
    requests = false,
  ) {
    // A reconnecting client plans its catch-up from this list (each chat's lastSeq): it must not
    // be older than the events the client may have missed, or a chat would look caught up.
    if (cursor === null && this.storeCatchUp) await this.storeCatchUp(null);
    return this.store.conversations(callerId, limit, cursor, requests);
  }

  async get(conversationId: string, callerId: string): Promise<Conversation> {
    return this.view(conversationId, callerId);
  }

  async addMembers(conversationId: string, callerId: string, userIds: string[]): Promise<Conversation> {
    const me = await this.requireMember(conversationId, callerId);
    await this.requireGroup(conversationId);
    checkCanAdd(me, (await this.view(conversationId, callerId)).membersCanAdd);
    const wanted = [...new Set(userIds)];
    await this.requireUsers(wanted);
    const current = await this.store.memberIds(conversationId);
    const fresh = wanted.filter((id) => !current.includes(id));
    if (current.length + fresh.length > this.maxGroupMembers)
      throw invalid(`a group has at most ${this.maxGroupMembers} members`);
    await this.reach.checkCanReach(callerId, fresh);
    const added = await this.store.addMembers(conversationId, fresh, await this.reach.pendingFor(callerId, fresh));
    if (added.length > 0) {
      await this.log.append({ type: 'conversation.updated', conversationId, userIds: [...current, ...added] });
    }
    return this.view(conversationId, callerId);
  }

  async leave(conversationId: string, callerId: string): Promise<void> {
    await this.requireMember(conversationId, callerId);
    await this.requireGroup(conversationId);
    await this.store.removeMember(conversationId, callerId);
    await this.afterDeparture(conversationId, []);
  }

  /** Accepting a request: the caller's receipts, typing and presence reach the others from now on. */
  async accept(conversationId: string, callerId: string): Promise<Conversation> {
    const me = await this.requireMember(conversationId, callerId);
    if (me.request !== 'accepted') await this.markAccepted(conversationId, callerId);
    return this.view(conversationId, callerId);
  }

  /** The request is hidden from the caller; a group is left. */
  async decline(conversationId: string, callerId: string): Promise<void> {
    await this.requireMember(conversationId, callerId);
    if ((await this.store.conversationKind(conversationId)) === 'group') return this.leave(conversationId, callerId);
    await this.standing.setRequestState(conversationId, callerId, 'declined');
    await this.log.append({ type: 'conversation.updated', conversationId, userIds: [callerId] });
  }

  /** A member who sent a message, or accepted, has accepted the chat: the others now see their signals. */
  async markAccepted(conversationId: string, userId: string): Promise<void> {
    await this.standing.setRequestState(conversationId, userId, 'accepted');
    await this.log.append({
      type: 'conversation.updated',
      conversationId,
      userIds: await this.store.memberIds(conversationId),
    });
  }

  /** Admins only. `avatarUploadId`: an image the admin uploaded, or null; a replaced one is deleted. */
  async update(
    conversationId: string,
    callerId: string,
    changes: {
      title?: string | undefined;
      avatarUploadId?: string | null | undefined;
      membersCanAdd?: boolean | undefined;
    },
  ): Promise<Conversation> {
    const me = await this.requireMember(conversationId, callerId);
    await this.requireGroup(conversationId);
    checkAdmin(me, 'change the group');
    let replaced: string | null = null;
    if (changes.avatarUploadId !== undefined) {
      if (!this.avatars) throw invalid('this server does not take avatars');
      if (changes.avatarUploadId) await this.avatars.claimAvatar(callerId, changes.avatarUploadId, { conversationId });
      replaced = avatarUploadIdOf((await this.view(conversationId, callerId)).avatarUrl);
      if (replaced === changes.avatarUploadId) replaced = null;
    }
    await this.standing.updateGroup(conversationId, {
      ...(changes.title !== undefined ? { title: changes.title } : {}),
      ...(changes.membersCanAdd !== undefined ? { membersCanAdd: changes.membersCanAdd } : {}),
      ...(changes.avatarUploadId !== undefined ? { avatarUploadId: changes.avatarUploadId } : {}),
    });
    if (replaced) await this.avatars?.deleteUpload(replaced);
    await this.announce(conversationId);
    return this.view(conversationId, callerId);
  }

  async setRole(
    conversationId: string,
    callerId: string,
    userId: string,
    role: 'admin' | 'member',
  ): Promise<Conversation> {
    const me = await this.requireMember(conversationId, callerId);
    await this.requireGroup(conversationId);
    checkAdmin(me, 'change roles');
    if (!(await this.store.membership(conversationId, userId))) throw notFound('member');
    await this.standing.setRole(conversationId, userId, role);
    // Demoting the last admin (oneself) hands the group to the longest-standing member.
    await this.afterDeparture(conversationId, []);
    return this.view(conversationId, callerId);
  }

  /** Admins only; removing oneself is leaving. The removed member is told once, then hears nothing more. */
  async removeMember(conversationId: string, callerId: string, userId: string): Promise<void> {
    if (userId === callerId) return this.leave(conversationId, callerId);
    const me = await this.requireMember(conversationId, callerId);
    await this.requireGroup(conversationId);
    checkAdmin(me, 'remove members');
    if (!(await this.store.membership(conversationId, userId))) throw notFound('member');
    await this.store.removeMember(conversationId, userId);
    await this.afterDeparture(conversationId, [userId]);
  }

  async setMuted(conversationId: string, callerId: string, muted: boolean): Promise<Conversation> {
    await this.requireMember(conversationId, callerId);
    await this.store.setMuted(conversationId, callerId, muted);
    return this.view(conversationId, callerId);
  }

  /** After a member left or lost a role: an admin remains (the longest-standing member if need be), and everyone is told. */
  private async afterDeparture(conversationId: string, removed: string[]): Promise<void> {
    const remaining = await this.store.memberIds(conversationId);
    const viewer = remaining[0];
    if (viewer) {
      const heir = successor((await this.view(conversationId, viewer)).members);
      if (heir) await this.standing.setRole(conversationId, heir, 'admin');
    }
    await this.log.append({
      type: 'conversation.updated',
      conversationId,
      userIds: remaining,
      ...(removed.length > 0 ? { removedUserIds: removed } : {}),
    });
  }

  private async announce(conversationId: string): Promise<void> {
    await this.log.append({
      type: 'conversation.updated',
      conversationId,
      userIds: await this.store.memberIds(conversationId),
    });
  }

  private async view(conversationId: string, callerId: string): Promise<Conversation> {
    const conversation = await this.store.conversation(conversationId, callerId);
    if (!conversation) throw notFound();
    return conversation;
  }

  private async requireGroup(conversationId: string): Promise<void> {
    if ((await this.store.conversationKind(conversationId)) !== 'group')
      throw invalid('only a group has members, roles and settings to change');
  }

  /** The users of `ids` (and of `also`, read in the same call, not required), or 400 naming an unknown one. */
  private async requireUsers(ids: string[], also?: string): Promise<User[]> {
    const found = await this.users.usersByIds(also === undefined ? ids : [...ids, also]);
    const known = new Set(found.map((u) => u.id));
    const unknown = ids.find((id) => !known.has(id));
    if (unknown !== undefined) throw invalid(`unknown user id: ${unknown}`);
    return found;
  }
}

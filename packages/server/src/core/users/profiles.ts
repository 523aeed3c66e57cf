// One's own account as a whole: editing the profile (everyone who shares a conversation hears of
// it), deleting the account for good, and exporting one's data.
//
// Deleting runs in steps that can each run again: messages, groups, files, push subscriptions, and last,
// in one transaction, the credentials and the name. A failure before that last step leaves the
// account signed in, and the client's retry finishes the job; after it nothing is left to retry.
import {
  ACCOUNT_LIMITS,
  type AccountExport,
  type Conversation,
  DELETED_DISPLAY_NAME,
  LIMITS,
  type Message,
  type User,
} from '@messenger/protocol';
import { AppError, forbidden, invalid, notFound } from '../../domain/errors.js';
import type { ConversationStore } from '../conversations/conversation-store.js';
import type { Conversations } from '../conversations/conversations.js';
import type { Attachments } from '../media/attachments.js';
import type { EventLog } from '../messages/event-log.js';
import type { PushSubscriptions } from '../notifications/subscriptions.js';
import type { Deliverer } from '../routing/delivery.js';
import type { AccountStore } from './account-store.js';
import type { Accounts } from './accounts.js';
import type { AttemptLimiter } from './attempt-limiter.js';
import type { Authenticator, Identity } from './authenticator.js';
import type { CredentialStore } from './credential-store.js';
import { verifyPassword } from './passwords.js';
import type { Revocations } from './revocations.js';
import type { UserStore } from './user-store.js';

export interface ProfilesDeps {
  accountStore: AccountStore;
  userStore: Pick<UserStore, 'usersByIds'>;
  credentials: Pick<CredentialStore, 'passwordHash'>;
  accounts: Pick<Accounts, 'sessions' | 'apiKeys'>;
  authenticator: Pick<Authenticator, 'forget'>;
  attempts: AttemptLimiter;
  revocations: Revocations;
  conversationStore: Pick<ConversationStore, 'conversations'>;
  conversations: Pick<Conversations, 'leave'>;
  pushSubscriptions: Pick<PushSubscriptions, 'forUsers' | 'remove'>;
  log: Pick<EventLog, 'append'>;
  deliverer: Pick<Deliverer, 'deliver'>;
  /** The user's uploaded files: avatars, and all of them deleted with the account. */
  files?: Pick<Attachments, 'deleteOfOwner' | 'claimAvatar' | 'deleteUpload' | 'signAnswer'>;
  /** Cluster: waits until the store holds what the log held (the messages just sent), or 503. */
  storeCatchUp?: (conversationId: null) => Promise<unknown>;
  now?: () => number;
}

/** Messages read, then deleted, per round: bounded memory and bounded log appends in flight. */
const MESSAGES_PAGE = 200;
const APPENDS_IN_FLIGHT = 32;

export class Profiles {
  private readonly d: ProfilesDeps;
  private readonly now: () => number;

  constructor(deps: ProfilesDeps) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
  }

  /** `avatarUploadId`: an image the caller uploaded, or null for none; a replaced one is deleted. */
  async update(
    caller: Identity,
    changes: { displayName?: string | undefined; avatarUploadId?: string | null | undefined },
  ): Promise<User> {
    const userId = caller.user.id;
    let avatarChanged = false;
    if (changes.avatarUploadId !== undefined) {
      const files = this.d.files;
      if (!files) throw invalid('this server does not take avatars');
      if (changes.avatarUploadId) await files.claimAvatar(userId, changes.avatarUploadId, { userId });
      const { previous } = await this.d.accountStore.setAvatar(userId, changes.avatarUploadId);
      avatarChanged = previous !== changes.avatarUploadId;
      if (previous && avatarChanged) await files.deleteUpload(previous);
    }
    const user =
      changes.displayName !== undefined
        ? await this.d.accountStore.setDisplayName(userId, changes.displayName)
        : (await this.d.userStore.usersByIds([userId]))[0];
    if (!user) throw notFound('user');
    // This gateway answers with the new name at once; the others within their cache's age.
    this.d.authenticator.forget([caller.credentialId]);
    if (avatarChanged || (changes.displayName !== undefined && changes.displayName !== caller.user.displayName)) {
      const { peers } = await this.reach(userId);
      await this.tell([...peers, userId], user);
    }
    return user;
  }

  /**
   * A wrong password is 403 and counts as a failed sign-in of the username; an account without a
   * password (made with a key) needs none. Idempotent: see the header.
   */
  async delete(caller: Identity, input: { password?: string | undefined; deleteMessages?: boolean | undefined }) {
    const userId = caller.user.id;
    await this.checkPassword(caller, input.password);
    if (input.deleteMessages) await this.deleteMessages(userId);
    const { peers, groups } = await this.reach(userId);
    // A direct chat keeps its deleted member, shown as "Deleted account", so the other person
    // keeps the conversation and its history; a group is left as any member leaves it.
    for (const conversationId of groups) await this.d.conversations.leave(conversationId, userId);
    await this.d.files?.deleteOfOwner(userId);
    if (this.d.files) await this.d.accountStore.setAvatar(userId, null);
    for (const s of await this.d.pushSubscriptions.forUsers([userId])) {
      if (s.userId === userId) await this.d.pushSubscriptions.remove(userId, s.endpoint);
    }
    const ended = await this.d.accountStore.closeAccount(userId, {
      username: `deleted:${userId}`,
      displayName: DELETED_DISPLAY_NAME,
    });
    this.d.authenticator.forget([...ended, caller.credentialId]);
    await this.d.revocations.publish([...new Set([...ended, caller.credentialId])]).catch(() => undefined);
    const [tombstone] = await this.d.userStore.usersByIds([userId]);
    if (tombstone) await this.tell(peers, tombstone).catch(() => undefined);
  }

  async export(caller: Identity): Promise<AccountExport> {
    const userId = caller.user.id;
    const [user] = await this.d.userStore.usersByIds([userId]);
    if (!user) throw notFound('user');
    await this.d.storeCatchUp?.(null);
    const messages: Message[] = [];
    for await (const page of this.sent(userId)) messages.push(...page);
    return {
      exportedAt: new Date(this.now()).toISOString(),
      user,
      sessions: await this.d.accounts.sessions(caller),
      apiKeys: await this.d.accounts.apiKeys(caller),
      conversations: await this.allConversations(userId),
      messages,
    };
  }

  private async checkPassword(caller: Identity, password: string | undefined): Promise<void> {
    const hash = await this.d.credentials.passwordHash(caller.user.id);
    if (hash === null) return;
    if (password === undefined) throw forbidden('password is required to delete this account');
    const userKey = `user:${caller.user.username}`;
    const wait = await this.d.attempts.take(userKey, ACCOUNT_LIMITS.usernameFailures, ACCOUNT_LIMITS.usernameWindowMs);
    if (wait > 0)
      throw new AppError('rate_limited', 'too many wrong passwords; wait and retry', Math.ceil(wait / 1000));
    if (!(await verifyPassword(hash, password))) throw forbidden('password is wrong');
    await this.d.attempts.reset(userKey);
  }

  /**
   * Each message is deleted for everyone through the log, as any delete: the store, the search
   * index and the chat list's previews drop its text, and the members' clients hear of it.
   */
  private async deleteMessages(userId: string): Promise<void> {
    await this.d.storeCatchUp?.(null);
    const at = new Date(this.now()).toISOString();
    for await (const page of this.sent(userId)) {
      for (let i = 0; i < page.length; i += APPENDS_IN_FLIGHT) {
        await Promise.all(
          page.slice(i, i + APPENDS_IN_FLIGHT).map((m) =>
            this.d.log.append({
              type: 'message.deleted',
              conversationId: m.conversationId,
              messageId: m.id,
              for: 'everyone',
              userId,
              at,
            }),
          ),
        );
      }
    }
  }

  private async *sent(userId: string): AsyncGenerator<Message[]> {
    let after: string | null = null;
    for (;;) {
      const page = await this.d.accountStore.sentMessages(userId, after, MESSAGES_PAGE);
      if (page.length > 0) yield page;
      if (page.length < MESSAGES_PAGE) return;
      after = page[page.length - 1]!.clientMsgId;
    }
  }

  /** Who shares a conversation with the user (not the user), and the groups the user is in. */
  private async reach(userId: string): Promise<{ peers: string[]; groups: string[] }> {
    const peers = new Set<string>();
    const groups: string[] = [];
    for (const c of await this.allConversations(userId)) {
      for (const m of c.members) if (m.userId !== userId) peers.add(m.userId);
      if (c.kind === 'group') groups.push(c.id);
    }
    return { peers: [...peers], groups };
  }

  /** Accepted chats and message requests alike. */
  private async allConversations(userId: string): Promise<Conversation[]> {
    const all: Conversation[] = [];
    for (const requests of [false, true]) {
      let cursor: string | null = null;
      do {
        const page = await this.d.conversationStore.conversations(userId, LIMITS.maxChatsLimit, cursor, requests);
        all.push(...page.conversations);
        cursor = page.nextCursor;
      } while (cursor !== null);
    }
    return all;
  }

  private async tell(userIds: string[], user: User): Promise<void> {
    const shown = this.d.files?.signAnswer({ user }).user ?? user;
    if (userIds.length > 0) await this.d.deliverer.deliver(userIds, { type: 'user.updated', user: shown });
  }
}

// Blocks, reports and what operators do about them: read reports, suspend and restore users.
// Operators are the users named in ADMIN_USERNAMES. A suspension ends every credential of the user
// at once (the credential stores refuse a suspended user's) and closes its sockets on every gateway
// through the same revocation broadcast that signing out uses.
import type { Report, User } from '@messenger/protocol';
import { forbidden, invalid, notFound } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { Conversations } from '../conversations/conversations.js';
import type { MessageStore } from '../messages/message-store.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { Authenticator } from '../users/authenticator.js';
import type { CredentialStore } from '../users/credential-store.js';
import type { Revocations } from '../users/revocations.js';
import type { UserStore } from '../users/user-store.js';
import type { BlockStore } from './block-store.js';
import type { ReportStore } from './report-store.js';
import type { SuspensionStore } from './suspension-store.js';

const REPORTS_PAGE = 200;

export interface ModerationDeps {
  blocks: BlockStore;
  reports: ReportStore;
  suspensions: SuspensionStore;
  users: Pick<UserStore, 'usersByIds' | 'userByUsername'>;
  messages: Pick<MessageStore, 'message'>;
  conversations: Pick<Conversations, 'requireMember'>;
  presence: Pick<PresenceService, 'blockChanged'>;
  credentials: Pick<CredentialStore, 'sessions' | 'apiKeys'>;
  authenticator: Pick<Authenticator, 'forget'>;
  revocations: Revocations;
  adminUsernames: readonly string[];
  now?: () => number;
}

export class Moderation {
  private readonly d: ModerationDeps;
  private readonly operators: Set<string>;
  private readonly now: () => number;

  constructor(deps: ModerationDeps) {
    this.d = deps;
    this.operators = new Set(deps.adminUsernames);
    this.now = deps.now ?? Date.now;
  }

  async block(callerId: string, userId: string): Promise<void> {
    if (userId === callerId) throw invalid('you cannot block yourself');
    await this.requireUser(userId);
    await this.d.blocks.block(callerId, userId, new Date(this.now()).toISOString());
    await this.d.presence.blockChanged(callerId, userId, true).catch(() => undefined);
  }

  async unblock(callerId: string, userId: string): Promise<void> {
    await this.d.blocks.unblock(callerId, userId);
    await this.d.presence.blockChanged(callerId, userId, false).catch(() => undefined);
  }

  async blocked(callerId: string): Promise<User[]> {
    return this.d.users.usersByIds(await this.d.blocks.blockedBy(callerId));
  }

  /** The caller must be a member; a reported message is copied as the caller sees it now. */
  async report(
    callerId: string,
    input: { conversationId: string; messageId?: string | undefined; userId?: string | undefined; reason: string },
  ): Promise<Report> {
    const membership = await this.d.conversations.requireMember(input.conversationId, callerId);
    let message = null;
    if (input.messageId) {
      message = await this.d.messages.message(input.conversationId, input.messageId);
      if (!message || message.seq <= membership.joinedSeq) throw notFound('message');
    }
    if (input.userId) await this.requireUser(input.userId);
    const report: Report = {
      id: newId('r'),
      reporterId: callerId,
      conversationId: input.conversationId,
      messageId: input.messageId ?? null,
      userId: input.userId ?? message?.senderId ?? null,
      reason: input.reason,
      message,
      createdAt: new Date(this.now()).toISOString(),
    };
    await this.d.reports.createReport(report);
    return report;
  }

  isOperator(user: User): boolean {
    return this.operators.has(user.username);
  }

  async reports(caller: User | null): Promise<Report[]> {
    this.requireOperator(caller);
    return this.d.reports.reports(REPORTS_PAGE);
  }

  /** `caller` null: the operator's shell (the CLI), trusted like ADMIN_USERNAMES. */
  async suspend(caller: User | null, userId: string, reason: string): Promise<void> {
    this.requireOperator(caller);
    await this.requireUser(userId);
    await this.d.suspensions.suspend(userId, reason, new Date(this.now()).toISOString());
    const [sessions, keys] = await Promise.all([
      this.d.credentials.sessions(userId, new Date(this.now()).toISOString()),
      this.d.credentials.apiKeys(userId),
    ]);
    const ids = [...sessions.map((s) => s.id), ...keys.map((k) => k.id)];
    this.d.authenticator.forget(ids);
    await this.d.revocations.publish(ids).catch(() => undefined);
  }

  async unsuspend(caller: User | null, userId: string): Promise<void> {
    this.requireOperator(caller);
    await this.requireUser(userId);
    await this.d.suspensions.unsuspend(userId);
  }

  async userByUsername(username: string): Promise<User> {
    const user = await this.d.users.userByUsername(username);
    if (!user) throw notFound('user');
    return user;
  }

  private requireOperator(caller: User | null): void {
    if (caller && !this.isOperator(caller)) throw forbidden('only an operator can do this');
  }

  private async requireUser(userId: string): Promise<void> {
    const [user] = await this.d.users.usersByIds([userId]);
    if (!user) throw notFound('user');
  }
}

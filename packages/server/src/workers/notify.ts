// Notifier worker: a durable log consumer that sends a Web Push for each new message to every
// member with no live device, unless they muted the chat. The first attempt of every push is made
// before the batch counts as handled, so a restart neither loses nor repeats finished work; retries
// (429, 5xx, network) wait in a small in-process queue so one slow push service cannot stall the
// log, and are lost if the process stops first (the push itself is best-effort anyway).
import { notifies } from '../domain/safety.js';
import { createHash } from 'node:crypto';
import { describeAttachments, type PushMessagePayload } from '@messenger/protocol';
import type { LogRecord } from '../core/log-entries.js';
import type { EventLog, Subscription } from '../core/messages/event-log.js';
import type { PushOptions, PushResult, PushSender } from '../core/notifications/push-sender.js';
import type { PushSubscriptionRecord, PushSubscriptions } from '../core/notifications/subscriptions.js';
import type { Routes } from '../core/routing/routes.js';
import type { ConversationStore } from '../core/conversations/conversation-store.js';
import type { MessageStore } from '../core/messages/message-store.js';
import type { UserStore } from '../core/users/user-store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { MemberCache } from './member-cache.js';

export interface NotifyPolicy {
  /** How long a push service keeps a notification; older messages are not pushed at all. */
  ttlSeconds: number;
  /** Attempts per notification, the first included. */
  maxAttempts: number;
  /** First retry delay, doubled per attempt (with jitter) unless the service sent Retry-After. */
  baseDelayMs: number;
  /** A Retry-After longer than this gives up rather than hold the notification. */
  maxDelayMs: number;
  /** Parallel first attempts while handling one log batch. */
  concurrency: number;
  /** Notifications waiting for a retry; past this, new failures are dropped. */
  maxQueued: number;
}

export const DEFAULT_NOTIFY_POLICY: NotifyPolicy = {
  ttlSeconds: 24 * 60 * 60,
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 10 * 60 * 1000,
  concurrency: 16,
  maxQueued: 10_000,
};

const PREVIEW_CHARS = 120;

interface Job {
  subscription: PushSubscriptionRecord;
  payload: string;
  opts: PushOptions;
  attempt: number;
}

type MessageCreated = Extract<LogRecord, { type: 'message.created' }>;

export class NotifierWorker {
  private readonly log: EventLog;
  private readonly users: Pick<UserStore, 'usersByIds'>;
  private readonly messages: Pick<MessageStore, 'message'>;
  private readonly store: Pick<ConversationStore, 'conversationKind' | 'membership' | 'memberIds'>;
  private readonly routes: Routes;
  private readonly subscriptions: PushSubscriptions;
  private readonly sender: PushSender;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly policy: NotifyPolicy;
  private readonly members: MemberCache;
  /** Where the store trails the log: resolves true once it holds everything logged before the call. */
  private readonly storeCaughtUp: (() => Promise<boolean>) | undefined;
  private subscription: Subscription | null = null;
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(deps: {
    log: EventLog;
    userStore: Pick<UserStore, 'usersByIds'>;
    messageStore: Pick<MessageStore, 'message'>;
    conversationStore: Pick<ConversationStore, 'conversationKind' | 'membership' | 'memberIds'>;
    routes: Routes;
    subscriptions: PushSubscriptions;
    sender: PushSender;
    metrics: Metrics;
    logger: Logger;
    policy?: Partial<NotifyPolicy>;
    storeCaughtUp?: () => Promise<boolean>;
  }) {
    this.storeCaughtUp = deps.storeCaughtUp;
    this.log = deps.log;
    this.users = deps.userStore;
    this.messages = deps.messageStore;
    this.store = deps.conversationStore;
    this.routes = deps.routes;
    this.subscriptions = deps.subscriptions;
    this.sender = deps.sender;
    this.metrics = deps.metrics;
    this.logger = deps.logger;
    this.policy = { ...DEFAULT_NOTIFY_POLICY, ...deps.policy };
    this.members = new MemberCache(deps.conversationStore);
  }

  async start(): Promise<void> {
    // A first start (or an upgrade) begins at the tail: pushing the history of old messages is noise.
    this.subscription = await this.log.subscribe('notifier', (records) => this.handle(records), { startAt: 'tail' });
  }

  /** Finishes the batch in hand (so its offset is saved), then drops queued retries. */
  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.stopped = true;
    for (const timer of this.retries) clearTimeout(timer);
    if (this.retries.size > 0) this.logger.warn({ dropped: this.retries.size }, 'push retries dropped at shutdown');
    this.retries.clear();
    await Promise.all([...this.inFlight]);
  }

  /**
   * A batch costs one route lookup and one subscription lookup, whatever its length; only messages
   * with someone to push to cost more.
   */
  async handle(records: LogRecord[]): Promise<void> {
    const fresh: { record: MessageCreated; recipients: string[] }[] = [];
    await this.members
      .prefetch(records.filter((r) => r.type === 'message.created').map((r) => r.conversationId))
      .catch(() => undefined);
    for (const record of records) {
      if (record.type === 'conversation.updated') this.members.forget(record.conversationId);
      if (record.type !== 'message.created') continue;
      if (Date.now() - Date.parse(record.message.createdAt) > this.policy.ttlSeconds * 1000) continue;
      try {
        const recipients = (await this.members.get(record.conversationId)).filter(
          (id) => id !== record.message.senderId,
        );
        if (recipients.length > 0) fresh.push({ record, recipients });
      } catch (error) {
        // Like fan-out: one record that cannot be planned must not hold every later notification.
        this.logger.error({ err: error, pos: record.pos }, 'planning push notifications failed');
      }
    }
    const jobs: Job[] = [];
    try {
      const everyone = [...new Set(fresh.flatMap((f) => f.recipients))];
      const online = everyone.length > 0 ? await this.routes.lookup(everyone) : new Map<string, string[]>();
      const offline = everyone.filter((id) => !online.has(id));
      const subs = offline.length > 0 ? await this.subscriptions.forUsers(offline) : [];
      const byUser = new Map<string, PushSubscriptionRecord[]>();
      for (const sub of subs) byUser.set(sub.userId, [...(byUser.get(sub.userId) ?? []), sub]);
      // A push carries the recipient's unread count and the message as it stands, read from the
      // store: where the store trails the log (a cluster's persister), it must hold these messages
      // first, or the count leaves this very message out. Only batches with someone to push wait.
      if (byUser.size > 0 && this.storeCaughtUp && !(await this.storeCaughtUp())) {
        this.logger.warn(
          { count: fresh.length },
          'the store has not caught up with the log; pushing with what it holds',
        );
      }
      for (const { record, recipients } of byUser.size > 0 ? fresh : []) {
        // A browser subscribed after the message was sent has nothing to be told about it.
        // (This also keeps a notifier's first start on an old database from pushing its history.)
        const mine = recipients
          .flatMap((id) => byUser.get(id) ?? [])
          .filter((sub) => sub.createdAt <= record.message.createdAt);
        if (mine.length === 0) continue;
        try {
          jobs.push(...(await this.plan(record, mine)));
        } catch (error) {
          this.logger.error({ err: error, pos: record.pos }, 'planning push notifications failed');
        }
      }
    } catch (error) {
      this.logger.error({ err: error, count: fresh.length }, 'planning push notifications failed');
    }
    let next = 0;
    const lane = async () => {
      while (next < jobs.length) await this.attempt(jobs[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.policy.concurrency, jobs.length) }, lane));
  }

  /** What the push for this message says, to each of `subs` (offline recipients' subscriptions). */
  private async plan(r: MessageCreated, subs: PushSubscriptionRecord[]): Promise<Job[]> {
    const created = r.message;
    const [sender] = await this.users.usersByIds([created.senderId]);
    const current = (await this.messages.message(r.conversationId, created.id)) ?? created;
    const kind = await this.store.conversationKind(r.conversationId);
    const opts: PushOptions = {
      ttlSeconds: this.policy.ttlSeconds,
      // A direct message is for one person, who likely wants it now; a busy group can wait for the next wake-up.
      urgency: kind === 'group' ? 'normal' : 'high',
      topic: topicOf(r.conversationId),
    };
    const jobs: Job[] = [];
    const byUser = new Map<string, PushSubscriptionRecord[]>();
    for (const s of subs) byUser.set(s.userId, [...(byUser.get(s.userId) ?? []), s]);
    for (const [userId, userSubs] of byUser) {
      const membership = await this.store.membership(r.conversationId, userId);
      if (!membership || !notifies(membership) || membership.joinedSeq >= created.seq) continue;
      const payload: PushMessagePayload = {
        type: 'message',
        conversationId: r.conversationId,
        messageId: created.id,
        senderName: sender?.displayName ?? 'Someone',
        ...(current.deletedAt === null
          ? { preview: preview(current.body.trim() || describeAttachments(current.attachments ?? [])) }
          : {}),
        unreadTotal: await this.subscriptions.unreadTotal(userId),
      };
      const body = JSON.stringify(payload);
      for (const subscription of userSubs) jobs.push({ subscription, payload: body, opts, attempt: 1 });
    }
    return jobs;
  }

  private attempt(job: Job): Promise<void> {
    const run = (async () => {
      let result: PushResult;
      try {
        result = await this.sender.send(job.subscription, job.payload, job.opts);
      } catch (error) {
        this.logger.error({ err: error }, 'push sender threw');
        result = { outcome: 'rejected', status: null };
      }
      await this.settle(job, result);
    })();
    this.inFlight.add(run);
    return run.finally(() => this.inFlight.delete(run));
  }

  private async settle(job: Job, result: PushResult): Promise<void> {
    const endpoint = job.subscription.endpoint;
    switch (result.outcome) {
      case 'sent':
        this.count('sent');
        return;
      case 'gone':
        await this.subscriptions
          .removeEndpoint(endpoint)
          .catch((error: unknown) => this.logger.error({ err: error }, 'removing a dead push subscription failed'));
        this.count('gone');
        return;
      case 'rejected':
        this.logger.warn({ status: result.status, origin: originOf(endpoint) }, 'push service rejected a notification');
        this.count('rejected');
        return;
      case 'retry': {
        const backoff = this.policy.baseDelayMs * 2 ** (job.attempt - 1) * (0.8 + Math.random() * 0.4);
        const delay = Math.max(result.retryAfterMs ?? 0, Math.min(backoff, this.policy.maxDelayMs));
        if (this.stopped || job.attempt >= this.policy.maxAttempts || delay > this.policy.maxDelayMs) {
          this.logger.warn(
            { status: result.status, attempts: job.attempt, origin: originOf(endpoint) },
            'push notification given up',
          );
          this.count('failed');
          return;
        }
        if (this.retries.size >= this.policy.maxQueued) {
          this.count('dropped');
          return;
        }
        const timer = setTimeout(() => {
          this.retries.delete(timer);
          void this.attempt({ ...job, attempt: job.attempt + 1 });
        }, delay);
        timer.unref();
        this.retries.add(timer);
        return;
      }
    }
  }

  private count(outcome: 'sent' | 'gone' | 'rejected' | 'failed' | 'dropped'): void {
    this.metrics.pushNotifications.inc({ outcome });
  }
}

/** Same chat, same topic: the push service keeps only the newest undelivered one. */
export function topicOf(conversationId: string): string {
  return createHash('sha256').update(conversationId).digest('base64url').slice(0, 22);
}

function preview(body: string): string {
  const chars = [...body];
  return chars.length <= PREVIEW_CHARS ? body : `${chars.slice(0, PREVIEW_CHARS - 1).join('')}…`;
}

function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return 'invalid';
  }
}

// Fan-out worker: turns log records into socket events for every concerned device, one delivery
// per gateway per batch. Records are planned in log order and each gateway receives a batch's events
// in one message, in that order, so a conversation's events keep log order.
import type { Conversation, ServerEvent } from '@messenger/protocol';
import type { LogRecord } from '../core/log-entries.js';
import { AppError } from '../domain/errors.js';
import type { EventLog, Subscription } from '../core/messages/event-log.js';
import type { Deliverer, Outgoing } from '../core/routing/delivery.js';
import type { ConversationStore } from '../core/conversations/conversation-store.js';
import type { Logger } from '../observability/logger.js';
import { MemberCache } from './member-cache.js';
import type { Metrics } from '../observability/metrics.js';
import { withRecordSpans } from '../observability/tracing.js';

const MEMBER_CACHE_SIZE = 50_000;
const DELETED_CACHE_SIZE = 50_000;
/** Member-view reads of one batch in flight at once: a burst of new chats uses a few pool connections, not all. */
const VIEW_READS = 8;

export class FanoutWorker {
  private readonly log: EventLog;
  private readonly store: Pick<ConversationStore, 'conversationViews' | 'memberIds'>;
  private readonly deliverer: Deliverer;
  private readonly logger: Logger;
  private readonly from: 'now' | 'durable';
  private subscription: Subscription | null = null;
  private readonly members: MemberCache;
  /**
   * Messages recently deleted for everyone. An edit or reaction checked against a store that had not
   * applied the delete yet (a cluster's persister trails the log) is logged after it; fanning it out
   * would bring the text back on clients. The store ignores it; so does this.
   */
  private readonly deleted = new Set<string>();
  /** Records of a batch already handled; a batch retried after `unavailable` resumes after them. */
  private readonly fannedOut = new WeakSet<LogRecord>();

  private readonly metrics: Metrics;
  /** Adds what an event serves per read (signed attachment URLs): once per event, not per member. */
  private readonly present: <T>(event: T) => T;

  constructor(deps: {
    log: EventLog;
    conversationStore: Pick<ConversationStore, 'conversationViews' | 'memberIds'>;
    deliverer: Deliverer;
    logger: Logger;
    metrics: Metrics;
    from?: 'now' | 'durable';
    present?: <T>(event: T) => T;
  }) {
    this.present = deps.present ?? ((event) => event);
    this.from = deps.from ?? 'now';
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.store = deps.conversationStore;
    this.deliverer = deps.deliverer;
    this.members = new MemberCache(deps.conversationStore, MEMBER_CACHE_SIZE);
    this.logger = deps.logger;
  }

  async start(): Promise<void> {
    this.subscription = await this.log.subscribe('fanout', (records) => this.handle(records), { from: this.from });
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  /**
   * A batch costs one route lookup and one bus message per gateway. Records are planned in log order
   * (a membership change drops the cached members before anything after it is planned).
   */
  async handle(records: LogRecord[]): Promise<void> {
    const pending = records.filter((r) => !this.fannedOut.has(r));
    if (pending.length === 0) return;
    await withRecordSpans('fanout', pending, () => this.fanOut(pending));
  }

  private async fanOut(pending: LogRecord[]): Promise<void> {
    const planned: Outgoing[][] = [];
    const views = this.readViews(pending);
    // A new chat's members are in its record (plan() remembers them): nothing to read for it.
    const fresh = new Set(
      pending.flatMap((r) => (r.type === 'conversation.updated' && r.created ? [r.conversationId] : [])),
    );
    try {
      await this.members.prefetch(pending.map((r) => r.conversationId).filter((id) => !fresh.has(id)));
    } catch {
      // Each record asks again below, and fails or not on its own.
    }
    for (const record of pending) {
      this.metrics.fanoutRecords.inc({ type: record.type });
      try {
        planned.push(await this.plan(record, views.get(record)));
      } catch (error) {
        this.failed(error, record);
        planned.push([]);
      }
    }
    try {
      const counts = await this.deliverer.deliverMany(planned.flat());
      this.metrics.fanoutDeliveries.inc(counts.reduce((a, b) => a + b, 0));
    } catch (error) {
      this.failed(error, pending[0]!);
    }
    for (const record of pending) this.fannedOut.add(record);
  }

  /**
   * A backing service is down (routes in Redis, members in PostgreSQL): a durable reader retries the
   * batch once it is back, in order, instead of the events silently never reaching the devices that
   * are connected (they could not tell: seq gaps are legal). Anything else is logged and skipped.
   */
  private failed(error: unknown, record: LogRecord): void {
    if (this.from === 'durable' && error instanceof AppError && error.code === 'unavailable') {
      this.logger.warn(
        { err: error, pos: record.pos, type: record.type },
        'fan-out paused: a backing service is unavailable; retrying',
      );
      throw error;
    }
    this.logger.error({ err: error, pos: record.pos, type: record.type }, 'fan-out failed');
  }

  /**
   * The member views of a batch's conversation.updated records, read together (VIEW_READS at a
   * time) rather than one record after another: a burst of new chats is a batch of such records,
   * and reading them in turn made each chat's members wait for every earlier chat's read. Reading
   * ahead is safe: a view is the store's current state whenever it is read, as it was before.
   */
  private readViews(records: LogRecord[]): Map<LogRecord, Promise<Map<string, Conversation>>> {
    const updates = records.filter(
      (r): r is Extract<LogRecord, { type: 'conversation.updated' }> => r.type === 'conversation.updated' && !r.created,
    );
    const out = new Map<LogRecord, Promise<Map<string, Conversation>>>();
    if (updates.length < 2) return out;
    const waiting: (() => void)[] = [];
    let free = VIEW_READS;
    const acquire = async (): Promise<void> => {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
    };
    const release = () => {
      const next = waiting.shift();
      if (next) next();
      else free++;
    };
    for (const r of updates) {
      const read = acquire().then(() => this.store.conversationViews(r.conversationId, r.userIds).finally(release));
      // Awaited in plan(); a batch abandoned before then must not leave an unhandled rejection.
      read.catch(() => undefined);
      out.set(r, read);
    }
    return out;
  }

  /** The events a record becomes, and for whom. */
  private async plan(r: LogRecord, prefetched?: Promise<Map<string, Conversation>>): Promise<Outgoing[]> {
    if (r.type === 'conversation.updated' && r.created) {
      // A new chat: its members and their views are what the gateway inserted, carried in the record.
      // A change since then is a later record of the same conversation, fanned out after this one.
      this.members.remember(r.conversationId, r.userIds);
      const { conversation, pending } = r.created;
      return r.userIds.map((userId) => ({
        userIds: [userId],
        event: this.present({
          type: 'conversation.updated',
          conversation: { ...conversation, request: pending.includes(userId) },
        }),
      }));
    }
    if (r.type === 'conversation.updated') {
      this.members.forget(r.conversationId);
      // Each member sees their own view (unread count, mute), so this one is built per member: in
      // a few statements where the store can (a big group's change is many views at once).
      const out: Outgoing[] = [];
      const views = await (prefetched ?? this.store.conversationViews(r.conversationId, r.userIds));
      for (const userId of r.userIds) {
        const conversation = views.get(userId);
        if (conversation)
          out.push({ userIds: [userId], event: this.present({ type: 'conversation.updated', conversation }) });
      }
      // A removed member is no longer in the store's views: it gets the group as the others now see it.
      const after = views.values().next().value;
      if (r.removedUserIds && after) {
        const conversation = { ...after, lastMessage: null, unreadCount: 0, muted: false, request: false };
        out.push({ userIds: r.removedUserIds, event: { type: 'conversation.updated', conversation } });
      }
      return out;
    }
    if (r.type === 'message.deleted' && r.for === 'everyone') {
      if (this.deleted.size >= DELETED_CACHE_SIZE) this.deleted.delete(this.deleted.values().next().value!);
      this.deleted.add(r.messageId);
    }
    if ((r.type === 'message.updated' || r.type === 'reaction.updated') && this.deleted.has(r.messageId)) return [];
    if ((r.type === 'receipt.read' || r.type === 'receipt.delivered') && r.ownOnly) {
      return [{ userIds: [r.userId], event: toEvent(r) }];
    }
    if (r.type === 'message.created' || r.type === 'message.updated')
      return [{ userIds: await this.members.get(r.conversationId), event: this.present(toEvent(r)) }];
    if (r.type === 'message.deleted' && r.for === 'me') {
      return [
        {
          userIds: [r.userId],
          event: { type: 'message.deleted', conversationId: r.conversationId, messageId: r.messageId, for: 'me' },
        },
      ];
    }
    return [{ userIds: await this.members.get(r.conversationId), event: toEvent(r) }];
  }
}

function toEvent(r: Exclude<LogRecord, { type: 'conversation.updated' }>): ServerEvent {
  switch (r.type) {
    case 'message.created':
      return { type: 'message.created', conversationId: r.conversationId, message: r.message };
    case 'message.updated':
      return { type: 'message.updated', conversationId: r.conversationId, message: r.message };
    case 'message.deleted':
      return { type: 'message.deleted', conversationId: r.conversationId, messageId: r.messageId, for: r.for };
    case 'reaction.updated':
      return {
        type: 'reaction.updated',
        conversationId: r.conversationId,
        messageId: r.messageId,
        userId: r.userId,
        emoji: r.emoji,
      };
    case 'receipt.read':
      return { type: 'receipt.read', conversationId: r.conversationId, userId: r.userId, seq: r.seq };
    case 'receipt.delivered':
      return { type: 'receipt.delivered', conversationId: r.conversationId, userId: r.userId, seq: r.seq };
  }
}

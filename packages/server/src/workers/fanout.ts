// Fan-out worker: turns log records into socket events for every concerned device, one delivery
// per gateway. Records are handled one after another, so a conversation's events keep log order.
import type { ServerEvent } from '@messenger/protocol';
import type { LogRecord } from '../core/log-entries.js';
import { AppError } from '../domain/errors.js';
import type { EventLog, Subscription } from '../core/messages/event-log.js';
import type { Deliverer } from '../core/routing/delivery.js';
import type { Store } from '../core/store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

const MEMBER_CACHE_SIZE = 50_000;
const DELETED_CACHE_SIZE = 50_000;

export class FanoutWorker {
  private readonly log: EventLog;
  private readonly store: Store;
  private readonly deliverer: Deliverer;
  private readonly logger: Logger;
  private readonly from: 'now' | 'durable';
  private subscription: Subscription | null = null;
  private readonly memberCache = new Map<string, string[]>();
  /**
   * Messages recently deleted for everyone. An edit or reaction checked against a store that had not
   * applied the delete yet (a cluster's persister trails the log) is logged after it; fanning it out
   * would bring the text back on clients. The store ignores it; so does this.
   */
  private readonly deleted = new Set<string>();
  /** Records of a batch already handled; a batch retried after `unavailable` resumes after them. */
  private readonly fannedOut = new WeakSet<LogRecord>();

  private readonly metrics: Metrics;

  constructor(deps: { log: EventLog; store: Store; deliverer: Deliverer; logger: Logger; metrics: Metrics; from?: 'now' | 'durable' }) {
    this.from = deps.from ?? 'now';
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.store = deps.store;
    this.deliverer = deps.deliverer;
    this.logger = deps.logger;
  }

  async start(): Promise<void> {
    this.subscription = await this.log.subscribe('fanout', (records) => this.handle(records), { from: this.from });
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  async handle(records: LogRecord[]): Promise<void> {
    for (const record of records) {
      if (this.fannedOut.has(record)) continue;
      try {
        await this.fanOne(record);
      } catch (error) {
        // A backing service is down (routes in Redis, members in PostgreSQL): a durable reader retries
        // the batch from this record once it is back, in order, instead of the event silently never
        // reaching the devices that are connected (they could not tell: seq gaps are legal).
        if (this.from === 'durable' && error instanceof AppError && error.code === 'unavailable') {
          this.logger.warn({ err: error, pos: record.pos, type: record.type }, 'fan-out paused: a backing service is unavailable; retrying');
          throw error;
        }
        this.logger.error({ err: error, pos: record.pos, type: record.type }, 'fan-out of a record failed');
      }
      this.fannedOut.add(record);
    }
  }

  private async fanOne(r: LogRecord): Promise<void> {
    this.metrics.fanoutRecords.inc({ type: r.type });
    const gateways = await this.route(r);
    this.metrics.fanoutDeliveries.inc(gateways);
  }

  /** Publishes the record's event(s); returns how many gateway deliveries that took. */
  private async route(r: LogRecord): Promise<number> {
    if (r.type === 'conversation.updated') this.memberCache.delete(r.conversationId);
    if (r.type === 'conversation.updated') {
      // Each member sees their own view (unread count, mute), so this one is built per member.
      let deliveries = 0;
      for (const userId of r.userIds) {
        const conversation = await this.store.conversation(r.conversationId, userId);
        if (conversation) deliveries += await this.deliverer.deliver([userId], { type: 'conversation.updated', conversation });
      }
      return deliveries;
    }
    if (r.type === 'message.deleted' && r.for === 'everyone') {
      if (this.deleted.size >= DELETED_CACHE_SIZE) this.deleted.delete(this.deleted.values().next().value!);
      this.deleted.add(r.messageId);
    }
    if ((r.type === 'message.updated' || r.type === 'reaction.updated') && this.deleted.has(r.messageId)) return 0;
    if (r.type === 'message.deleted' && r.for === 'me') {
      return this.deliverer.deliver([r.userId], { type: 'message.deleted', conversationId: r.conversationId, messageId: r.messageId, for: 'me' });
    }
    return this.deliverer.deliver(await this.members(r.conversationId), toEvent(r));
  }

  /**
   * Member ids per conversation, cached: membership changes reach this worker as conversation.updated
   * records in log order, which drop the entry before anything later is fanned out.
   */
  private async members(conversationId: string): Promise<string[]> {
    const cached = this.memberCache.get(conversationId);
    if (cached) return cached;
    const ids = await this.store.memberIds(conversationId);
    if (this.memberCache.size >= MEMBER_CACHE_SIZE) this.memberCache.delete(this.memberCache.keys().next().value!);
    this.memberCache.set(conversationId, ids);
    return ids;
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
      return { type: 'reaction.updated', conversationId: r.conversationId, messageId: r.messageId, userId: r.userId, emoji: r.emoji };
    case 'receipt.read':
      return { type: 'receipt.read', conversationId: r.conversationId, userId: r.userId, seq: r.seq };
    case 'receipt.delivered':
      return { type: 'receipt.delivered', conversationId: r.conversationId, userId: r.userId, seq: r.seq };
  }
}

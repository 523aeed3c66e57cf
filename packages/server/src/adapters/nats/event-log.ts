// JetStreamEventLog: the cluster's durable log. One file-backed stream per partition, so each
// partition is its own replicated group with its own leader: appends scale with partitions, and a
// stream's sequence is the order of everything in that partition (the message seq).
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { AppError, unavailable } from '../../domain/errors.js';
import { dedupKey, type LogDraft } from '../../core/log-entries.js';
import { coalesce } from '../../core/messages/coalesce.js';
import type {
  AppendResult,
  EventLog,
  LogHandler,
  PartitionPosition,
  Subscription,
} from '../../core/messages/event-log.js';
import type { Logger } from '../../observability/logger.js';
import { connectNats } from './connection.js';
import { consumerCaughtUp, consumerLag, consumerPositions, type ProgressDeps } from './consumer-progress.js';
import { eraseMessages } from './erasure.js';
import { FreshRuns } from './fresh-runs.js';
import { decode, DurableReader, LiveReader, type PartitionReader } from './log-readers.js';
import { ensureStream, streamConfig } from './log-streams.js';
import { JetStreamPublisher } from './publisher.js';
import { logStream, logSubject, partitionOf, token } from './subjects.js';
import { withTimeout } from './timeout.js';

export interface JetStreamEventLogDeps {
  /** Comma-separated NATS URLs. Ignored when `connection` is given (then the caller owns and closes it). */
  servers: string;
  connection?: NatsConnection;
  logger: Logger;
  /** Names the streams (`<PREFIX>_<p>`) and subjects (`<prefix>.<p>.<conversationId>`); [a-z0-9_-]. */
  streamPrefix?: string;
  /** Fixed for the life of the data: a conversation's partition is hash(conversationId) % partitions. */
  partitions?: number;
  /** 1 on a laptop, 3 in production (needs a 3-node cluster, see deploy/nats/nats-server.conf). */
  replicas?: number;
  /** JetStream's own dedup window for Nats-Msg-Id; `lookupDuplicate` covers what is older. */
  duplicateWindowMs?: number;
  /**
   * How long the log keeps a record (0: for ever). The store is the record after that, so it must
   * exceed any outage of the persister; it bounds how long deleted text lingers where the stream
   * cannot erase it (one made with deny_delete by an older version).
   */
  maxAgeMs?: number;
  /** Bound on each publish (and on the whole append). */
  timeoutMs?: number;
  /** Records handed to a durable handler at most at once; also the consumer's max ack pending. */
  batchSize?: number;
  /**
   * The lasting dedup authority (the store's unique key on sender + clientMsgId), asked before
   * publishing because JetStream only remembers Nats-Msg-Id for its duplicate window.
   */
  lookupDuplicate?: (senderId: string, clientMsgId: string) => Promise<{ seq: number; messageId: string } | null>;
}

type Options = JetStreamEventLogDeps & typeof DEFAULTS;

const DEFAULTS = {
  streamPrefix: 'log',
  partitions: 4,
  replicas: 1,
  duplicateWindowMs: 120_000,
  maxAgeMs: 0,
  timeoutMs: 5_000,
  batchSize: 100,
};

export class JetStreamEventLog implements EventLog {
  private readonly readers = new Set<PartitionReader[]>();
  private readonly wholeLogChecks = new Map<string, FreshRuns<boolean>>();
  private closed = false;
  private readonly refusedStreams = new Set<string>();
  /** Publishes leave in call order even when dedup lookups finish out of order. */
  private publishTurn: Promise<void> = Promise.resolve();

  private readonly publisher: JetStreamPublisher;
  private readonly progress: ProgressDeps;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly opts: Options,
  ) {
    this.publisher = new JetStreamPublisher(nc, opts.timeoutMs);
    this.progress = {
      jsm,
      logger: opts.logger,
      streamPrefix: opts.streamPrefix,
      partitions: opts.partitions,
      isClosed: () => this.closed,
    };
  }

  /** Connects and creates (or updates) the partition streams. Rejects with AppError('unavailable'). */
  static async open(deps: JetStreamEventLogDeps): Promise<JetStreamEventLog> {
    const opts: Options = {
      ...deps,
      streamPrefix: deps.streamPrefix ?? DEFAULTS.streamPrefix,
      partitions: deps.partitions ?? DEFAULTS.partitions,
      replicas: deps.replicas ?? DEFAULTS.replicas,
      duplicateWindowMs: deps.duplicateWindowMs ?? DEFAULTS.duplicateWindowMs,
      maxAgeMs: deps.maxAgeMs ?? DEFAULTS.maxAgeMs,
      timeoutMs: deps.timeoutMs ?? DEFAULTS.timeoutMs,
      batchSize: deps.batchSize ?? DEFAULTS.batchSize,
    };
    if (!/^[a-z0-9_-]+$/u.test(opts.streamPrefix)) throw new Error(`invalid stream prefix ${opts.streamPrefix}`);
    if (!Number.isInteger(opts.partitions) || opts.partitions < 1)
      throw new Error('partitions must be a positive integer');
    const nc = deps.connection ?? (await connectNats(deps.servers, 'event-log'));
    try {
      const jsm = await jetstreamManager(nc, { timeout: opts.timeoutMs });
      for (let p = 0; p < opts.partitions; p++) await ensureStream(jsm, streamConfig(opts, p));
      return new JetStreamEventLog(nc, !deps.connection, jetstream(nc, { timeout: opts.timeoutMs }), jsm, opts);
    } catch (error) {
      if (!deps.connection) await nc.close().catch(() => {});
      throw toUnavailable(error);
    }
  }

  async append(draft: LogDraft): Promise<AppendResult> {
    if (this.closed || this.nc.isClosed()) throw unavailable('the log is closed');
    const key = dedupKey(draft);
    const lookup =
      key && draft.type === 'message.created' && this.opts.lookupDuplicate
        ? this.opts.lookupDuplicate(draft.message.senderId, draft.message.clientMsgId)
        : null;
    const partition = partitionOf(draft.conversationId, this.opts.partitions);
    const turn = this.publishTurn;
    let done!: () => void;
    this.publishTurn = new Promise((resolve) => (done = resolve));
    let acked: Awaited<ReturnType<JetStreamPublisher['publish']>>;
    try {
      const prior = lookup
        ? await withTimeout(lookup, this.opts.timeoutMs).catch((error: unknown) => this.lookupFailed(error, draft))
        : null;
      await turn;
      if (prior) return { duplicate: true, seq: prior.seq, messageId: prior.messageId };
      const sent = this.publisher.publish(
        logSubject(this.opts.streamPrefix, partition, draft.conversationId),
        JSON.stringify(draft),
        key ?? undefined,
      );
      done();
      acked = await sent;
    } catch (error) {
      this.opts.logger.warn({ err: error, type: draft.type }, 'log append failed');
      throw toUnavailable(error);
    } finally {
      done();
    }
    if (acked.duplicate) return this.original(logStream(this.opts.streamPrefix, partition), acked.seq);
    return { duplicate: false, record: decode(draft, acked.seq) };
  }

  async subscribe(
    consumer: string,
    handler: LogHandler,
    opts: { from?: 'durable' | 'now'; startAt?: 'beginning' | 'tail'; batchSize?: number } = {},
  ): Promise<Subscription> {
    if (this.closed) throw unavailable('the log is closed');
    // Partitions are read in parallel (different conversations); the handler runs one call at a
    // time, and the batches of partitions that came in meanwhile go into its next call together:
    // fewer, bigger store transactions, route lookups and bus messages under load (coalesce.ts).
    const gate = coalesce(handler);
    const streams = Array.from({ length: this.opts.partitions }, (_, p) => logStream(this.opts.streamPrefix, p));
    const common = {
      js: this.js,
      jsm: this.jsm,
      handler: gate,
      logger: this.opts.logger,
      batchSize: opts.batchSize ?? this.opts.batchSize,
    };
    const readers: PartitionReader[] = streams.map((stream) =>
      opts.from === 'now'
        ? new LiveReader({ ...common, stream })
        : new DurableReader({
            ...common,
            stream,
            consumer: token(consumer),
            ...(opts.startAt ? { startAt: opts.startAt } : {}),
          }),
    );
    try {
      await Promise.all(readers.map((r) => r.start()));
    } catch (error) {
      await Promise.all(readers.map((r) => r.stop()));
      throw toUnavailable(error);
    }
    this.readers.add(readers);
    return {
      stop: async () => {
        this.readers.delete(readers);
        await Promise.all(readers.map((r) => r.stop()));
      },
    };
  }

  /**
   * Waits (polling, up to `timeoutMs`) until the durable `consumer` has completed every entry of the
   * conversation - or, with `null`, of the whole log - appended before the call; false if it has not
   * by then. The store trails the log by the persister's lag: a read that must see a
   * just-acknowledged write waits on this first.
   */
  async caughtUp(consumer: string, conversationId: string | null, timeoutMs: number): Promise<boolean> {
    if (conversationId !== null) return consumerCaughtUp(this.progress, consumer, conversationId, timeoutMs);
    // The whole-log check is asked by every chat-list load (a reconnect storm asks it thousands of
    // times): callers share one check, each one a check that started after it asked.
    let runs = this.wholeLogChecks.get(consumer);
    if (!runs)
      this.wholeLogChecks.set(
        consumer,
        (runs = new FreshRuns(() => consumerCaughtUp(this.progress, consumer, null, timeoutMs))),
      );
    return runs.run();
  }

  /**
   * Erases the text of messages of one conversation from the log: their message.created records
   * and every message.updated of them. Called once the store applied their deletion (the store is
   * then the only record of them, as a tombstone). Rejects when JetStream does not answer.
   */
  async erase(conversationId: string, messages: { id: string; seq: number }[]): Promise<void> {
    const partition = partitionOf(conversationId, this.opts.partitions);
    await eraseMessages(
      {
        js: this.js,
        jsm: this.jsm,
        logger: this.opts.logger,
        timeoutMs: this.opts.timeoutMs,
        refusedStreams: this.refusedStreams,
      },
      logStream(this.opts.streamPrefix, partition),
      logSubject(this.opts.streamPrefix, partition, conversationId),
      messages,
    ).catch((error: unknown) => {
      throw toUnavailable(error);
    });
  }

  /** Per partition: what `consumer` has not completed and its ack floor (one consumer info request each). */
  positions(consumer: string): Promise<PartitionPosition[]> {
    return consumerPositions(this.progress, consumer);
  }

  partitionOf(conversationId: string): number {
    return partitionOf(conversationId, this.opts.partitions);
  }

  /** Per consumer, over every partition: pending + delivered-but-unacked; the whole stream if it never started. */
  lag(consumers: string[]): Promise<Record<string, number>> {
    return consumerLag(this.progress, consumers);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.readers].flatMap((readers) => readers.map((r) => r.stop())));
    this.readers.clear();
    await this.publisher.close();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }

  /**
   * The store is unreachable (PostgreSQL down): the append goes ahead, deduplicated by JetStream's
   * Nats-Msg-Id window alone. A retry older than the window while the store is still down would be
   * appended twice; the persister then keeps the first (the store's unique key) and that retry's
   * ack names a message that is never stored. Sends staying available is worth that corner.
   */
  private lookupFailed(error: unknown, draft: LogDraft): null {
    if (!(error instanceof AppError) || error.code !== 'unavailable') throw error;
    this.opts.logger.warn(
      { err: error, type: draft.type },
      "dedup lookup failed; relying on the log's duplicate window",
    );
    return null;
  }

  /** A duplicate PubAck carries the original's sequence; its message id is read back from the stream. */
  private async original(stream: string, seq: number): Promise<AppendResult> {
    try {
      const stored = await this.jsm.streams.getMessage(stream, { seq });
      if (!stored) throw new Error(`message ${seq} of ${stream} is gone`);
      const draft = stored.json<LogDraft>();
      if (draft.type !== 'message.created') throw new Error(`message ${seq} of ${stream} is a ${draft.type}`);
      return { duplicate: true, seq, messageId: draft.message.id, logged: { ...draft.message, seq } };
    } catch (error) {
      this.opts.logger.error({ err: error, stream, seq }, 'cannot read the original of a duplicate append');
      throw toUnavailable(error);
    }
  }
}

function toUnavailable(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return Object.assign(unavailable(), { cause: error });
}

// Readers of one partition stream for JetStreamEventLog.subscribe: durable (a pull consumer that
// acks after the handler) and live (an ordered consumer from the tail, no position kept).
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { LogDraft, LogRecord } from '../../core/log-entries.js';
import type { LogHandler } from '../../core/messages/event-log.js';
import type { Logger } from '../../observability/logger.js';

export interface PartitionReader {
  start(): Promise<void>;
  /** Returns once no handler call of this reader is running; unhandled messages are left to redelivery. */
  stop(): Promise<void>;
}

interface ReaderDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  handler: LogHandler;
  logger: Logger;
  batchSize: number;
}

/** Long enough for a slow batch; `working()` extends it while a failing batch is retried. */
const ACK_WAIT_MS = 30_000;
/** A pull request waits this long for messages before the reader issues the next one. */
const FETCH_EXPIRES_MS = 10_000;
/**
 * The server sends heartbeats on an idle pull; two missed end it, so a pull lost with a NATS node
 * (or its consumer leader) is re-issued within seconds, not after FETCH_EXPIRES_MS.
 */
const FETCH_HEARTBEAT_MS = 2_000;
const RETRY_MAX_MS = 10_000;

/**
 * Strict order within the partition: the next batch is only asked for once the previous one is
 * acked, and a failing batch is retried here (with backoff) rather than nak'd, so nothing behind it
 * can overtake it. The server redelivers only what a dead process held unacked (after ACK_WAIT_MS).
 */
export class DurableReader implements PartitionReader {
  private stopped = false;
  private current: ConsumerMessages | null = null;
  private loop: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  /**
   * The stream sequence this reader must be handed next: the partition's stream has one subject
   * space, so its sequences are consecutive but for erased records (deleted messages) and those
   * past the max age. A later one that still exists means entries went to a pull this reader never
   * saw (one that broke when a NATS node or the consumer's leader died), and acknowledging past
   * them (AckPolicy.All) would acknowledge them unhandled.
   */
  private next = 0;
  /** The highest stream sequence handled (and acknowledged) by this reader, or known handled when it started. */
  private handled = 0;

  constructor(private readonly deps: ReaderDeps & { consumer: string; startAt?: 'beginning' | 'tail' }) {}

  async start(): Promise<void> {
    const { jsm, stream, consumer, batchSize } = this.deps;
    await ensureConsumer(jsm, stream, {
      durable_name: consumer,
      // Batches are handled strictly in order, so acknowledging a batch's last entry acknowledges it all.
      ack_policy: AckPolicy.All,
      // Only read when the consumer is created: an existing one resumes where it stopped.
      deliver_policy: this.deps.startAt === 'tail' ? DeliverPolicy.New : DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_MS),
      max_ack_pending: batchSize,
      max_deliver: -1,
    });
    let pull = await this.rewound(false);
    this.loop = this.run(async (broken) => {
      // A pull that broke (a NATS node or the consumer's leader died), or one that skipped entries,
      // may have been handed entries this reader never acknowledged. The server would redeliver them
      // only after the ack wait, behind newer ones, and one ack of a newer entry (AckPolicy.All)
      // would acknowledge them unhandled. So the consumer is first rewound to its ack floor. After a
      // leader change the new leader's count of pending entries cannot be trusted for that, so the
      // rewind is unconditional here (at start, only when something is pending).
      if (broken) pull = await this.rewound(true);
      return pull.fetch({ max_messages: batchSize, expires: FETCH_EXPIRES_MS, idle_heartbeat: FETCH_HEARTBEAT_MS });
    });
  }

  /**
   * One process reads a durable consumer at a time, so anything pending acknowledgement when a
   * reader starts was held by a predecessor that died: JetStream would redeliver it only after the
   * ack wait, letting newer entries overtake it (a gap in the store, late events). Instead the
   * consumer is re-created to start right after what is known handled (its ack floor, or what this
   * reader handled): the unhandled entries come first, in order (consumers are idempotent, so an
   * entry handled but not acknowledged may be seen twice).
   */
  private async rewound(always: boolean) {
    const { js, jsm, stream, consumer } = this.deps;
    const info = await jsm.consumers.info(stream, consumer);
    const from = Math.max(info.ack_floor.stream_seq, this.handled) + 1;
    if (info.num_ack_pending > 0 || (always && info.delivered.stream_seq + 1 !== from))
      await recreateAt(jsm, stream, info, info.config, from);
    const [now, streamInfo] = await Promise.all([jsm.consumers.info(stream, consumer), jsm.streams.info(stream)]);
    // Nothing is pending now: the next entry is the one after the last delivered (a consumer that
    // starts at the tail counts the entries before it as delivered), unless a limit removed it.
    this.handled = Math.max(this.handled, now.delivered.stream_seq);
    this.next = Math.max(now.delivered.stream_seq + 1, streamInfo.state.first_seq);
    return js.consumers.get(stream, consumer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    void this.current?.close();
    await this.loop;
  }

  private async run(fetch: (broken: boolean) => Promise<ConsumerMessages>): Promise<void> {
    let broken = false;
    while (!this.stopped) {
      let batch: JsMsg[] = [];
      try {
        const messages = (this.current = await fetch(broken));
        broken = false;
        if (this.stopped) void messages.close();
        for await (const m of messages) {
          if (m.seq > this.next && !(await this.goneBetween(this.next, m.seq)))
            throw new SkippedEntries(this.next, m.seq);
          batch.push(m);
          this.next = Math.max(this.next, m.seq + 1);
          // Grow the batch with what has already arrived; hand it over as soon as nothing more is buffered.
          if (messages.getPending() > 0 && batch.length < this.deps.batchSize) continue;
          await this.handle(batch);
          batch = [];
          if (this.stopped) break;
        }
      } catch (error) {
        if (this.stopped) break;
        broken = true;
        if (error instanceof SkippedEntries) {
          void this.current?.close();
          this.deps.logger.warn(
            { stream: this.deps.stream, expected: error.expected, got: error.got },
            'the log skipped entries (handed to a broken pull); rewinding',
          );
          await this.pause(50);
          continue;
        }
        this.deps.logger.warn({ err: error, stream: this.deps.stream }, 'log fetch failed; retrying');
        await this.pause(1_000);
      } finally {
        this.current = null;
        for (const m of batch) m.nak();
      }
    }
  }

  /** Whether the stream no longer holds any record in [from, to): erased or aged out, not skipped. */
  private async goneBetween(from: number, to: number): Promise<boolean> {
    const { jsm, stream } = this.deps;
    const first = (await jsm.streams.info(stream)).state.first_seq;
    for (let seq = Math.max(from, first); seq < to; seq++) {
      const found = await jsm.streams.getMessage(stream, { seq }).catch((error: unknown) => {
        if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
        throw error;
      });
      if (found) return false;
    }
    return true;
  }

  private async handle(batch: JsMsg[]): Promise<void> {
    const records = decodeAll(batch, this.deps.logger);
    for (let attempt = 0; records.length > 0; attempt++) {
      try {
        await this.deps.handler(records);
        break;
      } catch (error) {
        this.deps.logger.error(
          { err: error, stream: this.deps.stream, attempt },
          'durable log consumer failed; will retry',
        );
        if (this.stopped) return; // the caller naks the batch: redelivered to whoever reads next
        for (const m of batch) m.working();
        await this.pause(Math.min(250 * 2 ** attempt, RETRY_MAX_MS));
        if (this.stopped) return;
      }
    }
    // One ack for the batch (AckPolicy.All), not waited for: an ack lost with a crash means a
    // redelivery, which every consumer absorbs (they are idempotent), and a restarted reader rewinds
    // to the ack floor first (rewound), so order is kept either way.
    const last = batch.at(-1);
    last?.ack();
    if (last) this.handled = Math.max(this.handled, last.seq);
    batch.length = 0;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** For `from: 'now'`: starts after the stream's last sequence at subscribe time, so nothing appended after is missed. */
export class LiveReader implements PartitionReader {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ReaderDeps) {}

  async start(): Promise<void> {
    const { js, jsm, stream, batchSize } = this.deps;
    const info = await jsm.streams.info(stream);
    const ordered = await js.consumers.get(stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: info.state.last_seq + 1,
    });
    const messages = (this.messages = await ordered.consume({ max_messages: batchSize }));
    this.loop = this.run(messages);
  }

  async stop(): Promise<void> {
    void this.messages?.close();
    await this.loop;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    let batch: JsMsg[] = [];
    try {
      for await (const m of messages) {
        batch.push(m);
        if (messages.getPending() > 0 && batch.length < this.deps.batchSize) continue;
        const records = decodeAll(batch, this.deps.logger);
        batch = [];
        try {
          await this.deps.handler(records);
        } catch (error) {
          this.deps.logger.error({ err: error, stream: this.deps.stream }, 'live log consumer failed');
        }
      }
    } catch (error) {
      this.deps.logger.error({ err: error, stream: this.deps.stream }, 'live log reader stopped');
    }
  }
}

/** The stream sequence is both the record's position and, for message.created, the message's seq. */
export function decode(draft: LogDraft, seq: number): LogRecord {
  if (draft.type === 'message.created') return { ...draft, message: { ...draft.message, seq }, pos: seq };
  return { ...draft, pos: seq };
}

/** An undecodable message can never succeed: it is logged and terminated rather than blocking the partition. */
function decodeAll(batch: JsMsg[], logger: Logger): LogRecord[] {
  const records: LogRecord[] = [];
  for (const m of batch) {
    try {
      records.push(decode(m.json<LogDraft>(), m.seq));
    } catch (error) {
      logger.error({ err: error, subject: m.subject, seq: m.seq }, 'undecodable log entry skipped');
      m.term();
    }
  }
  return records;
}

/** The reader was handed a later entry than the next one: the ones between went elsewhere. */
class SkippedEntries extends Error {
  constructor(
    readonly expected: number,
    readonly got: number,
  ) {
    super(`expected log entry ${expected}, got ${got}`);
  }
}

/** Replaces a durable consumer by one with `config` that starts right after the old one's ack floor. */
async function recreateAfterAckFloor(
  jsm: JetStreamManager,
  stream: string,
  info: ConsumerInfo,
  config: Partial<ConsumerConfig>,
): Promise<void> {
  await recreateAt(jsm, stream, info, config, info.ack_floor.stream_seq + 1);
}

/** Replaces a durable consumer by one with `config` that starts at stream sequence `from`. */
async function recreateAt(
  jsm: JetStreamManager,
  stream: string,
  info: ConsumerInfo,
  config: Partial<ConsumerConfig>,
  from: number,
): Promise<void> {
  await jsm.consumers.delete(stream, info.name);
  await jsm.consumers.add(stream, {
    durable_name: info.name,
    ack_policy: config.ack_policy ?? info.config.ack_policy,
    ack_wait: config.ack_wait ?? info.config.ack_wait,
    max_ack_pending: config.max_ack_pending ?? info.config.max_ack_pending,
    max_deliver: config.max_deliver ?? info.config.max_deliver,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: from,
  });
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<void> {
  try {
    const info = await jsm.consumers.info(stream, config.durable_name);
    // An ack policy cannot be changed in place (consumers made by an older version ack each entry).
    if (info.config.ack_policy !== config.ack_policy) return await recreateAfterAckFloor(jsm, stream, info, config);
    if (info.config.max_ack_pending !== config.max_ack_pending || info.config.ack_wait !== config.ack_wait) {
      await jsm.consumers.update(stream, config.durable_name, {
        max_ack_pending: config.max_ack_pending!,
        ack_wait: config.ack_wait!,
      });
    }
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.ConsumerNotFound) throw error;
    await jsm.consumers.add(stream, config);
  }
}

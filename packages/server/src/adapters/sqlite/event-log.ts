// SqliteEventLog: the embedded durable log. Appends are group-committed: while one batch is being
// written (on the writer thread, fsync included), the next one gathers, and it becomes one
// transaction too. With `writeStore` the store's tables are written in that same transaction, so
// the store is never behind the log.
import { AppError, unavailable } from '../../domain/errors.js';
import type { LogDraft, LogRecord } from '../../core/log-entries.js';
import type { AppendResult, EventLog, LogHandler, Subscription } from '../../core/messages/event-log.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Db } from './db.js';
import { InThreadWriter, ThreadWriter, type WriterChannel } from './writer-channel.js';

interface Pending {
  draft: LogDraft;
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
}

interface Subscriber {
  consumer: string;
  handler: LogHandler;
  durable: boolean;
  queue: Promise<void>;
  stopped: boolean;
  /** Durable only: the last position the handler completed, and whether it has read up to the tail. */
  position: number;
  caughtUp: boolean;
}

const PAGE = 500;
/** One transaction holds at most this many appends, so a backlog cannot stall the loop for long. */
const MAX_BATCH = 512;
/** Consumer positions are saved with the next commit, or after this long when no commit comes. */
const OFFSET_SAVE_MS = 500;

export class SqliteEventLog implements EventLog {
  private readonly db: Db;
  private readonly writer: WriterChannel;
  private inFlight: Promise<void> | null = null;
  private readonly logger: Logger;
  private readonly metrics: Metrics | undefined;
  private pending: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private readonly subscribers = new Set<Subscriber>();
  private readonly unsavedOffsets = new Map<string, number>();
  private offsetTimer: NodeJS.Timeout | null = null;
  private readonly stmt;

  /**
   * `writeStore`: the embedded backend's store tables are written in the log's transactions.
   * `thread`: commit on a worker thread (the server); off, commits run on this thread.
   */
  constructor(deps: { db: Db; logger: Logger; metrics?: Metrics; writeStore?: boolean; thread?: boolean }) {
    this.db = deps.db;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    const writeStore = deps.writeStore ?? false;
    this.writer = deps.thread
      ? new ThreadWriter({ file: this.db.name, writeStore })
      : new InThreadWriter({ db: this.db, writeStore });
    this.stmt = {
      page: this.db.prepare<[number, number], { pos: number; payload: string }>(
        'SELECT pos, payload FROM log WHERE pos > ? ORDER BY pos LIMIT ?',
      ),
      offset: this.db.prepare<[string], { pos: number }>('SELECT pos FROM log_offsets WHERE consumer = ?'),
      tail: this.db.prepare<[], { pos: number | null }>('SELECT MAX(pos) AS pos FROM log'),
      saveOffset: this.db.prepare(
        'INSERT INTO log_offsets (consumer, pos) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET pos = excluded.pos',
      ),
    };
  }

  append(draft: LogDraft): Promise<AppendResult> {
    if (this.closed) return Promise.reject(unavailable('the log is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ draft, resolve, reject });
      this.schedule();
    });
  }

  async subscribe(
    consumer: string,
    handler: LogHandler,
    opts: { from?: 'durable' | 'now'; startAt?: 'beginning' | 'tail' } = {},
  ): Promise<Subscription> {
    const sub: Subscriber = {
      consumer,
      handler,
      durable: opts.from !== 'now',
      queue: Promise.resolve(),
      stopped: false,
      position: 0,
      caughtUp: false,
    };
    if (sub.durable) {
      const saved = this.unsavedOffsets.get(consumer) ?? this.stmt.offset.get(consumer)?.pos;
      sub.position = saved ?? (opts.startAt === 'tail' ? (this.stmt.tail.get()?.pos ?? 0) : 0);
      if (saved === undefined) this.stmt.saveOffset.run(consumer, sub.position);
    }
    this.subscribers.add(sub);
    if (sub.durable) this.pump(sub);
    return {
      stop: async () => {
        sub.stopped = true;
        this.subscribers.delete(sub);
        await sub.queue;
      },
    };
  }

  async lag(consumers: string[]): Promise<Record<string, number>> {
    const tail = this.stmt.tail.get()?.pos ?? 0;
    const live = new Map([...this.subscribers].filter((s) => s.durable).map((s) => [s.consumer, s.position]));
    return Object.fromEntries(
      consumers.map((c) => [c, Math.max(0, tail - (live.get(c) ?? this.stmt.offset.get(c)?.pos ?? 0))]),
    );
  }

  /**
   * Resolves once the search index has every message acknowledged before the call: the writer
   * thread indexes after its commits (deferred-index.ts), and a search must find what was sent.
   */
  async searchIndexed(): Promise<void> {
    if (this.closed) return;
    await this.writer.indexed();
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight || this.pending.length > 0) {
      if (!this.inFlight) this.flush();
      await this.inFlight;
    }
    await Promise.all([...this.subscribers].map((s) => s.queue));
    await this.saveOffsets();
    this.subscribers.clear();
    await this.writer.close();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends the next batch to the writer; the batch after it gathers meanwhile. */
  private flush(): void {
    this.scheduled = false;
    if (this.inFlight) return;
    const batch = this.pending.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    const offsets = this.takeOffsets();
    this.inFlight = this.writer
      .commit(
        batch.map((p) => p.draft),
        offsets,
      )
      .then(
        (outcome) => {
          this.metrics?.logBatchSize.observe(batch.length);
          this.metrics?.logCommitSeconds.observe(outcome.seconds);
          batch.forEach((item, i) => {
            const o = outcome.outcomes[i]!;
            if (o.ok) item.resolve(o.result);
            else item.reject(new AppError(o.code, o.message));
          });
          this.notify(outcome.records);
        },
        (error: unknown) => {
          this.logger.error({ err: error, entries: batch.length }, 'log commit failed');
          for (const [consumer, pos] of offsets)
            if (!this.unsavedOffsets.has(consumer)) this.unsavedOffsets.set(consumer, pos);
          for (const item of batch) item.reject(unavailable());
        },
      )
      .finally(() => {
        this.inFlight = null;
        if (this.pending.length > 0) this.flush();
      });
  }

  /**
   * A caught-up durable consumer gets the committed records straight from memory (no re-read, no
   * second parse); one that is behind or failed reads its way forward from the table.
   */
  private notify(records: LogRecord[]): void {
    if (records.length === 0) return;
    for (const sub of this.subscribers) {
      if (!sub.durable) sub.queue = sub.queue.then(() => this.deliver(sub, records));
      else if (sub.caughtUp) sub.queue = sub.queue.then(() => this.handOver(sub, records));
      else this.pump(sub);
    }
  }

  private async handOver(sub: Subscriber, records: LogRecord[]): Promise<void> {
    if (sub.stopped) return;
    const fresh = records.filter((r) => r.pos > sub.position);
    if (fresh.length === 0) return;
    try {
      await sub.handler(fresh);
      this.advance(sub, fresh[fresh.length - 1]!.pos);
    } catch (error) {
      this.logger.error({ err: error, consumer: sub.consumer }, 'durable log consumer failed; will retry');
      sub.caughtUp = false;
      await new Promise((r) => setTimeout(r, 1000));
      this.pump(sub);
    }
  }

  private advance(sub: Subscriber, pos: number): void {
    sub.position = pos;
    this.unsavedOffsets.set(sub.consumer, pos);
    this.offsetTimer ??= setTimeout(() => void this.saveOffsets(), OFFSET_SAVE_MS).unref();
  }

  /** Positions ride along with the next commit's transaction (no fsync of their own). */
  private takeOffsets(): [string, number][] {
    const offsets = [...this.unsavedOffsets];
    this.unsavedOffsets.clear();
    if (this.offsetTimer) clearTimeout(this.offsetTimer);
    this.offsetTimer = null;
    return offsets;
  }

  /** When no commit comes along: positions alone, through the writer. */
  private async saveOffsets(): Promise<void> {
    const offsets = this.takeOffsets();
    if (offsets.length === 0) return;
    try {
      await this.writer.commit([], offsets);
    } catch (error) {
      this.logger.warn({ err: error }, 'saving consumer positions failed; they will be redelivered');
    }
  }

  private async deliver(sub: Subscriber, records: LogRecord[]): Promise<void> {
    if (sub.stopped) return;
    try {
      await sub.handler(records);
    } catch (error) {
      this.logger.error({ err: error, consumer: sub.consumer }, 'live log consumer failed');
    }
  }

  /** Durable consumers read from the table, so nothing committed while they were busy is skipped. */
  private pump(sub: Subscriber): void {
    sub.queue = sub.queue.then(async () => {
      while (!sub.stopped && !sub.caughtUp) {
        const rows = this.stmt.page.all(sub.position, PAGE);
        if (rows.length === 0) {
          // Nothing is committed between this read and the flag: commits run on this same thread.
          sub.caughtUp = true;
          return;
        }
        const records = rows.map((row) => ({ ...(JSON.parse(row.payload) as LogDraft), pos: row.pos }) as LogRecord);
        try {
          await sub.handler(records);
        } catch (error) {
          this.logger.error({ err: error, consumer: sub.consumer }, 'durable log consumer failed; will retry');
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        this.advance(sub, rows[rows.length - 1]!.pos);
      }
    });
  }
}

// SqliteEventLog: the embedded durable log. Appends arriving in the same event-loop turn are
// group-committed in one transaction (one fsync for the batch); `applyInCommit` lets the embedded
// backend write the store in that same transaction, so the store is never behind the log.
import { AppError, forbidden, invalid, unavailable } from '../../domain/errors.js';
import { dedupKey, type LogDraft, type LogRecord } from '../../core/log-entries.js';
import type { AppendResult, EventLog, LogHandler, Subscription } from '../../core/messages/event-log.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Db } from './db.js';

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
  private readonly applyInCommit: ((records: LogRecord[]) => void) | undefined;
  private readonly logger: Logger;
  private readonly metrics: Metrics | undefined;
  private pending: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private readonly lastSeqs = new Map<string, number>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly unsavedOffsets = new Map<string, number>();
  private offsetTimer: NodeJS.Timeout | null = null;
  private readonly stmt;

  constructor(deps: { db: Db; logger: Logger; metrics?: Metrics; applyInCommit?: (records: LogRecord[]) => void }) {
    this.db = deps.db;
    this.applyInCommit = deps.applyInCommit;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    this.stmt = {
      insert: this.db.prepare(
        'INSERT INTO log (conversation_id, type, seq, message_id, dedup_key, payload) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      byKey: this.db.prepare<[string], { seq: number; message_id: string }>('SELECT seq, message_id FROM log WHERE dedup_key = ?'),
      maxSeq: this.db.prepare<[string], { s: number | null }>('SELECT MAX(seq) AS s FROM log WHERE conversation_id = ? AND seq IS NOT NULL'),
      page: this.db.prepare<[number, number], { pos: number; payload: string }>('SELECT pos, payload FROM log WHERE pos > ? ORDER BY pos LIMIT ?'),
      offset: this.db.prepare<[string], { pos: number }>('SELECT pos FROM log_offsets WHERE consumer = ?'),
      tail: this.db.prepare<[], { pos: number | null }>('SELECT MAX(pos) AS pos FROM log'),
      forgetCreated: this.db.prepare("UPDATE log SET payload = json_set(payload, '$.message.body', '') WHERE message_id = ? AND type = 'message.created'"),
      forgetEdits: this.db.prepare("UPDATE log SET payload = json_set(payload, '$.body', '', '$.message.body', '') WHERE message_id = ? AND type = 'message.updated'"),
      deletedForEveryone: this.db.prepare<[string], { found: number }>(
        "SELECT 1 AS found FROM log WHERE message_id = ? AND type = 'message.deleted' AND json_extract(payload, '$.for') = 'everyone' LIMIT 1",
      ),
      saveOffset: this.db.prepare('INSERT INTO log_offsets (consumer, pos) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET pos = excluded.pos'),
    };
  }

  append(draft: LogDraft): Promise<AppendResult> {
    if (this.closed) return Promise.reject(unavailable('the log is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ draft, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async subscribe(consumer: string, handler: LogHandler, opts: { from?: 'durable' | 'now'; startAt?: 'beginning' | 'tail' } = {}): Promise<Subscription> {
    const sub: Subscriber = { consumer, handler, durable: opts.from !== 'now', queue: Promise.resolve(), stopped: false, position: 0, caughtUp: false };
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
    return Object.fromEntries(consumers.map((c) => [c, Math.max(0, tail - (live.get(c) ?? this.stmt.offset.get(c)?.pos ?? 0))]));
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.pending.length > 0) this.flush();
    await Promise.all([...this.subscribers].map((s) => s.queue));
    this.saveOffsets();
    this.subscribers.clear();
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.length > MAX_BATCH ? this.pending.splice(0, MAX_BATCH) : this.pending.splice(0);
    if (this.pending.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    if (batch.length === 0) return;
    const started = performance.now();
    let outcome: { results: AppendResult[]; records: LogRecord[] };
    try {
      outcome = this.commit(batch.map((p) => p.draft));
    } catch (error) {
      // One bad entry must not fail its neighbours: retry each alone.
      if (batch.length > 1) {
        for (const item of batch) this.commitOne(item);
        return;
      }
      if (!(error instanceof AppError)) this.logger.error({ err: error }, 'log append failed');
      batch[0]!.reject(error instanceof AppError ? error : unavailable());
      return;
    }
    this.metrics?.logBatchSize.observe(batch.length);
    this.metrics?.logCommitSeconds.observe((performance.now() - started) / 1000);
    batch.forEach((item, i) => item.resolve(outcome.results[i]!));
    this.notify(outcome.records);
  }

  private commitOne(item: Pending): void {
    try {
      const { results, records } = this.commit([item.draft]);
      item.resolve(results[0]!);
      this.notify(records);
    } catch (error) {
      if (!(error instanceof AppError)) this.logger.error({ err: error }, 'log append failed');
      item.reject(error instanceof AppError ? error : unavailable());
    }
  }

  /** One transaction: dedup, seq assignment, insert, store apply. Seq heads change only on commit. */
  private commit(drafts: LogDraft[]): { results: AppendResult[]; records: LogRecord[] } {
    const heads = new Map<string, number>();
    const seen = new Map<string, { seq: number; messageId: string }>();
    const results: AppendResult[] = [];
    const records: LogRecord[] = [];
    this.db.transaction(() => {
      for (const draft of drafts) {
        const key = dedupKey(draft);
        let seq: number | null = null;
        let messageId: string | null = null;
        let entry: LogDraft = draft;
        if (draft.type === 'message.created' && key) {
          const prior = seen.get(key) ?? this.stmt.byKey.get(key);
          if (prior) {
            const original = 'messageId' in prior ? prior : { seq: prior.seq, messageId: prior.message_id };
            results.push({ duplicate: true, seq: original.seq, messageId: original.messageId });
            continue;
          }
          seq = this.headOf(draft.conversationId, heads) + 1;
          heads.set(draft.conversationId, seq);
          messageId = draft.message.id;
          seen.set(key, { seq, messageId });
          entry = { ...draft, message: { ...draft.message, seq } };
        } else if (draft.type === 'message.updated' || draft.type === 'message.deleted' || draft.type === 'reaction.updated') {
          messageId = draft.messageId;
          // The use case checked this before appending, but a delete for everyone may have been ordered in between:
          // an edit or reaction after it would bring text back to clients and into the log.
          if (draft.type !== 'message.deleted' && this.stmt.deletedForEveryone.get(draft.messageId)) {
            throw draft.type === 'message.updated' ? forbidden('a deleted message cannot be edited') : invalid('a deleted message cannot get reactions');
          }
        }
        if (draft.type === 'message.deleted' && draft.for === 'everyone') this.forget(draft.messageId);
        const info = this.stmt.insert.run(draft.conversationId, draft.type, seq, messageId, key, JSON.stringify(entry));
        const record = { ...entry, pos: Number(info.lastInsertRowid) } as LogRecord;
        records.push(record);
        results.push({ duplicate: false, record });
      }
      if (records.length > 0) this.applyInCommit?.(records);
      this.writeOffsets();
    })();
    for (const [conversationId, seq] of heads) this.lastSeqs.set(conversationId, seq);
    return { results, records };
  }

  /** Deleted for everyone means the text is gone from storage, the log's copies included. */
  private forget(messageId: string): void {
    this.stmt.forgetCreated.run(messageId);
    this.stmt.forgetEdits.run(messageId);
  }

  private headOf(conversationId: string, heads: Map<string, number>): number {
    const tentative = heads.get(conversationId);
    if (tentative !== undefined) return tentative;
    const known = this.lastSeqs.get(conversationId);
    if (known !== undefined) return known;
    return this.stmt.maxSeq.get(conversationId)?.s ?? 0;
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
    this.offsetTimer ??= setTimeout(() => this.saveOffsets(), OFFSET_SAVE_MS).unref();
  }

  /** Inside a commit's transaction: positions ride along for free (no fsync of their own). */
  private writeOffsets(): void {
    for (const [consumer, pos] of this.unsavedOffsets) this.stmt.saveOffset.run(consumer, pos);
    this.unsavedOffsets.clear();
  }

  private saveOffsets(): void {
    if (this.offsetTimer) clearTimeout(this.offsetTimer);
    this.offsetTimer = null;
    if (this.unsavedOffsets.size === 0 || !this.db.open) return;
    try {
      this.db.transaction(() => this.writeOffsets())();
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

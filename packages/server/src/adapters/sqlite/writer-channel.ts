// How SqliteEventLog reaches its writer: a worker thread (the server) or a direct call on the
// same thread (tests and tools that open the log on ':memory:' or want no thread).
import { Worker } from 'node:worker_threads';
import type { LogDraft, LogRecord } from '../../core/log-entries.js';
import type { AppendResult } from '../../core/messages/event-log.js';
import type { Db } from './db.js';
import { committedRecord, SqliteLogWriter, type CommitOutcome, type DraftOutcome } from './log-writer.js';

export type WriterRequest =
  | { type: 'commit'; id: number; drafts: LogDraft[]; offsets: [string, number][] }
  | { type: 'index'; id: number }
  | { type: 'close' };
/**
 * Per draft, what the event loop cannot know without the commit: a committed draft's position and
 * seq (its record is rebuilt from the draft, so records do not cross the thread boundary twice),
 * a duplicate's original, or the refusal.
 */
export type SlimOutcome =
  | { pos: number; seq: number | null }
  | { ok: true; result: Extract<AppendResult, { duplicate: true }> }
  | Extract<DraftOutcome, { ok: false }>;
export type WriterReply =
  | { type: 'committed'; id: number; seconds: number; outcomes: SlimOutcome[] }
  | { type: 'indexed'; id: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'closed' };

/** The writer thread's side: a commit's outcome without its records. */
export function slim(outcome: CommitOutcome): SlimOutcome[] {
  return outcome.outcomes.map((o) => {
    if (!o.ok || o.result.duplicate) return o as SlimOutcome;
    const record = o.result.record;
    return { pos: record.pos, seq: record.type === 'message.created' ? record.message.seq : null };
  });
}

/** The event loop's side: the outcome and records `SqliteLogWriter.commit` returned on the writer thread. */
export function expand(drafts: LogDraft[], outcomes: SlimOutcome[]): CommitOutcome {
  const records: LogRecord[] = [];
  const full = outcomes.map((o, i): DraftOutcome => {
    if (!('pos' in o)) return o;
    const record = committedRecord(drafts[i]!, o.seq, o.pos);
    records.push(record);
    return { ok: true, result: { duplicate: false, record } };
  });
  return { outcomes: full, records };
}

export interface WriterChannel {
  /** One transaction; rejects when it could not be committed at all. */
  commit(drafts: LogDraft[], offsets: [string, number][]): Promise<CommitOutcome & { seconds: number }>;
  /** Resolves once the search index has every message committed before the call. */
  indexed(): Promise<void>;
  close(): Promise<void>;
}

export class InThreadWriter implements WriterChannel {
  private readonly writer: SqliteLogWriter;
  constructor(deps: { db: Db; writeStore: boolean }) {
    this.writer = new SqliteLogWriter(deps);
  }
  async commit(drafts: LogDraft[], offsets: [string, number][]) {
    const started = performance.now();
    const outcome = this.writer.commit(drafts, offsets);
    return { ...outcome, seconds: (performance.now() - started) / 1000 };
  }
  /** This writer indexes inside each commit. */
  async indexed(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * The worker script is the compiled writer-worker.js next to this module; when this module runs
 * from source (the test runner), the compiled one in dist/ is used (`npm test` builds first).
 */
function workerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts'))
    return new URL(here.replace('/src/', '/dist/').replace(/writer-channel\.ts$/, 'writer-worker.js'));
  return new URL('./writer-worker.js', here);
}

export class ThreadWriter implements WriterChannel {
  private readonly worker: Worker;
  private readonly waiting = new Map<
    number,
    { drafts: LogDraft[]; resolve: (o: CommitOutcome & { seconds: number }) => void; reject: (e: Error) => void }
  >();
  private readonly indexWaits = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(deps: { file: string; writeStore: boolean }) {
    this.worker = new Worker(workerUrl(), { workerData: { file: deps.file, writeStore: deps.writeStore } });
    this.worker.on('message', (reply: WriterReply) => {
      if (reply.type === 'closed') return;
      const indexWait = this.indexWaits.get(reply.id);
      if (indexWait) {
        this.indexWaits.delete(reply.id);
        if (reply.type === 'failed') indexWait.reject(new Error(reply.message));
        else indexWait.resolve();
        return;
      }
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (!waiter) return;
      if (reply.type === 'indexed') return;
      if (reply.type === 'committed')
        waiter.resolve({ ...expand(waiter.drafts, reply.outcomes), seconds: reply.seconds });
      else waiter.reject(new Error(reply.message));
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
      for (const wait of this.indexWaits.values()) wait.reject(error);
      this.indexWaits.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`log writer thread exited (${code})`)));
  }

  commit(drafts: LogDraft[], offsets: [string, number][]) {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<CommitOutcome & { seconds: number }>((resolve, reject) => {
      this.waiting.set(id, { drafts, resolve, reject });
      this.worker.postMessage({ type: 'commit', id, drafts, offsets } satisfies WriterRequest);
    });
  }

  indexed(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.indexWaits.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'index', id } satisfies WriterRequest);
    });
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.failure) return resolve();
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ type: 'close' } satisfies WriterRequest);
      setTimeout(() => void this.worker.terminate(), 5000).unref();
    }).then(() => void this.worker.removeAllListeners());
    return this.closed;
  }
}

// How SqliteEventLog reaches its writer: a worker thread (the server) or a direct call on the
// same thread (tests and tools that open the log on ':memory:' or want no thread).
import { Worker } from 'node:worker_threads';
import type { LogDraft } from '../../core/log-entries.js';
import type { Db } from './db.js';
import { SqliteLogWriter, type CommitOutcome } from './log-writer.js';

export type WriterRequest =
  | { type: 'commit'; id: number; drafts: LogDraft[]; offsets: [string, number][] }
  | { type: 'close' };
export type WriterReply =
  | ({ type: 'committed'; id: number; seconds: number } & CommitOutcome)
  | { type: 'failed'; id: number; message: string }
  | { type: 'closed' };

export interface WriterChannel {
  /** One transaction; rejects when it could not be committed at all. */
  commit(drafts: LogDraft[], offsets: [string, number][]): Promise<CommitOutcome & { seconds: number }>;
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
    { resolve: (o: CommitOutcome & { seconds: number }) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  private closed: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(deps: { file: string; writeStore: boolean }) {
    this.worker = new Worker(workerUrl(), { workerData: { file: deps.file, writeStore: deps.writeStore } });
    this.worker.on('message', (reply: WriterReply) => {
      if (reply.type === 'closed') return;
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.type === 'committed') waiter?.resolve(reply);
      else waiter?.reject(new Error(reply.message));
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`log writer thread exited (${code})`)));
  }

  commit(drafts: LogDraft[], offsets: [string, number][]) {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<CommitOutcome & { seconds: number }>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'commit', id, drafts, offsets } satisfies WriterRequest);
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

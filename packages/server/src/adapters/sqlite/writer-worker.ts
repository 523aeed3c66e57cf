// The embedded log's writer thread: commits (and their fsync) run here, so the event loop that
// serves sockets keeps reading the next batch while the previous one reaches the disk. The search
// index follows the commits (deferred-index.ts): INDEX_IDLE_MS after the commit that left messages
// for it (between commits, sooner past INDEX_BATCH), or at once when a search asks for it.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './db.js';
import { SqliteLogWriter } from './log-writer.js';
import { slim, type WriterReply, type WriterRequest } from './writer-channel.js';

const INDEX_BATCH = 2048;
const INDEX_IDLE_MS = 20;

const { file, writeStore } = workerData as { file: string; writeStore: boolean };
const db = openDatabase(file);
const writer = new SqliteLogWriter({ db, writeStore, deferIndex: true });
let idle: NodeJS.Timeout | null = null;

function indexNow(): void {
  if (idle) clearTimeout(idle);
  idle = null;
  writer.indexNow();
}

/** Between commits. A failure (the other connection held the lock past busy_timeout) keeps the queue for a retry. */
function indexSoon(delay: number): void {
  idle ??= setTimeout(() => {
    idle = null;
    try {
      writer.indexNow();
    } catch {
      indexSoon(INDEX_IDLE_MS * 10);
    }
  }, delay);
}

parentPort!.on('message', (request: WriterRequest) => {
  if (request.type === 'close') {
    try {
      indexNow();
    } finally {
      db.close();
      parentPort!.postMessage({ type: 'closed' } satisfies WriterReply);
      parentPort!.close();
    }
    return;
  }
  if (request.type === 'index') {
    try {
      indexNow();
      parentPort!.postMessage({ type: 'indexed', id: request.id } satisfies WriterReply);
    } catch (error) {
      parentPort!.postMessage({ type: 'failed', id: request.id, message: String(error) } satisfies WriterReply);
    }
    return;
  }
  const started = performance.now();
  try {
    const outcome = writer.commit(request.drafts, request.offsets);
    parentPort!.postMessage({
      type: 'committed',
      id: request.id,
      outcomes: slim(outcome),
      seconds: (performance.now() - started) / 1000,
    } satisfies WriterReply);
  } catch (error) {
    parentPort!.postMessage({
      type: 'failed',
      id: request.id,
      message: error instanceof Error ? error.message : String(error),
    } satisfies WriterReply);
  }
  // After the reply: the acknowledgement never waits for the index.
  if (writer.unindexed >= INDEX_BATCH) indexSoon(0);
  else if (writer.unindexed > 0) indexSoon(INDEX_IDLE_MS);
});

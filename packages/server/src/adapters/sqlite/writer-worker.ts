// The embedded log's writer thread: commits (and their fsync) run here, so the event loop that
// serves sockets keeps reading the next batch while the previous one reaches the disk.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './db.js';
import { SqliteLogWriter } from './log-writer.js';
import { slim, type WriterReply, type WriterRequest } from './writer-channel.js';

const { file, writeStore } = workerData as { file: string; writeStore: boolean };
const db = openDatabase(file);
const writer = new SqliteLogWriter({ db, writeStore });

parentPort!.on('message', (request: WriterRequest) => {
  if (request.type === 'close') {
    db.close();
    parentPort!.postMessage({ type: 'closed' } satisfies WriterReply);
    parentPort!.close();
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
});

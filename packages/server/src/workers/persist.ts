// Persister worker: pulls the log in order and writes the store, idempotently. Only backends whose
// log commit does not already write the store (cluster) run it. Because it acknowledges a batch
// only after the store committed it, and handles one partition's records in order, the store
// always holds a gap-free prefix of each conversation's log.
import type { EventLog, Subscription } from '../core/messages/event-log.js';
import type { Store } from '../core/store.js';
import type { Logger } from '../observability/logger.js';

export class PersisterWorker {
  private readonly log: EventLog;
  private readonly store: Store;
  private readonly logger: Logger;
  private subscription: Subscription | null = null;

  constructor(deps: { log: EventLog; store: Store; logger: Logger }) {
    this.log = deps.log;
    this.store = deps.store;
    this.logger = deps.logger;
  }

  async start(): Promise<void> {
    this.subscription = await this.log.subscribe('persister', async (records) => {
      try {
        await this.store.apply(records);
      } catch (error) {
        // Thrown back to the log so the batch is redelivered: nothing is skipped.
        this.logger.warn({ err: error, count: records.length }, 'persisting a batch failed; it will be retried');
        throw error;
      }
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}

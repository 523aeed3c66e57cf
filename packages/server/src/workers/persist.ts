// Persister worker: pulls the log in order and writes the store, idempotently. Only backends whose
// log commit does not already write the store (cluster) run it. Because it acknowledges a batch
// only after the store committed it, and handles one partition's records in order, the store
// always holds a gap-free prefix of each conversation's log.
//
// A batch that fails is retried whole, so a store that is down or busy costs time, never records.
// A record whose data the store refuses for good (RecordRefused) would stop its partition forever
// that way: the batch is then applied record by record, and each refused record is quarantined
// (kept aside in the store, logged and counted) so the partition goes on. A flood of refusals is
// more likely a fault of the store or of this code (a bad deploy) than bad records: past a few a
// minute the persister stops quarantining and retries instead, so a systemic fault stalls the
// partitions (nothing lost, resumes once fixed) rather than diverting every record.
//
// Once a delete-for-everyone is applied, the deleted text is erased from the log too (LogErasure):
// the store's tombstone is then the only record. An erasure that fails fails the batch (retried).
import type { LogRecord } from '../core/log-entries.js';
import type { EventLog, Subscription } from '../core/messages/event-log.js';
import { RecordRefused, type RecordSink } from '../core/messages/record-sink.js';
import type { LogErasure } from '../core/messages/log-erasure.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { withRecordSpans } from '../observability/tracing.js';

export class PersisterWorker {
  private readonly log: EventLog;
  private readonly store: Pick<RecordSink, 'apply' | 'quarantine'>;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly maxQuarantinedPerMinute: number;
  private readonly erasure: Pick<LogErasure, 'eraseMessages'> | undefined;
  private readonly batchSize: number;
  /** When the recent quarantines happened (ms), oldest first. */
  private readonly recent: number[] = [];
  private subscription: Subscription | null = null;

  constructor(deps: {
    log: EventLog;
    recordSink: Pick<RecordSink, 'apply' | 'quarantine'>;
    logger: Logger;
    metrics: Metrics;
    maxQuarantinedPerMinute?: number;
    /** Where the log keeps records after they are stored: erases deleted messages' text from it. */
    erasure?: Pick<LogErasure, 'eraseMessages'>;
    /** Records of one partition per store transaction at most (benchmarks vary it). */
    batchSize?: number;
  }) {
    this.erasure = deps.erasure;
    this.batchSize = deps.batchSize ?? PERSIST_BATCH;
    this.log = deps.log;
    this.store = deps.recordSink;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    this.maxQuarantinedPerMinute = deps.maxQuarantinedPerMinute ?? MAX_QUARANTINED_PER_MINUTE;
  }

  async start(): Promise<void> {
    this.subscription = await this.log.subscribe('persister', (records) => this.handle(records), {
      batchSize: this.batchSize,
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  async handle(records: LogRecord[]): Promise<void> {
    await withRecordSpans('persist', records, () => this.persist(records));
  }

  private async persist(records: LogRecord[]): Promise<void> {
    try {
      await this.store.apply(records);
      await this.eraseDeleted(records);
      return;
    } catch (error) {
      if (!(error instanceof RecordRefused)) {
        // Thrown back to the log so the batch is redelivered: nothing is skipped.
        this.logger.warn({ err: error, count: records.length }, 'persisting a batch failed; it will be retried');
        throw error;
      }
    }
    // Record by record, in order (applying is idempotent, so what this batch already wrote is a replay).
    for (const record of records) {
      try {
        await this.store.apply([record]);
        await this.eraseDeleted([record]);
      } catch (error) {
        if (!(error instanceof RecordRefused)) {
          this.logger.warn({ err: error, pos: record.pos }, 'persisting a record failed; its batch will be retried');
          throw error;
        }
        const now = Date.now();
        while (this.recent.length > 0 && now - this.recent[0]! > 60_000) this.recent.shift();
        if (this.recent.length >= this.maxQuarantinedPerMinute) {
          this.logger.error(
            { err: error, pos: record.pos, type: record.type, quarantinedLastMinute: this.recent.length },
            'the store refuses too many records to quarantine them all (a systemic fault?); retrying instead',
          );
          throw error;
        }
        this.recent.push(now);
        await this.store.quarantine(record, error.message);
        this.metrics.recordsQuarantined.inc({ type: record.type });
        this.logger.error(
          { err: error, pos: record.pos, conversationId: record.conversationId, type: record.type },
          'the store refused a log record for good; it is quarantined and the persister goes on',
        );
      }
    }
  }

  /** Erases from the log the text of the messages these (applied) records deleted for everyone. */
  private async eraseDeleted(records: LogRecord[]): Promise<void> {
    if (!this.erasure) return;
    const deleted = new Map<string, string[]>();
    for (const r of records) {
      if (r.type !== 'message.deleted' || r.for !== 'everyone') continue;
      const ids = deleted.get(r.conversationId) ?? [];
      ids.push(r.messageId);
      deleted.set(r.conversationId, ids);
    }
    for (const [conversationId, ids] of deleted) await this.erasure.eraseMessages(conversationId, ids);
  }
}

/**
 * Records of one partition per store transaction at most (the log's readers hand over what is
 * buffered, so this only matters under a backlog): a multi-row write costs less per message the
 * more it holds (bench/run.js commit --backend=cluster: 98 µs of PostgreSQL CPU per message at
 * 100, 70 at 1,000), and a backlog drains sooner.
 */
const PERSIST_BATCH = 500;

/** Quarantines per minute past which refusals are retried instead (see the top of this file). */
const MAX_QUARANTINED_PER_MINUTE = 20;

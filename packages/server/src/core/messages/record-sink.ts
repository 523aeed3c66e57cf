// RecordSink: where the persister writes log records into the store, and where the records the
// store refused for good are kept aside.
import type { LogRecord } from '../log-entries.js';

/**
 * Thrown by `apply` when the store refuses a record's data for good (say, text its database cannot
 * hold): unlike a store that is down or busy, retrying can never succeed. The persister then
 * quarantines that record instead of stopping its partition on it.
 */
export class RecordRefused extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecordRefused';
  }
}

/** A record the store refused (see RecordRefused), kept as it came from the log. */
export interface QuarantinedRecord {
  pos: number;
  conversationId: string;
  type: LogRecord['type'];
  /** The record as JSON. */
  record: string;
  reason: string;
  at: string;
}

export interface RecordSink {
  /**
   * Writes the records in one transaction, idempotent per record (replaying a record changes
   * nothing). Throws RecordRefused when the data itself is refused; anything else is worth retrying.
   */
  apply(records: LogRecord[]): Promise<void>;
  /** Keeps a refused record aside (idempotent per conversation and pos); readers never see it. */
  quarantine(record: LogRecord, reason: string): Promise<void>;
  /** The quarantined records, oldest first: for operators and tests. */
  quarantined(limit: number): Promise<QuarantinedRecord[]>;
}

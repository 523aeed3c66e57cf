// EventLog: the durable, ordered log every state change goes through (the seed's Kafka).
import type { Message } from '@messenger/protocol';
import type { LogDraft, LogRecord } from '../log-entries.js';

export type AppendResult =
  | { duplicate: false; record: LogRecord }
  /**
   * A message.created whose senderId:clientMsgId was appended before; the original seq and id, and
   * the original as logged when the log has it at hand (it may have been edited or deleted since).
   */
  | { duplicate: true; seq: number; messageId: string; logged?: Message };

/** One partition of the log, as a durable consumer stands in it. */
export interface PartitionPosition {
  /** Entries appended that the consumer has not completed. */
  pending: number;
  /** The last position it completed (its ack floor). */
  done: number;
}

export type LogHandler = (records: LogRecord[]) => Promise<void> | void;

export interface Subscription {
  stop(): Promise<void>;
}

export interface EventLog {
  /**
   * Appends one entry. Resolves only once the entry is durable (fsync'd or replicated): the
   * caller may acknowledge after that. A message.created gets a seq greater than every earlier
   * seq of its conversation (gaps allowed), and is deduplicated on senderId:clientMsgId for
   * good, not for a time window. Rejects with AppError('unavailable') when the log is down.
   */
  append(draft: LogDraft): Promise<AppendResult>;
  /**
   * Hands records to `handler` in log order per conversation, at least once. A durable consumer's
   * handler may run concurrently for different partitions (never for one conversation). A named durable
   * consumer resumes after the last batch its handler completed; `from: 'now'` starts at the
   * tail and keeps no position (live fan-out to sockets, whose clients catch up on reconnect).
   * `startAt` places a durable consumer that has no position yet: at the log's beginning (default;
   * the persister must see everything) or at its tail (notifications about old messages are noise).
   * `batchSize` caps the records of one partition handed over at once, where the log batches.
   */
  subscribe(
    consumer: string,
    handler: LogHandler,
    opts?: { from?: 'durable' | 'now'; startAt?: 'beginning' | 'tail'; batchSize?: number },
  ): Promise<Subscription>;
  /**
   * Where a durable consumer (not the log's own commit) writes the store: resolves true once
   * `consumer` has completed every entry of the conversation (`null`: of the whole log) appended
   * before the call, false if it has not within `timeoutMs`. Logs whose commit writes the store
   * need not have it.
   */
  caughtUp?(consumer: string, conversationId: string | null, timeoutMs: number): Promise<boolean>;
  /**
   * Logs that keep records after the store applied them (a cluster's JetStream): erases the text
   * of these messages of one conversation (their creation and every edit), idempotently. Logs
   * whose records are the store itself need not have it.
   */
  erase?(conversationId: string, messages: { id: string; seq: number }[]): Promise<void>;
  /** Partitioned logs: where `consumer` stands in each partition, in partition order (for the store's lag). */
  positions?(consumer: string): Promise<PartitionPosition[]>;
  /** Partitioned logs: the partition that holds a conversation's entries. */
  partitionOf?(conversationId: string): number;
  /** Entries each named durable consumer has not completed yet (for /metrics); 0 when caught up. */
  lag(consumers: string[]): Promise<Record<string, number>>;
  close(): Promise<void>;
}

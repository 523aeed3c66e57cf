// How far a durable consumer got through the log: whether it completed what the log held when
// asked (polled until a deadline, through NATS nodes losing their leaders), its position in each
// partition, and its lag.
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import type { PartitionPosition } from '../../core/messages/event-log.js';
import type { Logger } from '../../observability/logger.js';
import { logStream, logSubject, partitionOf, token } from './subjects.js';
import { withTimeout } from './timeout.js';

export interface ProgressDeps {
  jsm: JetStreamManager;
  logger: Logger;
  streamPrefix: string;
  partitions: number;
  /** Asked while polling: a closed log stops waiting. */
  isClosed(): boolean;
}

/** False when the consumer has not completed the entries appended before the call by the deadline. */
export async function consumerCaughtUp(
  deps: ProgressDeps,
  consumer: string,
  conversationId: string | null,
  timeoutMs: number,
): Promise<boolean> {
  const partitions =
    conversationId === null
      ? Array.from({ length: deps.partitions }, (_, p) => p)
      : [partitionOf(conversationId, deps.partitions)];
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1, deadline - Date.now());
  // A stream or consumer without a leader (a NATS node just died) answers nothing for a while:
  // each step is retried until the deadline rather than giving up (or hanging) on the first.
  const persist = async <T>(step: () => Promise<T>): Promise<T | undefined> => {
    for (;;) {
      try {
        return await withTimeout(step(), left());
      } catch (error) {
        if (Date.now() >= deadline || deps.isClosed()) {
          deps.logger.warn({ err: error, consumer }, 'cannot tell whether a consumer caught up');
          return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  const targets = await Promise.all(
    partitions.map(async (partition) => {
      const stream = logStream(deps.streamPrefix, partition);
      const last = await persist(async () => {
        if (conversationId === null) return (await deps.jsm.streams.info(stream)).state.last_seq;
        const found = await deps.jsm.streams
          .getMessage(stream, { last_by_subj: logSubject(deps.streamPrefix, partition, conversationId) })
          .catch((error: unknown) => {
            if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
            throw error;
          });
        return found?.seq ?? 0;
      });
      return { stream, last };
    }),
  );
  if (targets.some((t) => t.last === undefined)) return false;
  let waiting = targets.filter((t) => t.last! > 0);
  for (;;) {
    const floors = await Promise.all(
      waiting.map((t) =>
        persist(async () => {
          const info = await deps.jsm.consumers.info(t.stream, token(consumer));
          // Nothing left to deliver or acknowledge is everything done, even with an ack floor
          // below the stream's start (a stream that begins past 1, as a migrated one does, and
          // a consumer that has not acknowledged anything yet report floor 0).
          return info.num_pending + info.num_ack_pending === 0 ? Number.POSITIVE_INFINITY : info.ack_floor.stream_seq;
        }),
      ),
    );
    if (floors.some((f) => f === undefined)) return false;
    waiting = waiting.filter((t, i) => floors[i]! < t.last!);
    if (waiting.length === 0) return true;
    if (Date.now() >= deadline || deps.isClosed()) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Per partition: what `consumer` has not completed and its ack floor (one consumer info request each). */
export async function consumerPositions(deps: ProgressDeps, consumer: string): Promise<PartitionPosition[]> {
  return Promise.all(
    Array.from({ length: deps.partitions }, async (_, p) => {
      const info = await deps.jsm.consumers.info(logStream(deps.streamPrefix, p), token(consumer));
      return { pending: info.num_pending + info.num_ack_pending, done: info.ack_floor.stream_seq };
    }),
  );
}

/** Per consumer, over every partition: pending + delivered-but-unacked; the whole stream if it never started. */
export async function consumerLag(deps: ProgressDeps, consumers: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const consumer of consumers) {
    let total = 0;
    for (let p = 0; p < deps.partitions; p++) {
      const stream = logStream(deps.streamPrefix, p);
      try {
        const info = await deps.jsm.consumers.info(stream, token(consumer));
        total += info.num_pending + info.num_ack_pending;
      } catch {
        total += (await deps.jsm.streams.info(stream).catch(() => null))?.state.messages ?? 0;
      }
    }
    out[consumer] = total;
  }
  return out;
}

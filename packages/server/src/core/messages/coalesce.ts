// Group commit for log consumers: a log read in partitions hands a consumer one batch per partition,
// and each batch pays the consumer's fixed costs (a store transaction, a route lookup, a bus message
// per gateway). coalesce() runs one handler call at a time and merges the batches that arrived while
// it ran into the next call. At low load nothing waits and nothing changes; under load the calls get
// fewer and bigger instead of more and smaller.
import type { LogHandler } from './event-log.js';
import type { LogRecord } from '../log-entries.js';

interface Waiting {
  records: LogRecord[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Wraps `handler` so that calls never overlap: a call made while another runs waits, and all calls
 * waiting when it ends run as one, their records concatenated in call order. Each caller's promise
 * settles with the call its records went into (a failure fails every batch in it, to be retried by
 * its partition). Callers that never overlap (one partition, or a reader that waits for its handler)
 * keep their own order; records of different callers are of different partitions.
 */
export function coalesce(handler: LogHandler): LogHandler {
  let waiting: Waiting[] = [];
  let running = false;

  const drain = async () => {
    running = true;
    while (waiting.length > 0) {
      const group = waiting;
      waiting = [];
      try {
        await handler(group.length === 1 ? group[0]!.records : group.flatMap((w) => w.records));
        for (const w of group) w.resolve();
      } catch (error) {
        for (const w of group) w.reject(error);
      }
    }
    running = false;
  };

  return (records) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ records, resolve, reject });
      if (!running) void drain();
    });
}

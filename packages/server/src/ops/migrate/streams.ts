// The log side of `npm run migrate`: in cluster mode a message's seq is its sequence in its
// partition's JetStream stream, so each stream must go on above the highest seq of every migrated
// conversation it owns. An empty stream is purged up to that point (JetStream then numbers the next
// message from it, on 2.9 as on 2.10), and durable consumers made later start there too. A stream
// is only ever raised; one that already took messages below the point is a deployment in use.
import { jetstreamManager } from '@nats-io/jetstream';
import type { Config } from '../../config/config.js';
import { JetStreamEventLog } from '../../adapters/nats/event-log.js';
import { connectNats } from '../../adapters/nats/connection.js';
import { logStream, partitionOf } from '../../adapters/nats/subjects.js';
import type { Logger } from '../../observability/logger.js';

export interface StreamResult {
  stream: string;
  /** The highest seq of a migrated conversation in this partition. */
  needed: number;
  /** The stream's last sequence after the run: the next message gets last + 1. */
  last: number;
  raised: boolean;
}

/** Per partition, the highest seq any of its conversations reached. */
export function neededPositions(conversations: { id: string; lastSeq: number }[], partitions: number): number[] {
  const needed = new Array<number>(partitions).fill(0);
  for (const c of conversations) {
    const p = partitionOf(c.id, partitions);
    needed[p] = Math.max(needed[p]!, c.lastSeq);
  }
  return needed;
}

export async function raiseStreams(
  config: Readonly<Config>,
  logger: Logger,
  needed: number[],
): Promise<StreamResult[]> {
  const nc = await connectNats(config.natsUrl!, 'messenger-migrate');
  try {
    // The log itself makes the streams, with the configuration every process expects of them.
    const log = await JetStreamEventLog.open({
      servers: config.natsUrl!,
      connection: nc,
      logger,
      streamPrefix: config.logStreamPrefix,
      partitions: config.logPartitions,
      replicas: config.logReplicas,
      maxAgeMs: config.logMaxAgeMs,
    });
    await log.close();
    const jsm = await jetstreamManager(nc);
    const results: StreamResult[] = [];
    for (let p = 0; p < needed.length; p++) {
      const stream = logStream(config.logStreamPrefix, p);
      const want = needed[p]!;
      const { state } = await jsm.streams.info(stream);
      if (state.last_seq >= want) {
        results.push({ stream, needed: want, last: state.last_seq, raised: false });
        continue;
      }
      if (state.messages > 0)
        throw new Error(
          `stream ${stream} already holds messages up to ${state.last_seq}, below the migrated ${want}: ` +
            'migrate into a deployment that has not taken messages yet',
        );
      await jsm.streams.purge(stream, { seq: want + 1 });
      const after = (await jsm.streams.info(stream)).state;
      if (after.last_seq < want)
        throw new Error(
          `stream ${stream} did not move to ${want} (it is at ${after.last_seq}): is nats-server >= 2.9?`,
        );
      results.push({ stream, needed: want, last: after.last_seq, raised: true });
    }
    return results;
  } finally {
    await nc.drain().catch(() => nc.close());
  }
}

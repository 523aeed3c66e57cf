// The log's partition streams: the configuration each is made with, and creating it on open or
// updating the settings an existing stream may change.
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { logStream, logSubjects } from './subjects.js';

export interface StreamOptions {
  streamPrefix: string;
  replicas: number;
  duplicateWindowMs: number;
  maxAgeMs: number;
}

export function streamConfig(opts: StreamOptions, partition: number): Partial<StreamConfig> & { name: string } {
  return {
    name: logStream(opts.streamPrefix, partition),
    subjects: [logSubjects(opts.streamPrefix, partition)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: opts.replicas,
    duplicate_window: nanos(opts.duplicateWindowMs),
    max_age: nanos(opts.maxAgeMs),
    // Deleted messages are erased from the log once the store applied the deletion (erase).
    deny_delete: false,
    allow_rollup_hdrs: false,
  };
}

export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    const info = await jsm.streams.info(config.name);
    const { subjects, num_replicas, duplicate_window, max_age } = config;
    const current = info.config;
    // deny_delete cannot be lifted from an existing stream (JetStream refuses): max_age can bound it.
    if (
      current.num_replicas !== num_replicas ||
      current.duplicate_window !== duplicate_window ||
      current.max_age !== max_age ||
      current.subjects.join() !== subjects!.join()
    ) {
      await jsm.streams.update(config.name, {
        ...current,
        subjects: subjects!,
        num_replicas: num_replicas!,
        duplicate_window: duplicate_window!,
        max_age: max_age!,
      });
    }
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.StreamNotFound) throw error;
    await jsm.streams.add(config);
  }
}

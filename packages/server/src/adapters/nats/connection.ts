// Connecting to NATS: the one place that turns "cannot reach the server" into AppError('unavailable').
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { unavailable } from '../../domain/errors.js';

/** `servers` is a comma-separated list (nats://host:4222,...). Keeps reconnecting forever after the first connect. */
export async function connectNats(servers: string, name: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers: servers
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      name,
      timeout: 5_000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      // Otherwise every request (each JetStream publish) allocates two errors with stack traces up
      // front, in case it fails: measured at ~4% of a cluster server's CPU. Our logs name the call.
      noAsyncTraces: true,
    });
  } catch (error) {
    throw Object.assign(unavailable(`cannot reach NATS at ${servers}`), { cause: error });
  }
}

// Connecting to NATS: the one place that turns "cannot reach the server" into AppError('unavailable').
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { unavailable } from '../../domain/errors.js';

/**
 * The server URLs of `servers` (comma-separated) without their userinfo, and the user and password
 * the first one carries (nats://gateway:secret@host:4222): nats.js does not read credentials from
 * a URL, and the deployment's NATS refuses clients without them (deploy/nats/auth.conf).
 */
export function natsServers(servers: string): { urls: string[]; user?: string; pass?: string } {
  let user: string | undefined;
  let pass: string | undefined;
  const urls = servers
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^([a-z]+:\/\/)([^@/]*)@(.*)$/iu.exec(s);
      if (!m) return s;
      const [name, secret] = m[2]!.split(/:(.*)/su);
      if (user === undefined && name) {
        user = decodeURIComponent(name);
        if (secret !== undefined) pass = decodeURIComponent(secret);
      }
      return m[1]! + m[3]!;
    });
  return { urls, ...(user !== undefined ? { user } : {}), ...(pass !== undefined ? { pass } : {}) };
}

/** `servers` is a comma-separated list (nats://host:4222,...). Keeps reconnecting forever after the first connect. */
export async function connectNats(servers: string, name: string): Promise<NatsConnection> {
  const { urls, user, pass } = natsServers(servers);
  try {
    return await connect({
      servers: urls,
      ...(user !== undefined ? { user, pass: pass ?? '' } : {}),
      name,
      timeout: 5_000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      // Otherwise every request (each JetStream publish) allocates two errors with stack traces up
      // front, in case it fails: measured at ~4% of a cluster server's CPU. Our logs name the call.
      noAsyncTraces: true,
    });
  } catch (error) {
    throw Object.assign(unavailable(`cannot reach NATS at ${urls.join(',')}`), { cause: error });
  }
}

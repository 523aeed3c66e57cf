// Connecting to Redis: commands fail fast while Redis is down (AppError('unavailable')) instead of
// queueing forever; the client keeps reconnecting in the background.
// Auto-pipelining: the single commands (and scripts) issued in one event-loop turn leave as one
// pipeline, one write and one read, and the next batch waits for that one. A gateway accepting
// hundreds of sockets per second, or refreshing 19,000 routes and devices per heartbeat, would
// otherwise pay a write syscall and a reply read per user (and Redis a read per user).
import { Redis } from 'ioredis';
import { AppError, unavailable } from '../../domain/errors.js';

export interface RedisDeps {
  /** redis://host:6379/0. Ignored when `client` is given (then the caller owns and closes it). */
  url: string;
  client?: Redis;
  /** Prepended to every key, e.g. `msg:`; lets several deployments (or tests) share one Redis. */
  keyPrefix?: string;
}

export function connectRedis(deps: RedisDeps): { redis: Redis; owned: boolean } {
  if (deps.client) return { redis: deps.client, owned: false };
  const redis = new Redis(deps.url, {
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    enableAutoPipelining: true,
  });
  // Errors surface on the commands; without a listener ioredis would also print each reconnect failure.
  redis.on('error', () => {});
  return { redis, owned: true };
}

export async function closeRedis(redis: Redis, owned: boolean): Promise<void> {
  if (!owned) return;
  await redis.quit().catch(() => redis.disconnect());
}

/** Runs Redis calls, turning any failure into AppError('unavailable'). */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw Object.assign(unavailable('redis is unavailable'), { cause: error });
  }
}

/** A pipeline's results, failing as a whole if any command failed. */
export function results(replies: [Error | null, unknown][] | null): unknown[] {
  if (!replies) throw new Error('pipeline aborted');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

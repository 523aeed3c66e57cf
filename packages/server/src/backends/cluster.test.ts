// The cluster preset against this machine's PostgreSQL, NATS JetStream and Redis (a fresh schema,
// stream prefix and key prefix, removed afterwards).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { logStream } from '../adapters/nats/subjects.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { clusterBackend } from './cluster.js';

const PG_URL = process.env.PG_TEST_URL ?? `postgres://${os.userInfo().username}@127.0.0.1:5432/test`;
const NATS_URL = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const tag = randomBytes(5).toString('hex');
const env = {
  DATABASE_URL: PG_URL,
  DATABASE_SCHEMA: `cb_${tag}`,
  NATS_URL,
  REDIS_URL,
  LOG_STREAM_PREFIX: `cb${tag}`,
  LOG_PARTITIONS: '1',
  REDIS_KEY_PREFIX: `test:cb${tag}:`,
  ROLES: 'gateway',
};

afterAll(async () => {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${env.DATABASE_SCHEMA} CASCADE`).finally(() => admin.end());
  const nc = await connect({ servers: NATS_URL });
  await (await jetstreamManager(nc)).streams.delete(logStream(env.LOG_STREAM_PREFIX, 0)).catch(() => false);
  await nc.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${env.REDIS_KEY_PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('cluster backend', () => {
  it("registers a socket's route and device over one Redis connection, in one write", async () => {
    const backend = await clusterBackend({
      config: loadConfig(env),
      logger: createLogger('silent'),
      metrics: createMetrics(),
    });
    try {
      const shared = (backend.routes as unknown as { redis: Redis }).redis;
      expect((backend.presence as unknown as { redis: Redis }).redis).toBe(shared);
      await Promise.all([
        backend.routes.add('u_warm', 'g_1', 1000),
        backend.presence.setDevice('u_warm', 'd1', 'online', 1000),
      ]);
      const stream = (shared as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream;
      const write = stream.write.bind(stream);
      let writes = 0;
      stream.write = (...a: unknown[]) => (writes++, write(...a));
      // What the gateway's attach issues for a socket that authenticated.
      await Promise.all([
        backend.routes.add('u_1', 'g_1', 30_000),
        backend.presence.setDevice('u_1', 'd1', 'online', 30_000),
      ]);
      expect(writes).toBe(1); // was 2: one per adapter's own connection
      expect((await backend.routes.lookup(['u_1'])).get('u_1')).toEqual(['g_1']);
      expect((await backend.presence.get(['u_1'])).get('u_1')).toEqual({ status: 'online', lastSeenAt: null });
    } finally {
      await Promise.all([backend.presence.close(), backend.routes.close(), backend.bus.close(), backend.log.close()]);
      await backend.close();
    }
  }, 30_000);
});

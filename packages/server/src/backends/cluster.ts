// The cluster backend, the seed's distributed design: PostgreSQL (users, conversations and the
// Cassandra-shaped message store), NATS JetStream (the durable log, pulled by the persister and
// fan-out), NATS core (server-to-gateway push), Redis (presence and user -> gateway routes).
// Loaded lazily by the composition root, so embedded mode never loads pg, nats or ioredis.
import webpush from 'web-push';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Config, Role } from '../config/config.js';
import { DiskBlobStore } from '../adapters/disk/blob-store.js';
import { JetStreamEventLog } from '../adapters/nats/event-log.js';
import { connectNats } from '../adapters/nats/connection.js';
import { NatsGatewayBus } from '../adapters/nats/gateway-bus.js';
import { NatsRevocations } from '../adapters/nats/revocations.js';
import { PostgresAccountStore } from '../adapters/postgres/account-store.js';
import { PostgresCredentials } from '../adapters/postgres/credentials.js';
import { openPool } from '../adapters/postgres/pool.js';
import { migrateAtStart } from '../adapters/postgres/schema-version.js';
import { PostgresPushSubscriptions } from '../adapters/postgres/push-subscriptions.js';
import { PostgresSettings } from '../adapters/postgres/settings.js';
import { PostgresStore } from '../adapters/postgres/store.js';
import { RedisAttemptLimiter } from '../adapters/redis/attempt-limiter.js';
import { closeRedis, connectRedis } from '../adapters/redis/client.js';
import { RedisPresence } from '../adapters/redis/presence.js';
import { RedisRoutes } from '../adapters/redis/routes.js';
import { S3BlobStore } from '../adapters/s3/blob-store.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Backend } from './backend.js';

/**
 * PostgreSQL connections per process when DATABASE_POOL_SIZE is not set, by role (the budget in
 * docs/scaling.md): the persister's batched writes and the gateway's reads want a few each, the
 * fan-out and the notifier fewer. A process with several roles gets their sum. PostgreSQL allows
 * 100 connections by default; seven processes of 20 each would have asked for 140.
 */
const POOL_PER_ROLE: Record<Role, number> = { gateway: 5, persister: 8, fanout: 4, notifier: 3 };

function defaultPoolSize(roles: readonly Role[]): number {
  return roles.reduce((sum, role) => sum + POOL_PER_ROLE[role], 0);
}

export async function clusterBackend(deps: {
  config: Readonly<Config>;
  logger: Logger;
  metrics: Metrics;
}): Promise<Backend> {
  const { config, logger } = deps;
  if (!config.databaseUrl || !config.natsUrl || !config.redisUrl) {
    throw new Error('cluster mode needs DATABASE_URL, NATS_URL and REDIS_URL together');
  }
  const { pool, schema } = openPool({
    connectionString: config.databaseUrl,
    maxConnections: config.databasePoolSize ?? defaultPoolSize(config.roles),
    ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    ...(config.databasePooler ? { pooler: config.databasePooler } : {}),
  });
  await migrateAtStart({ pool, schema, migrationUrl: config.databaseMigrationUrl });
  const store = new PostgresStore({ pool });
  const nc = await connectNats(config.natsUrl, `messenger-${config.roles.join('+')}`);
  const log = await JetStreamEventLog.open({
    servers: config.natsUrl,
    connection: nc,
    logger: logger.child({ component: 'log' }),
    streamPrefix: config.logStreamPrefix,
    partitions: config.logPartitions,
    replicas: config.logReplicas,
    maxAgeMs: config.logMaxAgeMs,
    // The store's unique key on sender + clientMsgId is the lasting dedup authority.
    lookupDuplicate: async (senderId, clientMsgId) => {
      const found = await store.messages.messageKey(senderId, clientMsgId);
      return found ? { seq: found.seq, messageId: found.messageId } : null;
    },
  });
  const bus = await NatsGatewayBus.open({
    servers: config.natsUrl,
    connection: nc,
    logger: logger.child({ component: 'bus' }),
    scope: config.logStreamPrefix,
  });
  // One Redis connection for presence and routes: a socket's route and device registrations (and a
  // heartbeat slice's) leave in one auto-pipelined write and come back in one read, not two.
  const redis = connectRedis({ url: config.redisUrl });
  const presence = new RedisPresence({ url: config.redisUrl, client: redis.redis, keyPrefix: config.redisKeyPrefix });
  const routes = new RedisRoutes({ url: config.redisUrl, client: redis.redis, keyPrefix: config.redisKeyPrefix });
  const settings = new PostgresSettings({ pool });
  const vapid = await settings.getOrCreate('vapid', () => webpush.generateVAPIDKeys());
  const mediaSecret = await settings.getOrCreate('media-url-secret', () => randomBytes(32).toString('base64url'));
  if (!config.s3) logger.warn('S3_BUCKET is not set: uploads stay on this disk, and other gateways cannot serve them');
  const blobs = config.s3
    ? await S3BlobStore.open(config.s3)
    : new DiskBlobStore({ dir: path.join(config.dataDir, 'uploads') });

  return {
    name: 'cluster',
    userStore: store.users,
    presenceVisibility: store.users,
    people: store.people,
    conversationStore: store.conversations,
    memberStanding: store.conversations,
    blocks: store.blocks,
    reports: store.reports,
    suspensions: store.suspensions,
    messageStore: store.messages,
    messageSearch: store.search,
    recordSink: store.records,
    log,
    presence,
    routes,
    bus,
    pushSubscriptions: new PostgresPushSubscriptions({ pool }),
    credentials: new PostgresCredentials({ pool }),
    accountStore: new PostgresAccountStore({ pool }),
    attempts: new RedisAttemptLimiter({ url: config.redisUrl, client: redis.redis, keyPrefix: config.redisKeyPrefix }),
    revocations: new NatsRevocations({
      connection: nc,
      logger: logger.child({ component: 'revocations' }),
      scope: config.logStreamPrefix,
    }),
    blobs,
    uploads: store.uploads,
    mediaSecret: async () => mediaSecret,
    vapidKeys: async () => vapid,
    readiness: {
      postgres: () => store.ping(),
      nats: async () => {
        if (nc.isClosed()) throw new Error('closed');
        await nc.flush();
      },
      redis: async () => {
        await presence.get(['readiness-probe']);
      },
      blobs: () => blobs.ping(),
    },
    inlinePersister: false,
    fanoutFrom: 'durable',
    close: async () => {
      await nc.drain().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await closeRedis(redis.redis, redis.owned);
    },
  };
}

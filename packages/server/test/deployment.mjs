// Cluster-mode test deployments on the machine's PostgreSQL, NATS JetStream and Redis: one per data
// directory (a schema, a stream prefix and a key prefix of its own), so test files run in parallel
// and a restart on the same directory reopens the same data. Plain JavaScript: the web e2e harness
// and its screenshot script (run by node without a TypeScript loader) use it too.
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/** `MESSENGER_TEST_BACKEND=cluster`: the integration tests run against cluster deployments. */
export const CLUSTER = process.env.MESSENGER_TEST_BACKEND === 'cluster';
export const PG_URL = process.env.PG_TEST_URL ?? `postgres://${os.userInfo().username}@127.0.0.1:5432/test`;
export const NATS_URL = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
/** An S3 endpoint (the test services start s3rver for cluster runs); unset keeps uploads on disk. */
export const S3_ENDPOINT = process.env.S3_TEST_ENDPOINT ?? '';

/** @param {string} dataDir @returns {{ schema: string; streamPrefix: string; keyPrefix: string; bucket: string }} */
export function deploymentOf(dataDir) {
  const id = `mt_${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)}`;
  // Bucket names allow lowercase letters, digits and hyphens only.
  return { schema: id, streamPrefix: id, keyPrefix: `${id}:`, bucket: id.replace('_', '-') };
}

/** The server's environment for the deployment of `dataDir`. @param {string} dataDir @returns {Record<string, string>} */
export function deploymentEnv(dataDir) {
  const { schema, streamPrefix, keyPrefix, bucket } = deploymentOf(dataDir);
  /** @type {Record<string, string>} */
  const s3 = S3_ENDPOINT
    ? {
        S3_ENDPOINT,
        S3_BUCKET: bucket,
        S3_REGION: 'us-east-1',
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
      }
    : {};
  return {
    DATABASE_URL: PG_URL,
    DATABASE_SCHEMA: schema,
    NATS_URL,
    LOG_STREAM_PREFIX: streamPrefix,
    REDIS_URL,
    REDIS_KEY_PREFIX: keyPrefix,
    ...s3,
  };
}

/** Drops the deployment of `dataDir`: its schema, its log streams and its Redis keys. @param {string} dataDir */
export async function dropDeployment(dataDir) {
  const { schema, streamPrefix, keyPrefix } = deploymentOf(dataDir);
  const [{ default: pg }, { Redis }, { connect }, { jetstreamManager }] = await Promise.all([
    import('pg'),
    import('ioredis'),
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
  ]);
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => db.end());
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${streamPrefix.toUpperCase()}_`)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

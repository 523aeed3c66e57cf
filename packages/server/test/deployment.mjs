// Cluster-mode test deployments on the machine's PostgreSQL, NATS JetStream and Redis: one per data
// directory (a schema, a stream prefix and a key prefix of its own), so test files run in parallel
// and a restart on the same directory reopens the same data. Plain JavaScript: the web e2e harness
// and its screenshot script (run by node without a TypeScript loader) use it too.
import { spawnSync } from 'node:child_process';
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
/**
 * `MESSENGER_TEST_PGBOUNCER=1`: every deployment reaches PostgreSQL through the PgBouncer (transaction
 * mode) that the test services start, PGBOUNCER_TEST_URL, with DATABASE_POOLER=pgbouncer.
 */
export const PGBOUNCER = process.env.MESSENGER_TEST_PGBOUNCER === '1';

function pgbouncerTestUrl() {
  const url = process.env.PGBOUNCER_TEST_URL;
  if (!url) throw new Error('MESSENGER_TEST_PGBOUNCER=1, but no PgBouncer was started (apt-get install pgbouncer)');
  return url;
}

/** @param {string} dataDir @returns {{ schema: string; streamPrefix: string; keyPrefix: string; bucket: string }} */
export function deploymentOf(dataDir) {
  const id = `mt_${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)}`;
  // Bucket names allow lowercase letters, digits and hyphens only.
  return { schema: id, streamPrefix: id, keyPrefix: `${id}:`, bucket: id.replace('_', '-') };
}

/**
 * The server's environment for the deployment of `dataDir`; with `pgbouncerUrl` (PgBouncer's URL for
 * PG_URL's database), through that PgBouncer.
 * @param {string} dataDir @param {string | null} [pgbouncerUrl] @returns {Record<string, string>}
 */
export function deploymentEnv(dataDir, pgbouncerUrl = PGBOUNCER ? pgbouncerTestUrl() : null) {
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
    ...(pgbouncerUrl ? pooledDatabase(schema, pgbouncerUrl) : { DATABASE_URL: PG_URL }),
    DATABASE_SCHEMA: schema,
    NATS_URL,
    LOG_STREAM_PREFIX: streamPrefix,
    REDIS_URL,
    REDIS_KEY_PREFIX: keyPrefix,
    ...s3,
  };
}

/**
 * Behind a transaction pooler no connection keeps a session's settings: the schema has to be the
 * role's search_path. So a pooled deployment connects as a role named after its schema, created
 * here (synchronously, with psql: deploymentEnv is synchronous). A superuser, as the tests' own user
 * is: the schema's CREATE needs a grant on the database, and many test files granting at once would
 * update one catalog row concurrently.
 * @param {string} schema @param {string} pgbouncerUrl
 */
function pooledDatabase(schema, pgbouncerUrl) {
  const sql = `DO $$ BEGIN CREATE ROLE ${schema} LOGIN SUPERUSER; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
    ALTER ROLE ${schema} SET search_path = ${schema};
    ALTER ROLE ${schema} SET jit = off;`;
  const res = spawnSync('psql', [PG_URL, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`psql could not create the role ${schema}: ${res.stderr || res.error}`);
  const url = new URL(pgbouncerUrl);
  url.username = schema;
  return { DATABASE_URL: url.toString(), DATABASE_POOLER: 'pgbouncer' };
}

/** Drops the deployment of `dataDir`: its schema (and role), its log streams and its Redis keys. @param {string} dataDir */
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
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP ROLE IF EXISTS ${schema}`).finally(() => db.end());
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

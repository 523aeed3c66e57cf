// vitest globalSetup (vitest.config.ts): the suite needs nothing but the Debian packages the README
// lists. Tests find PostgreSQL, Redis and NATS JetStream through PG_TEST_URL, REDIS_TEST_URL and
// NATS_TEST_URL, which default to the machine's shared services (127.0.0.1:5432 database `test`,
// :6379, :4222 with JetStream). For each variable left unset whose default does not answer, this
// starts a private instance on a free port in a temp directory, sets the variable (the test workers
// inherit this process's environment) and stops the instance when the run ends. When every default
// answers it costs three local probes. A cluster run (MESSENGER_TEST_BACKEND=cluster) also gets an
// S3 endpoint, S3_TEST_ENDPOINT: an s3rver in this process, as no shared object storage exists.
//
// The modules that start services are loaded only when one is needed: the probes alone are cheap.
//
// TEST_FORCE_PRIVATE_SERVICES=postgres,redis,nats,s3 (any of them, or `all`) starts private instances
// even so, overriding the variables: the way to test this file, or to keep a run off the shared ones.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { natsInfo, redisPong } from './probes.js';

type Name = 'postgres' | 'redis' | 'nats' | 's3' | 'pgbouncer';

interface Service {
  variable: string;
  fallback: string;
  answers(url: string): Promise<boolean>;
  /** Starts a private instance in `dir`: its URL, and how to stop it. */
  start(dir: string): Promise<{ url: string; stop(): Promise<void> }>;
}

/** A process service that takes a free port and its directory: started in `dir`, stopped with kill -9. */
interface Killable {
  readonly url: string;
  start(): Promise<void>;
  kill9(): Promise<void>;
}

async function startKillable(dir: string, loading: Promise<new (port: number, dir: string) => Killable>) {
  const [{ freePort }, Service] = await Promise.all([import('../process.js'), loading]);
  const service = new Service(await freePort(), dir);
  await service.start();
  return { url: service.url, stop: () => service.kill9() };
}

const SERVICES: Record<Name, Service> = {
  postgres: {
    variable: 'PG_TEST_URL',
    fallback: `postgres://${os.userInfo().username}@127.0.0.1:5432/test`,
    answers: async (url) => {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => {});
      }
    },
    start: async (dir) => {
      const [{ freePort }, { PostgresService }] = await Promise.all([import('../process.js'), import('./postgres.js')]);
      const postgres = new PostgresService(await freePort(), dir);
      await postgres.init();
      await postgres.start();
      await postgres.createDatabase('test');
      return { url: postgres.url('test'), stop: () => postgres.stopImmediate() };
    },
  },
  redis: {
    variable: 'REDIS_TEST_URL',
    fallback: 'redis://127.0.0.1:6379',
    answers: (url) => redisPong(new URL(url)),
    start: (dir) =>
      startKillable(
        dir,
        import('./redis.js').then((m) => m.RedisService),
      ),
  },
  nats: {
    variable: 'NATS_TEST_URL',
    fallback: 'nats://127.0.0.1:4222',
    answers: async (url) => {
      const { hostname, port } = new URL(url);
      return (await natsInfo(Number(port), hostname))?.jetstream === true;
    },
    start: (dir) =>
      startKillable(
        dir,
        import('./nats.js').then((m) => m.JetStreamNode),
      ),
  },
  // Object storage for cluster-mode uploads: there is no shared one, so a cluster run always gets
  // its own s3rver (in this process; each deployment makes a bucket of its own in it).
  s3: {
    variable: 'S3_TEST_ENDPOINT',
    fallback: '(no shared S3 endpoint)',
    answers: async () => process.env.MESSENGER_TEST_BACKEND !== 'cluster',
    start: async (dir) => (await import('./s3.js')).startS3rver(dir),
  },
  // MESSENGER_TEST_PGBOUNCER=1: a PgBouncer in transaction mode for the deployments to go through
  // (deployment.mjs), in front of the PostgreSQL above; so it starts after the others.
  pgbouncer: {
    variable: 'PGBOUNCER_TEST_URL',
    fallback: '',
    answers: async () => process.env.MESSENGER_TEST_PGBOUNCER !== '1',
    start: async (dir) => {
      const [{ freePort }, { PgBouncerService }] = await Promise.all([
        import('../process.js'),
        import('./pgbouncer.js'),
      ]);
      const postgres = process.env.PG_TEST_URL ?? SERVICES.postgres.fallback;
      const pgbouncer = new PgBouncerService(await freePort(), dir, postgres);
      await pgbouncer.start();
      return { url: pgbouncer.url(), stop: () => pgbouncer.kill9() };
    },
  },
};

function forced(): Set<Name> {
  const words = (process.env.TEST_FORCE_PRIVATE_SERVICES ?? '').split(',').map((w) => w.trim());
  const names = Object.keys(SERVICES) as Name[];
  return new Set(words.includes('all') ? names : names.filter((n) => words.includes(n)));
}

export default async function setup(): Promise<() => Promise<void>> {
  const force = forced();
  const needed = await Promise.all(
    (Object.entries(SERVICES) as [Name, Service][]).map(async ([name, service]) => {
      if (force.has(name)) return name;
      if (process.env[service.variable]) return null;
      return (await service.answers(service.fallback)) ? null : name;
    }),
  );
  const names = needed.filter((n): n is Name => n !== null);
  if (names.length === 0) return async () => {};

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'messenger-test-services-'));
  // PostgreSQL runs as the `postgres` OS user when the tests run as root: it must reach its directory.
  fs.chmodSync(root, 0o755);
  const running: { name: Name; stop(): Promise<void> }[] = [];
  const teardown = async () => {
    await Promise.all(running.map((r) => r.stop().catch(() => {})));
    fs.rmSync(root, { recursive: true, force: true });
  };
  const startEach = (some: Name[]) =>
    Promise.all(
      some.map(async (name) => {
        const dir = path.join(root, name);
        fs.mkdirSync(dir);
        const service = SERVICES[name];
        const started = await service.start(dir);
        running.push({ name, stop: started.stop });
        process.env[service.variable] = started.url;
        const why = force.has(name) ? 'TEST_FORCE_PRIVATE_SERVICES' : `nothing answered at ${service.fallback}`;
        console.log(`[test services] private ${name} at ${started.url} (${why})`);
      }),
    );
  try {
    await startEach(names.filter((n) => n !== 'pgbouncer'));
    if (names.includes('pgbouncer')) await startEach(['pgbouncer']);
  } catch (error) {
    // A missing binary or a failed start: the run goes on, and the tests that need it say so.
    console.warn(`[test services] could not start a private service: ${(error as Error).message}`);
  }
  return teardown;
}

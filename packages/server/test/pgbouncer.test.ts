// A cluster deployment behind PgBouncer in transaction mode (DATABASE_POOLER=pgbouncer): every
// process's connections share two server connections, each transaction landing on whichever is
// free, so nothing may rely on session state (named prepared statements, startup options, session
// advisory locks). The whole suite can run this way too: MESSENGER_TEST_PGBOUNCER=1.
import type { Message } from '@messenger/protocol';
import { MessengerClient, type WebSocketCtor } from '@messenger/sdk';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openPool } from '../src/adapters/postgres/pool.js';
import { migrateAtStart } from '../src/adapters/postgres/schema-version.js';
import { deploymentEnv, deploymentOf, PG_URL } from './deployment.mjs';
import {
  CLUSTER,
  createGroup,
  directChat,
  fullHistory,
  sendHttp,
  signUp,
  sleep,
  startTestServer,
  storeCaughtUp,
  tempDir,
  type TestServer,
} from './harness.js';
import { freePort } from './process.js';
import { PgBouncerService } from './services/pgbouncer.js';

const POOL_SIZE = 2;

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

// Embedded mode has no PostgreSQL to pool.
describe.runIf(CLUSTER)('cluster: through PgBouncer in transaction mode', () => {
  let bouncer: PgBouncerService;
  let server: TestServer;
  let role: string;

  beforeAll(async () => {
    bouncer = new PgBouncerService(await freePort(), tempDir('messenger-pgbouncer-'), PG_URL, POOL_SIZE);
    await bouncer.start();
    const dataDir = tempDir();
    role = deploymentOf(dataDir).schema;
    const { DATABASE_URL } = deploymentEnv(dataDir, bouncer.url());
    server = await startTestServer({ dataDir, databaseUrl: DATABASE_URL!, databasePooler: 'pgbouncer' });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await bouncer?.signal('SIGTERM');
  });

  it('signs up, chats, sends, reads history, searches and catches up after a reconnect', async () => {
    const [ann, bob, cat] = await Promise.all([signUp(server.url), signUp(server.url), signUp(server.url)]);
    const direct = await directChat(ann, bob);
    const group = await createGroup(ann, [bob, cat], 'pooled');

    // Ann's app: its socket can be cut, and kept from reconnecting while messages arrive.
    let offline = false;
    const sockets: WebSocket[] = [];
    class CuttableWebSocket extends WebSocket {
      constructor(url: string) {
        super(offline ? 'ws://127.0.0.1:1/' : url);
        sockets.push(this);
      }
    }
    const app = new MessengerClient({
      baseUrl: server.urls[0]!,
      apiKey: ann.apiKey,
      WebSocket: CuttableWebSocket as unknown as WebSocketCtor,
      reconnect: { minDelayMs: 50, maxDelayMs: 300 },
    });
    const seen = new Map<string, number[]>();
    app.on('message.created', (e) =>
      seen.set(e.conversationId, [...(seen.get(e.conversationId) ?? []), e.message.seq]),
    );
    try {
      await app.connect();
      app.trackConversation(direct, 0);
      app.trackConversation(group, 0);

      // Concurrent sends from both gateways: many clients of the pool at once over two connections.
      const sent = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => sendHttp(bob, direct, `pooled hello ${i}`)),
        ...Array.from({ length: 10 }, (_, i) => sendHttp(i % 2 ? cat : bob, group, `group note ${i}`)),
      ]);
      await until(() => (seen.get(direct)?.length ?? 0) === 10 && (seen.get(group)?.length ?? 0) === 10);

      // Away: what arrives meanwhile comes back through catch-up once the socket reconnects.
      offline = true;
      for (const socket of sockets) socket.terminate();
      await until(() => app.state === 'reconnecting');
      const away = [];
      for (let i = 0; i < 5; i++) away.push(await sendHttp(bob, direct, `while away ${i}`));
      offline = false;
      await until(() => app.state === 'open');
      await until(() => (seen.get(direct)?.length ?? 0) === 15);
      const directSeqs = [...sent.slice(0, 10), ...away].map((m: Message) => m.seq).sort((a, b) => a - b);
      expect(seen.get(direct)).toEqual(directSeqs);

      await storeCaughtUp(server.url);
      expect((await fullHistory(ann, direct)).map((m) => m.seq)).toEqual(directSeqs);
      expect((await fullHistory(cat, group)).map((m) => m.body).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `group note ${i}`).sort(),
      );
      const found = await ann.call('GET', `/v1/search?q=${encodeURIComponent('away')}`);
      expect(found.status).toBe(200);
      expect(found.body.results.map((r: { message: Message }) => r.message.id).sort()).toEqual(
        away.map((m: Message) => m.id).sort(),
      );
      const chats = await cat.call('GET', '/v1/conversations');
      expect(chats.status).toBe(200);
      expect(chats.body.conversations.map((c: { id: string }) => c.id)).toEqual([group]);
    } finally {
      await app.close();
    }

    // Everything above went through at most POOL_SIZE server connections of the deployment's role.
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1',
        [role],
      );
      expect(rows[0]!.n).toBeGreaterThan(0);
      expect(rows[0]!.n).toBeLessThanOrEqual(POOL_SIZE);
    } finally {
      await db.end();
    }
  }, 60_000);

  it('a pool that sets its schema at connection start is refused: PgBouncer takes no startup options', async () => {
    const { pool } = openPool({ connectionString: bouncer.url(role), schema: role, maxConnections: 1 });
    try {
      await expect(pool.query('SELECT 1')).rejects.toThrow(/unsupported startup parameter: options/);
    } finally {
      await pool.end();
    }
  });

  it('the start names the setting to make when the role does not find its tables in the schema', async () => {
    const other = `${role}_elsewhere`;
    const { pool, schema } = openPool({
      connectionString: bouncer.url(role),
      schema: other,
      maxConnections: 2,
      pooler: 'pgbouncer',
    });
    try {
      await expect(migrateAtStart({ pool, schema, migrationUrl: null })).rejects.toThrow(
        `ALTER ROLE ${role} SET search_path = ${other}`,
      );
    } finally {
      await pool.end();
      const db = new pg.Client({ connectionString: PG_URL });
      await db.connect();
      await db.query(`DROP SCHEMA IF EXISTS ${other} CASCADE`).finally(() => db.end());
    }
  }, 60_000);
});

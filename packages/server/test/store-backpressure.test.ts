// Back-pressure of the store on sends: writers that send faster than the persister stores are
// refused (503 unavailable, Retry-After) once the store's lag passes STORE_LAG_BOUND_MS, and retry
// with the same clientMsgId as the SDK's outbox does. The lag that matters, how long the store takes
// to hold what the log held at some instant, is measured from the log's and the persister's
// positions; it stays within the bound (plus a second), and every acknowledged message is stored once.
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { PartitionPosition } from '../src/core/messages/event-log.js';
import {
  CLUSTER,
  directChat,
  fullHistory,
  persisterCaughtUp,
  serverForFile,
  signUp,
  sleep,
  type TestUser,
} from './harness.js';
import { deploymentOf, PG_URL } from './deployment.mjs';

const BOUND_MS = 2_000;
const DRIVE_MS = Number(process.env.BACKPRESSURE_TEST_MS ?? 30_000);
const WRITERS = 4;
const IN_FLIGHT = 20;

// Embedded mode commits the store with the log: there is no lag to bound.
/** A socket that only matches replies to requests (a RawSocket keeps every frame: too slow at this volume). */
async function sender(baseUrl: string, apiKey: string) {
  const ws = new WebSocket(`${baseUrl.replace(/^http/u, 'ws')}/v1/ws`);
  const waiting = new Map<string, (reply: any) => void>();
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    if (frame.type === 'ready') ready();
    if (frame.type !== 'reply') return;
    waiting.get(frame.id)?.(frame);
    waiting.delete(frame.id);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ type: 'auth', token: apiKey }));
  await isReady;
  let n = 0;
  return {
    send(fields: Record<string, unknown>): Promise<any> {
      const id = `r${n++}`;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ type: 'send', id, ...fields }));
      });
    },
    close: () => ws.close(),
  };
}

describe.runIf(CLUSTER)('the store bounds its lag behind the log', () => {
  const server = serverForFile({}, { STORE_LAG_BOUND_MS: String(BOUND_MS) });
  beforeAll(async () => {
    // A store slower than the log, whatever this machine's speed: each stored message costs 2 ms
    // more, so the persister completes at most ~500 a second, below what the gateways acknowledge.
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const { schema } = deploymentOf(server.dataDir);
    try {
      await admin.query(`CREATE FUNCTION ${schema}.slow_store() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_sleep(0.002); RETURN NULL; END $$`);
      await admin.query(
        `CREATE TRIGGER slow_store AFTER INSERT ON ${schema}.messages FOR EACH ROW EXECUTE FUNCTION ${schema}.slow_store()`,
      );
    } finally {
      await admin.end();
    }
  });

  it(
    'refuses sends past the bound, so the store never trails by much more, and stores each acknowledged message once',
    async () => {
      const users: TestUser[] = [];
      for (let i = 0; i < WRITERS; i++) users.push(await signUp(server.url));
      // Each writer in a chat with a peer who is not connected: no fan-out to the writers' sockets.
      const conversations = await Promise.all(users.map(async (u) => directChat(u, await signUp(server.url))));
      const sockets = await Promise.all(users.map((u, i) => sender(server.urls[i % 2]!, u.apiKey)));
      const log = server.backend.log;

      // Realized lag: for each sampled instant, the time until the persister completed what the log held then.
      const open: { at: number; target: PartitionPosition[] }[] = [];
      let worstMs = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const now = Date.now();
          const positions = await log.positions!('persister');
          while (open[0] && positions.every((p, i) => p.done >= open[0]!.target[i]!.done + open[0]!.target[i]!.pending))
            worstMs = Math.max(worstMs, now - open.shift()!.at);
          // Still open: at least this late already.
          if (open[0]) worstMs = Math.max(worstMs, now - open[0].at);
          open.push({ at: now, target: positions });
          await sleep(250);
        }
      })();

      const acked = new Map<string, string>();
      let refused = 0;
      let retryAfterMs = 0;
      const stopAt = Date.now() + DRIVE_MS;
      let next = 0;
      const writer = async (w: number, lane: number) => {
        const socket = sockets[w]!;
        while (Date.now() < stopAt) {
          const clientMsgId = `w${w}-${lane}-${next++}`;
          // The outbox's loop: the same clientMsgId until acknowledged.
          for (;;) {
            const reply = await socket.send({
              conversationId: conversations[w],
              clientMsgId,
              body: `load ${clientMsgId}`,
            });
            if (reply.ok) {
              acked.set(clientMsgId, reply.result.message.id);
              break;
            }
            expect(reply.error.code).toBe('unavailable');
            refused += 1;
            retryAfterMs = Math.max(retryAfterMs, reply.error.retryAfterMs ?? 0);
            // As the outbox does: Retry-After and a jitter, so refused writers do not all come back at once.
            await sleep((reply.error.retryAfterMs ?? 500) * (1 + Math.random() / 2));
          }
        }
      };
      const started = Date.now();
      await Promise.all(users.flatMap((_, w) => Array.from({ length: IN_FLIGHT }, (_, lane) => writer(w, lane))));
      const drivenMs = Date.now() - started;
      sampling = false;
      await sampler;

      console.info(
        `store back-pressure: ${acked.size} sends acknowledged in ${drivenMs} ms (${Math.round((acked.size * 1000) / drivenMs)}/s), ` +
          `${refused} refused (Retry-After up to ${retryAfterMs} ms); worst store lag ${worstMs} ms (bound ${BOUND_MS} ms)`,
      );
      expect(worstMs).toBeLessThanOrEqual(BOUND_MS + 1_000);
      expect(await persisterCaughtUp(server.url)).toBe(true);

      const stored = (await Promise.all(conversations.map((c, i) => fullHistory(users[i]!, c)))).flat();
      const byClientId = new Map<string, number>();
      for (const m of stored) byClientId.set(m.clientMsgId, (byClientId.get(m.clientMsgId) ?? 0) + 1);
      const idOf = new Map(stored.map((m) => [m.clientMsgId, m.id]));
      const wrong = [...acked].filter(
        ([clientMsgId, id]) => byClientId.get(clientMsgId) !== 1 || idOf.get(clientMsgId) !== id,
      );
      expect(wrong).toEqual([]);
      expect(stored).toHaveLength(acked.size);

      const metrics = await (await fetch(`${server.urls[0]}/metrics`)).text();
      expect(metrics).toMatch(/messenger_store_lag_seconds\{partition="0"\}/u);
      const ready = (await (await fetch(`${server.urls[0]}/readyz`)).json()) as { storeLag?: unknown[] };
      expect(ready.storeLag).toHaveLength(server.config.logPartitions);
      for (const s of sockets) s.close();
    },
    DRIVE_MS + 90_000,
  );
});

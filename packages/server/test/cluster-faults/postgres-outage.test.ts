// Cluster fault: PostgreSQL stopped (immediate shutdown, as pg_ctl stop -m immediate) and started again.
// Private nats-server, redis-server and PostgreSQL (see cluster.ts), two gateways and one worker.
// NATS is nats-server >= 2.10 with deploy/nats/nats-server.conf's settings (`sync_interval: always`).
// Covers kill -9 of processes, not power loss (the page cache survives a killed process).
//
// With STORE_LAG_BOUND_MS=0, sends stay available while PostgreSQL is down: the gateway answers membership from the rows it
// read last (at most 10 minutes old) and the log's lasting dedup lookup falls back to JetStream's
// duplicate window, so sends over HTTP and WebSocket are acknowledged once JetStream holds them,
// and fan-out (its member cache is warm) delivers them live. The log holding acked-but-unpersisted
// messages is made certain by freezing the worker (SIGSTOP) while clients send, then stopping
// PostgreSQL before it wakes: when PostgreSQL is back, the persister catches up and every
// acknowledged message - those sent while it was down included - is stored exactly once, in order,
// and delivered.
import { describe, expect, it } from 'vitest';
import type { Message } from '@messenger/protocol';
import { sendFromAll } from '../harness/apps.js';
import { settleAndCheck } from '../harness/checks.js';
import { sleep, waitFor } from '../harness/wait.js';
import { useCluster } from './cluster.js';
import { connectedGroup, settledBefore } from './setup.js';

describe('cluster: PostgreSQL down and back', () => {
  // With the store-lag bound on (the default), a stopped persister soon makes gateways refuse sends
  // with 503 + Retry-After (store-backpressure.test.ts); an operator who prefers the log to keep
  // acknowledging through an outage sets STORE_LAG_BOUND_MS=0, and that mode is what this tests.
  const cluster = useCluster('pg', { env: { STORE_LAG_BOUND_MS: '0' } });

  it('keeps acknowledging sends while down; the persister catches up; every ack stored once, in order', async () => {
    const { users, apps, conv } = await connectedGroup(cluster, 4, 'pg', 'P');
    const extraAcked: Message[] = [];
    try {
      await settledBefore(users, apps, conv, 10);

      // Acked into the log, not yet in the store: the worker is frozen.
      cluster.worker.pause();
      await sendFromAll(apps, [conv], 8, 10, 'unpersisted');
      // Read in PostgreSQL itself: the API's history waits for the persister, which is frozen.
      const [stored] = await cluster.postgres.query<{ n: number }>(
        cluster.database,
        'SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1',
        [conv],
      );
      expect(stored?.n).toBe(40);
      await cluster.postgres.stopImmediate();
      cluster.worker.resume(); // the persister now fails and retries

      const httpStarted = Date.now();
      const http = await users[0]!.call('POST', `/v1/conversations/${conv}/messages`, {
        clientMsgId: 'http-while-down',
        body: 'http while PostgreSQL is down',
      });
      const httpMs = Date.now() - httpStarted;
      expect(http.status, JSON.stringify(http.body)).toBe(201);
      expect(httpMs).toBeLessThan(10_000);
      const ws = await apps[1]!.client.request('send', {
        conversationId: conv,
        clientMsgId: 'ws-while-down',
        body: 'ws while PostgreSQL is down',
      });
      extraAcked.push(http.body.message, ws.message);
      // A retry while still down is answered from the log's duplicate window: the same message.
      // (Through the gateway that has seen this member: each gateway knows the memberships it read.)
      const again = await users[0]!.call('POST', `/v1/conversations/${conv}/messages`, {
        clientMsgId: 'http-while-down',
        body: 'http while PostgreSQL is down',
      });
      expect(again.status).toBe(200);
      expect({ id: again.body.message.id, seq: again.body.message.seq }).toEqual({
        id: http.body.message.id,
        seq: http.body.message.seq,
      });
      // SDK apps keep sending, and are acknowledged, with the database still down.
      await Promise.race([
        sendFromAll(apps, [conv], 3, 20, 'during'),
        sleep(20_000).then(() =>
          Promise.reject(new Error('sends were not acknowledged within 20 s while PostgreSQL was down')),
        ),
      ]);
      // ... and handed to the other members live: fan-out does not need the database either.
      await waitFor(
        'live delivery while PostgreSQL is down',
        async () => apps.every((a) => (a.seen.get(conv) ?? []).some((m) => m.clientMsgId === 'ws-while-down')),
        15_000,
        100,
      );
      await sleep(500);
      expect(cluster.crashes(), 'a process died while PostgreSQL was down').toEqual([]);

      await cluster.postgres.start();
      await sendFromAll(apps, [conv], 5, 20, 'after');

      const problems = await settleAndCheck(users[0]!, [conv], apps, 30_000, extraAcked);
      // Exactly once in the store itself, not just in what the API shows.
      const rows = await cluster.postgres.query(
        cluster.database,
        'SELECT seq, count(*)::int AS n FROM messages WHERE conversation_id = $1 GROUP BY seq HAVING count(*) > 1',
        [conv],
      );
      console.log(
        `[postgres-outage] HTTP send acknowledged in ${httpMs} ms while PostgreSQL was down; ${apps.reduce((n, a) => n + a.acked.length, 0) + extraAcked.length} acked`,
      );
      expect(rows).toEqual([]);
      expect(problems.slice(0, 12)).toEqual([]);
      expect(cluster.crashes()).toEqual([]);
    } finally {
      cluster.worker.resume();
      await Promise.all(apps.map((a) => a.close()));
    }
  }, 90_000);
});

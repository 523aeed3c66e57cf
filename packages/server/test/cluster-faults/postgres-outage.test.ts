// Cluster fault: PostgreSQL stopped (immediate shutdown, as pg_ctl stop -m immediate) and started again.
// Private nats-server, redis-server and PostgreSQL (see services.ts), two gateways and one worker.
// Covers kill -9 of processes; not power loss (nats-server v2.9.10 here has no `sync_interval:
// always`, which deploy/nats/nats-server.conf needs, so that file requires nats-server >= 2.10).
//
// What is true today (and tested): a send needs PostgreSQL. The gateway checks membership in the
// store (Conversations.requireMember) and the log's dedup lookup reads the store
// (cluster.ts lookupDuplicate -> messageByClientId) before appending. So while PostgreSQL is down
// every send is refused, cleanly: HTTP 503 `unavailable`, WebSocket error code `unavailable`. The
// log holding acked-but-unpersisted messages is made certain by freezing the worker (SIGSTOP) while
// clients send, then stopping PostgreSQL before it wakes: when PostgreSQL is back, the persister
// catches up and every acknowledged message is stored exactly once, in order, and delivered.
import { describe, expect, it } from 'vitest';
import type { Message } from '@messenger/protocol';
import { api, App, useCluster, createGroup, fullHistory, settleAndCheck, signUp, sleep, waitFor, type TestUser } from './services.js';

describe('cluster: PostgreSQL down and back', () => {
  const cluster = useCluster('pg');

  it('refuses sends cleanly while down; the persister catches up; every ack stored once, in order', async () => {
    const [g0, g1] = cluster.gateways as [typeof cluster.gateways[0], typeof cluster.gateways[0]];
    const users: TestUser[] = [];
    for (let i = 0; i < 4; i++) users.push(await signUp(g0.url, 'pg'));
    const conv = await createGroup(g0.url, users[0]!, users.slice(1), 'P');
    const apps = users.map((u, i) => new App(u, { baseUrl: (i % 2 === 0 ? g0 : g1).url }));
    await Promise.all(apps.map((a) => a.connect()));
    const extraAcked: Message[] = [];
    try {
      await Promise.all(apps.map((a) => a.sendLoop([conv], 10, 20, 'before')));
      expect(await settleAndCheck(g0.url, users[0]!, new Map([[conv, apps]]), apps, 15_000)).toEqual([]);

      // Acked into the log, not yet in the store: the worker is frozen.
      cluster.worker.pause();
      await Promise.all(apps.map((a) => a.sendLoop([conv], 8, 10, 'unpersisted')));
      const storedBefore = (await fullHistory(g0.url, users[0]!, conv)).length;
      expect(storedBefore).toBe(40);
      await cluster.postgres.stopImmediate();
      cluster.worker.resume(); // the persister now fails and retries

      const httpStarted = Date.now();
      const http = await api(g0.url, users[0]!.apiKey, 'POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'http-while-down', body: 'http while PostgreSQL is down' });
      const httpMs = Date.now() - httpStarted;
      expect(http.status).toBe(503);
      expect(http.body.error.code).toBe('unavailable');
      expect(httpMs).toBeLessThan(15_000);
      const ws = await apps[1]!.client.request('send', { conversationId: conv, clientMsgId: 'ws-while-down', body: 'ws while PostgreSQL is down' }).then(
        () => null,
        (e: { code?: string }) => e,
      );
      expect(ws?.code).toBe('unavailable');
      // SDK apps keep sending into their outboxes.
      const during = apps.map((a) => a.sendLoop([conv], 3, 20, 'during'));
      await sleep(1500);
      expect(cluster.crashes(), 'a process died while PostgreSQL was down').toEqual([]);

      await cluster.postgres.start();
      await Promise.race([Promise.all(during), sleep(45_000).then(() => Promise.reject(new Error('outboxes did not drain within 45 s of PostgreSQL coming back')))]);
      for (const [user, clientMsgId, body] of [[users[0]!, 'http-while-down', 'http while PostgreSQL is down'], [users[1]!, 'ws-while-down', 'ws while PostgreSQL is down']] as const) {
        const retry = await waitFor(`retry of ${clientMsgId}`, async () => {
          const res = await api(g1.url, user.apiKey, 'POST', `/v1/conversations/${conv}/messages`, { clientMsgId, body });
          return res.status === 200 || res.status === 201 ? res : null;
        }, 20_000, 500);
        extraAcked.push(retry.body.message);
      }
      await Promise.all(apps.map((a) => a.sendLoop([conv], 5, 20, 'after')));

      const problems = await settleAndCheck(g0.url, users[0]!, new Map([[conv, apps]]), apps, 30_000, extraAcked);
      // Exactly once in the store itself, not just in what the API shows.
      const rows = await cluster.postgres.query(cluster.database, 'SELECT seq, count(*)::int AS n FROM messages WHERE conversation_id = $1 GROUP BY seq HAVING count(*) > 1', [conv]);
      console.log(`[postgres-outage] HTTP send refused in ${httpMs} ms; ${apps.reduce((n, a) => n + a.acked.length, 0) + extraAcked.length} acked`);
      expect(rows).toEqual([]);
      expect(problems.slice(0, 12)).toEqual([]);
      expect(cluster.crashes()).toEqual([]);
    } finally {
      cluster.worker.resume();
      await Promise.all(apps.map((a) => a.close()));
    }
  }, 90_000);
});

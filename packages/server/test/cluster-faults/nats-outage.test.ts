// Cluster fault: NATS (the JetStream log and the gateway bus) killed with kill -9, then restarted on
// the same port with the same store directory.
// Private nats-server, redis-server and PostgreSQL (see services.ts), two gateways and one worker.
// NATS is nats-server >= 2.10 with deploy/nats/nats-server.conf's settings (`sync_interval: always`).
// Covers kill -9 of processes, not power loss (the page cache survives a killed process).
//
// While NATS is down a send is refused cleanly: HTTP 503 `unavailable`, WebSocket reply error code
// `unavailable` (the contract says: safe to retry with the same clientMsgId). SDK apps keep their
// messages in the outbox meanwhile. When NATS is back, the refused sends are retried with their
// clientMsgId, the outboxes drain, and acknowledged = stored = delivered, with no duplicates.
import { describe, expect, it } from 'vitest';
import type { Message } from '@messenger/protocol';
import {
  api,
  App,
  useCluster,
  createGroup,
  settleAndCheck,
  signUp,
  sleep,
  waitFor,
  type TestUser,
} from './services.js';

describe('cluster: NATS down and back', () => {
  const cluster = useCluster('nt');

  it('refuses sends with unavailable while down, loses nothing acknowledged, resumes when back', async () => {
    const [g0, g1] = cluster.gateways as [(typeof cluster.gateways)[0], (typeof cluster.gateways)[0]];
    const users: TestUser[] = [];
    for (let i = 0; i < 4; i++) users.push(await signUp(g0.url, 'nt'));
    const conv = await createGroup(g0.url, users[0]!, users.slice(1), 'N');
    const apps = users.map((u, i) => new App(u, { baseUrl: (i % 2 === 0 ? g0 : g1).url }));
    await Promise.all(apps.map((a) => a.connect()));
    const extraAcked: Message[] = [];
    try {
      await Promise.all(apps.map((a) => a.sendLoop([conv], 15, 20, 'before')));
      expect(await settleAndCheck(g0.url, users[0]!, new Map([[conv, apps]]), apps, 15_000)).toEqual([]);

      await cluster.nats.kill9();
      const downAt = Date.now();
      // HTTP: 503 unavailable, in bounded time.
      const httpStarted = Date.now();
      const http = await api(g0.url, users[0]!.apiKey, 'POST', `/v1/conversations/${conv}/messages`, {
        clientMsgId: 'http-while-down',
        body: 'http while NATS is down',
      });
      const httpMs = Date.now() - httpStarted;
      expect(http.status).toBe(503);
      expect(http.body.error.code).toBe('unavailable');
      expect(httpMs).toBeLessThan(15_000);
      // WebSocket: a reply with error code unavailable (the SDK's request() surfaces it as a MessengerError).
      const ws = await apps[1]!.client
        .request('send', { conversationId: conv, clientMsgId: 'ws-while-down', body: 'ws while NATS is down' })
        .then(
          () => null,
          (e: { code?: string }) => e,
        );
      expect(ws?.code).toBe('unavailable');
      // SDK apps go on sending: their outboxes hold the messages until the log is back.
      const during = apps.map((a) => a.sendLoop([conv], 5, 20, 'during'));
      await sleep(1500);
      expect(apps.every((a) => a.client.pending().length > 0)).toBe(true);
      expect(cluster.crashes(), 'a process died while NATS was down').toEqual([]);

      await cluster.nats.start();
      const downMs = Date.now() - downAt;
      await Promise.race([
        Promise.all(during),
        sleep(45_000).then(() => Promise.reject(new Error('outboxes did not drain within 45 s of NATS coming back'))),
      ]);
      // The refused sends, retried with their clientMsgId: stored once whatever happened to the first try.
      for (const [user, clientMsgId, body] of [
        [users[0]!, 'http-while-down', 'http while NATS is down'],
        [users[1]!, 'ws-while-down', 'ws while NATS is down'],
      ] as const) {
        const retry = await waitFor(
          `retry of ${clientMsgId}`,
          async () => {
            const res = await api(g1.url, user.apiKey, 'POST', `/v1/conversations/${conv}/messages`, {
              clientMsgId,
              body,
            });
            return res.status === 200 || res.status === 201 ? res : null;
          },
          20_000,
          500,
        );
        extraAcked.push(retry.body.message);
      }
      await Promise.all(apps.map((a) => a.sendLoop([conv], 5, 20, 'after')));

      const problems = await settleAndCheck(g0.url, users[0]!, new Map([[conv, apps]]), apps, 20_000, extraAcked);
      console.log(
        `[nats-outage] NATS down ${downMs} ms; HTTP send refused in ${httpMs} ms; ${apps.reduce((n, a) => n + a.acked.length, 0) + extraAcked.length} acked`,
      );
      expect(problems.slice(0, 12)).toEqual([]);
      expect(cluster.crashes()).toEqual([]);
    } finally {
      await Promise.all(apps.map((a) => a.close()));
    }
  }, 90_000);
});

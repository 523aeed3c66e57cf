// Cluster fault: NATS (the JetStream log and the gateway bus) killed with kill -9, then restarted on
// the same port with the same store directory.
// Private nats-server, redis-server and PostgreSQL (see cluster.ts), two gateways and one worker.
// NATS is nats-server >= 2.10 with deploy/nats/nats-server.conf's settings (`sync_interval: always`).
// Covers kill -9 of processes, not power loss (the page cache survives a killed process).
//
// While NATS is down a send is refused cleanly: HTTP 503 `unavailable`, WebSocket reply error code
// `unavailable` (the contract says: safe to retry with the same clientMsgId). SDK apps keep their
// messages in the outbox meanwhile. When NATS is back, the refused sends are retried with their
// clientMsgId, the outboxes drain, and acknowledged = stored = delivered, with no duplicates.
import { describe, expect, it } from 'vitest';
import type { Message } from '@messenger/protocol';
import { sendFromAll } from '../harness/apps.js';
import { settleAndCheck } from '../harness/checks.js';
import { http } from '../harness/http.js';
import { sleep, waitFor } from '../harness/wait.js';
import { useCluster } from './cluster.js';
import { connectedGroup, settledBefore } from './setup.js';

describe('cluster: NATS down and back', () => {
  const cluster = useCluster('nt');

  it('refuses sends with unavailable while down, loses nothing acknowledged, resumes when back', async () => {
    const [, g1] = cluster.gateways;
    const { users, apps, conv } = await connectedGroup(cluster, 4, 'nt', 'N');
    const extraAcked: Message[] = [];
    try {
      await settledBefore(users, apps, conv, 15);

      await cluster.nats.kill9();
      const downAt = Date.now();
      // HTTP: 503 unavailable, in bounded time.
      const httpStarted = Date.now();
      const refused = await users[0]!.call('POST', `/v1/conversations/${conv}/messages`, {
        clientMsgId: 'http-while-down',
        body: 'http while NATS is down',
      });
      const httpMs = Date.now() - httpStarted;
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('unavailable');
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
            const res = await http(g1.url, user.apiKey)('POST', `/v1/conversations/${conv}/messages`, {
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
      await sendFromAll(apps, [conv], 5, 20, 'after');

      const problems = await settleAndCheck(users[0]!, [conv], apps, 20_000, extraAcked);
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

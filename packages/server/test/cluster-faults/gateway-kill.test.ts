// Cluster fault: kill -9 of a gateway under load.
// Private nats-server, redis-server and PostgreSQL (see cluster.ts), two gateways and one worker.
// NATS is nats-server >= 2.10 with deploy/nats/nats-server.conf's settings (`sync_interval: always`).
// Covers kill -9 of processes, not power loss (the page cache survives a killed process).
//
// Clients reach the gateways through a load balancer (../harness/apps.ts `Balancer`): the SDK has one
// baseUrl, so its WebSocket and fetch go to the client's sticky gateway, or to the survivor once the
// balancer has marked the killed one down (what a balancer's health check does). The SDK is not
// helped otherwise: it notices the dead socket, reconnects, catches up and re-sends its outbox.
import { describe, expect, it } from 'vitest';
import { MessengerClient } from '@messenger/sdk';
import { WebSocket } from 'ws';
import { App, Balancer } from '../harness/apps.js';
import { settleAndCheck } from '../harness/checks.js';
import { createGroup, signUp, type TestUser, uniqueName } from '../harness/http.js';
import { waitFor } from '../harness/wait.js';
import { useCluster } from './cluster.js';

describe('cluster: kill -9 of a gateway', () => {
  const cluster = useCluster('gw');

  it("loses nothing acknowledged; clients move to the other gateway; the dead gateway's routes and presence expire", async () => {
    const [g0, g1] = cluster.gateways;
    const balancer = new Balancer([g0.url, g1.url]);
    const users: TestUser[] = [];
    for (let i = 0; i < 6; i++) users.push(await signUp(g1.url, uniqueName('gk')));
    // Connected only to gateway 0 and never reconnected: its presence and route must expire with the gateway.
    const lonely = await signUp(g1.url, uniqueName('lonely'));
    const convA = await createGroup(users[0]!, [...users.slice(1), lonely], 'A');
    const convB = await createGroup(
      users[1]!,
      users.filter((_, i) => i !== 1),
      'B',
    );

    // Even users on gateway 0 (the one that dies), odd ones on gateway 1.
    const apps = users.map((u, i) => new App(u, balancer.route(i % 2)));
    await Promise.all(apps.map((a) => a.connect()));
    const lonelyClient = new MessengerClient({
      baseUrl: g0.url,
      apiKey: lonely.apiKey,
      WebSocket: WebSocket as never,
      autoDelivered: false,
      reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    await lonelyClient.connect();

    // Both gateways registered; gateway 0's id is the one lonely's route names.
    const redis = cluster.redis.client();
    try {
      const gateways = await redis.zrange('gateways', '0', '-1');
      expect(gateways).toHaveLength(2);
      const lonelyRoutes = await redis.zrange(`routes:{${lonely.id}}`, '0', '-1');
      expect(lonelyRoutes).toHaveLength(1);
      const deadId = lonelyRoutes[0]!;
      const liveId = gateways.find((g) => g !== deadId)!;
      expect((await users[1]!.call('GET', `/v1/presence?userIds=${lonely.id}`)).body.presence[lonely.id].status).toBe(
        'online',
      );

      // Load: every app sends 50 messages, alternating between the two groups.
      const senders = apps.map((a) => a.sendLoop([convA, convB], 50, 30, 'gk'));
      await waitFor('some traffic', async () => apps.every((a) => a.acked.length >= 8), 30_000, 50);
      const ackedBeforeKill = apps.reduce((n, a) => n + a.acked.length, 0);
      await g0.kill9();
      balancer.down.add(g0.url);
      const killedAt = Date.now();
      await lonelyClient.close(); // its socket died with the gateway; this just stops the SDK object

      await Promise.all(senders);
      const acked = apps.reduce((n, a) => n + a.acked.length, 0);
      expect(acked).toBe(300);
      expect(ackedBeforeKill).toBeLessThan(300);
      // Everyone whose gateway died reconnected (through the balancer, to gateway 1).
      for (const [i, app] of apps.entries()) {
        if (i % 2 === 0) expect(app.states).toContain('reconnecting');
        expect(app.client.state).toBe('open');
      }

      const problems = await settleAndCheck(users[0]!, [convA, convB], apps, 30_000);
      expect(problems).toEqual([]);

      // A message sent now reaches every app live, whichever gateway it started on.
      const before = apps.map((a) => a.seen.get(convA)?.length ?? 0);
      const live = await apps[0]!.client.send(convA, 'after the kill');
      apps[0]!.acked.push(live);
      await waitFor(
        'live delivery after the kill',
        async () => apps.every((a, i) => (a.seen.get(convA)?.length ?? 0) === before[i]! + 1),
        10_000,
        50,
      );

      // The dead gateway: liveness lapses, no route points at it, lonely is offline (all within 60 s).
      await waitFor(
        'dead gateway expired',
        async () => {
          const now = Date.now();
          const deadScore = await redis.zscore('gateways', deadId);
          if (deadScore !== null && Number(deadScore) > now) return false;
          for (const key of await redis.keys('routes:*')) {
            const score = await redis.zscore(key, deadId);
            if (score !== null && Number(score) > now) return false;
          }
          const presence = await users[1]!.call('GET', `/v1/presence?userIds=${lonely.id}`);
          return (
            presence.body.presence[lonely.id].status === 'offline' &&
            presence.body.presence[lonely.id].lastSeenAt !== null
          );
        },
        60_000,
        250,
      );
      const expiredAfterMs = Date.now() - killedAt;
      expect(expiredAfterMs).toBeLessThan(60_000);
      // The survivor is alive and holds everyone's route.
      expect(Number(await redis.zscore('gateways', liveId))).toBeGreaterThan(Date.now());
      for (const u of users) expect(await redis.zrange(`routes:{${u.id}}`, '0', '-1')).toContain(liveId);
      console.log(
        `[gateway-kill] ${acked} acked (${ackedBeforeKill} before the kill); dead gateway's routes and presence gone ${expiredAfterMs} ms after the kill`,
      );

      expect(cluster.crashes()).toEqual([]);
    } finally {
      await Promise.all(apps.map((a) => a.close()));
      redis.disconnect();
    }
  }, 90_000);
});

// Cluster fault: Redis (presence and routes) killed with kill -9 and started again empty.
// Private nats-server, redis-server and PostgreSQL (see cluster.ts), two gateways and one worker.
// NATS is nats-server >= 2.10 with deploy/nats/nats-server.conf's settings (`sync_interval: always`).
// Covers kill -9 of processes, not power loss (the page cache survives a killed process).
//
// 1. Steady clients keep sending while Redis is down (the send path does not need Redis). After the
//    restart the gateways re-register themselves, their users' routes and presence on their next
//    heartbeat (PING_INTERVAL_MS is 1 s here); a message sent then reaches connected clients live; and
//    acknowledged = stored = delivered, including what was sent during the outage.
// 2. Churn during the outage, as on any real network: one client goes away, a new one tries to come
//    in. The gateways must survive it (and the newcomer gets in once Redis is back).
import { describe, expect, it } from 'vitest';
import { App, sendFromAll } from '../harness/apps.js';
import { settleAndCheck } from '../harness/checks.js';
import { createGroup, signUp, type TestUser, uniqueName } from '../harness/http.js';
import { sleep, waitFor } from '../harness/wait.js';
import { useCluster } from './cluster.js';
import { connectedGroup, settledBefore } from './setup.js';

describe('cluster: Redis restarted empty', () => {
  const cluster = useCluster('rd');

  /** Starts Redis again and waits until the heartbeats rebuilt `users`' routes and presence, as `asker` sees it. */
  async function restartRedis(users: TestUser[], asker: TestUser): Promise<void> {
    await cluster.redis.start();
    const fresh = cluster.redis.client();
    try {
      // Heartbeats re-register both gateways and every connected user's route and presence.
      await waitFor(
        'routes and presence rebuilt',
        async () => {
          if ((await fresh.zcard('gateways')) !== 2) return false;
          for (const u of users) if ((await fresh.zcard(`routes:{${u.id}}`)) === 0) return false;
          const presence = await asker.call('GET', `/v1/presence?userIds=${users.map((u) => u.id).join(',')}`);
          return users.filter((u) => u.id !== asker.id).every((u) => presence.body.presence[u.id]?.status === 'online');
        },
        15_000,
        200,
      );
    } finally {
      fresh.disconnect();
    }
  }

  it('rebuilds routes and presence, delivers live again, loses nothing (steady clients)', async () => {
    const { users, apps, conv } = await connectedGroup(cluster, 4, 'rd', 'R');
    try {
      await settledBefore(users, apps, conv, 10);

      await cluster.redis.kill9();
      const ackedBefore = apps.reduce((n, a) => n + a.acked.length, 0);
      await sendFromAll(apps, [conv], 10, 30, 'during');
      const ackedDuring = apps.reduce((n, a) => n + a.acked.length, 0) - ackedBefore;
      expect(ackedDuring).toBe(40); // sends never needed Redis
      expect(cluster.crashes(), 'a process died while Redis was down').toEqual([]);

      await restartRedis(users, users[0]!);

      // A message sent now is delivered live: no client reconnected since the restart.
      const reconnectsBefore = apps.map((a) => a.states.filter((s) => s === 'reconnecting').length);
      const live = await apps[1]!.client.send(conv, 'after the restart', { clientMsgId: 'after-restart' });
      apps[1]!.acked.push(live);
      await waitFor(
        'live delivery after the restart',
        async () => apps.every((a) => (a.seen.get(conv) ?? []).some((m) => m.id === live.id)),
        10_000,
        50,
      );
      expect(apps.map((a) => a.states.filter((s) => s === 'reconnecting').length)).toEqual(reconnectsBefore);

      await sendFromAll(apps, [conv], 5, 20, 'after');
      const problems = await settleAndCheck(users[0]!, [conv], apps, 10_000);
      expect(problems.slice(0, 12)).toEqual([]);
      expect(cluster.crashes()).toEqual([]);
    } finally {
      await Promise.all(apps.map((a) => a.close()));
    }
  }, 80_000);

  it('survives clients leaving and arriving while Redis is down', async () => {
    const [g0, g1] = cluster.gateways;
    const users: TestUser[] = [];
    for (let i = 0; i < 2; i++) users.push(await signUp(g0.url, uniqueName('rc')));
    const leaver = await signUp(g0.url, uniqueName('leaver'));
    const late = await signUp(g0.url, uniqueName('late'));
    const conv = await createGroup(users[0]!, [users[1]!, leaver, late], 'C');
    const apps = users.map((u, i) => new App(u, { baseUrl: (i % 2 === 0 ? g0 : g1).url }));
    const leaverApp = new App(leaver, { baseUrl: g1.url });
    const lateApp = new App(late, { baseUrl: g0.url });
    await Promise.all([...apps, leaverApp].map((a) => a.connect()));
    try {
      await cluster.redis.kill9();
      await leaverApp.close();
      const lateConnected = lateApp.connect();
      await sleep(2000);
      expect(cluster.crashes(), 'a gateway died when a client left or arrived while Redis was down').toEqual([]);

      await restartRedis(users, users[0]!);
      await lateConnected;
      const live = await apps[0]!.client.send(conv, 'hello after the churn');
      await waitFor(
        'live delivery to the newcomer',
        async () => (lateApp.seen.get(conv) ?? []).some((m) => m.id === live.id),
        10_000,
        50,
      );
      expect(cluster.crashes()).toEqual([]);
    } finally {
      await Promise.all([...apps, leaverApp, lateApp].map((a) => a.close()));
    }
  }, 60_000);
});

// Cluster fault: kill -9 of the worker process (persister, fan-out, notifier) mid-batch, then a restart.
// Private nats-server, redis-server and PostgreSQL (see cluster.ts), two gateways and one worker.
// NATS is nats-server >= 2.10 with deploy/nats/nats-server.conf's settings (`sync_interval: always`).
// Covers kill -9 of processes, not power loss (the page cache survives a killed process).
//
// "Mid-batch" is made certain rather than hoped for: the worker is first frozen with SIGSTOP while
// clients keep sending, so JetStream has handed its outstanding pull requests messages it will never
// acknowledge; then it is killed with SIGKILL and started again while the clients go on sending.
import { describe, expect, it } from 'vitest';
import { settleAndCheck, watchGaps } from '../harness/checks.js';
import { createGroup, via } from '../harness/http.js';
import { sleep, waitFor } from '../harness/wait.js';
import { consumerStates } from '../services/nats.js';
import { useCluster } from './cluster.js';
import { connectedGroup } from './setup.js';

describe('cluster: kill -9 of the worker mid-batch', () => {
  const cluster = useCluster('wk');

  it('stores every acknowledged message once, in order, keeps the store a gap-free prefix, and delivers everything', async () => {
    const [, g1] = cluster.gateways;
    const { users, apps, conv: convA } = await connectedGroup(cluster, 4, 'wk', 'A');
    const convB = await createGroup(users[1]!, [users[0]!, users[2]!, users[3]!], 'B');
    const allAcked = () => apps.flatMap((a) => a.acked);
    const reader = via(users[0]!, g1.url);
    const gaps = watchGaps(reader, [convA, convB], allAcked);

    try {
      const senders = apps.map((a) => a.sendLoop([convA, convB], 70, 40, 'wk'));
      await waitFor('traffic', async () => apps.every((a) => a.acked.length >= 10), 30_000, 50);
      cluster.worker.pause();
      const ackedAtStop = allAcked().length;
      await sleep(1500); // the gateways keep acknowledging: the log holds it all
      await cluster.worker.kill9();
      const ackedAtKill = allAcked().length;
      expect(ackedAtKill).toBeGreaterThan(ackedAtStop);
      const evidenceAtKill = await consumerStates(cluster.nats);
      await cluster.worker.start();

      await Promise.all(senders);
      expect(allAcked()).toHaveLength(280);

      // Generous: a redelivery that waits for JetStream's ack wait (30 s) still fits.
      const problems = await settleAndCheck(reader, [convA, convB], apps, 45_000);
      const holes = await gaps.stop();
      const evidence = `consumers when the worker was killed:\n${evidenceAtKill}\nnow:\n${await consumerStates(cluster.nats)}`;
      console.log(
        `[worker-kill] acked ${ackedAtStop} before SIGSTOP, ${ackedAtKill} at SIGKILL, 280 in all\n${evidence}`,
      );
      // holes: the store was not a gap-free prefix while the worker recovered; problems: the end state.
      expect({ holes, problems: problems.slice(0, 10) }, evidence).toEqual({ holes: [], problems: [] });
      expect(cluster.crashes()).toEqual([]);
    } finally {
      await gaps.stop();
      await Promise.all(apps.map((a) => a.close()));
    }
  }, 90_000);
});

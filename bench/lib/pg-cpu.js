// CPU of one client's PostgreSQL backends, told apart by application_name (the client's PGAPPNAME).
import { userInfo } from 'node:os';
import { procStats } from './server.js';

/**
 * CPU seconds used so far by the PostgreSQL backends whose application_name is `appName`, from
 * /proc. Backends that exited since count with their last sample (the pool closes idle connections
 * after 10 s), so call sample() about once a second, and await it at the start and end of a phase.
 */
export async function pgBackendCpu(databaseUrl, appName) {
  const { default: pg } = await import('pg');
  const url = new URL(databaseUrl);
  if (!url.username) url.username = process.env.PGUSER ?? userInfo().username;
  const client = new pg.Client({ connectionString: url.toString(), application_name: 'bench_pg_cpu_sampler' });
  await client.connect();
  const last = new Map();
  const read = (pids) => {
    for (const pid of new Set([...pids, ...last.keys()])) {
      const st = procStats(pid);
      if (st) last.set(pid, st.cpuSec);
    }
    return [...last.values()].reduce((a, b) => a + b, 0);
  };
  const pidsNow = async () =>
    (await client.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [appName])).rows.map(
      (x) => x.pid,
    );
  return {
    /** CPU seconds so far, from the backends alive now (a backend first seen later counts whole, as it should only if it is new). */
    async sample() {
      return read(await pidsNow().catch(() => []));
    },
    close: () => client.end().catch(() => undefined),
  };
}

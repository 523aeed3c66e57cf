// CPU of one client's PostgreSQL backends, told apart by application_name (the client's PGAPPNAME).
import { userInfo } from 'node:os';
import { procStats } from './server.js';

/**
 * CPU seconds used so far by the PostgreSQL backends whose application_name is `appName`, from
 * /proc. Backends that exited since count with their last sample (the pool closes idle connections
 * after 10 s), so call sample() about once a second.
 */
export async function pgBackendCpu(databaseUrl, appName) {
  const { default: pg } = await import('pg');
  const url = new URL(databaseUrl);
  if (!url.username) url.username = process.env.PGUSER ?? userInfo().username;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const last = new Map();
  let pids = [];
  let querying = false;
  const refresh = () => {
    if (querying) return;
    querying = true;
    client
      .query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [appName])
      .then((r) => (pids = r.rows.map((x) => x.pid)))
      .catch(() => undefined)
      .finally(() => (querying = false));
  };
  refresh();
  return {
    sample() {
      for (const pid of new Set([...pids, ...last.keys()])) {
        const st = procStats(pid);
        if (st) last.set(pid, st.cpuSec);
      }
      refresh();
      return [...last.values()].reduce((a, b) => a + b, 0);
    },
    close: () => client.end().catch(() => undefined),
  };
}

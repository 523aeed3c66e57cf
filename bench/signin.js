// Sign-ins during a message load: how many password sign-ins per second the server answers while
// the socket benchmark's messages flow, and what that does to the messages' p99. argon2id hashing
// runs on libuv's thread pool, not the event loop; the messages' latency shows whether that holds.
//   node bench/run.js signin --rate=2000 --duration=10               with the sign-in burst
//   node bench/run.js signin --rate=2000 --duration=10 --burst=false the same load without it
import { Histogram, fmt } from './lib/hist.js';
import { client, pool } from './lib/http.js';
import { socketBench } from './socket.js';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const PASSWORD = 'bench password 1234';

export async function signinBench(opts) {
  const burst = opts.burst !== false;
  const report = await socketBench({
    ...opts,
    connections: opts.connections ?? 1000,
    rate: opts.rate ?? 2000,
    duration: opts.duration ?? 10,
    during: burst ? signInLoad(opts) : undefined,
  });
  for (const p of report.phases) {
    const d = p.during;
    log(
      `\nSIGN-IN RESULT (${burst ? 'with' : 'without'} the sign-in burst): messages ${p.sendRate.toFixed(0)}/s e2e p50 ${fmt(p.e2e.p50)} ms p99 ${fmt(p.e2e.p99)} ms` +
        (d
          ? ` | sign-ins ${d.ok} ok (${d.perSecond.toFixed(1)}/s), ${d.failed} failed ${JSON.stringify(d.statuses)}, latency p50 ${fmt(d.p50)} ms p99 ${fmt(d.p99)} ms`
          : ''),
    );
  }
  return report;
}

/**
 * A closed loop of `concurrency` clients signing in as fast as answers come, over `accounts`
 * password accounts (made before the phase; each sign-up hashes too), for the phase's duration.
 */
function signInLoad(opts) {
  const concurrency = opts.concurrency ?? 8;
  const accountsN = opts.accounts ?? 40;
  let accounts = [];
  return {
    async prepare(url) {
      const http = client(url, { maxSockets: concurrency });
      const tag = Date.now().toString(36);
      const t0 = performance.now();
      accounts = await pool(accountsN, concurrency, async (i) => {
        const username = `si${tag}_${i}`;
        const r = await http.request('POST', '/v1/users', { body: { username, password: PASSWORD } });
        if (r.status !== 201) throw new Error(`password sign-up failed: ${r.status} ${JSON.stringify(r.json)}`);
        return username;
      });
      http.close();
      log(`sign-in load: ${accounts.length} password accounts in ${(performance.now() - t0).toFixed(0)} ms`);
    },
    async run(url, startAt, durationMs) {
      const http = client(url, { maxSockets: concurrency });
      await new Promise((r) => setTimeout(r, Math.max(0, startAt - (performance.timeOrigin + performance.now()))));
      const end = performance.now() + durationMs;
      const latencies = [];
      const statuses = {};
      let ok = 0;
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) {
            const username = accounts[next++ % accounts.length];
            const s = performance.now();
            const r = await http.request('POST', '/v1/sessions', {
              body: { username, password: PASSWORD, deviceName: 'bench' },
            });
            latencies.push(performance.now() - s);
            if (r.status === 201) ok++;
            else statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          }
        }),
      );
      http.close();
      const seconds = (performance.now() - t0) / 1000;
      const h = Histogram.exact(latencies);
      return {
        concurrency,
        ok,
        failed: latencies.length - ok,
        statuses,
        perSecond: ok / seconds,
        p50: h.p50,
        p99: h.p99,
        max: h.max,
      };
    },
  };
}

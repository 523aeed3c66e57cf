// Socket benchmark: N authenticated WebSockets (N/2 direct chats), open-loop send rate, end-to-end
// latency at the other member, loss and duplicate accounting, server CPU/RSS from /proc.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Histogram, fmt } from './lib/hist.js';
import { client, pool } from './lib/http.js';
import { dropCluster } from './data.js';
import { pgBackendCpu } from './lib/pg-cpu.js';
import { startPrivateNats } from './lib/private-nats.js';
import {
  clusterEnv,
  cpuPercent,
  DATA_ROOT,
  freshDataDir,
  machineInfo,
  machineShare,
  procStats,
  serviceCpu,
  startServer,
  systemStats,
  threadCpu,
  threadSplit,
} from './lib/server.js';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

export async function socketBench(opts) {
  const connections = opts.connections ?? 1000;
  const workers = opts.workers ?? 2;
  const sources = opts.sources ?? 4;
  const mode = opts.mode ?? 'fixed';
  const machine = machineInfo();
  log(
    `# socket benchmark: mode=${mode} connections=${connections} workers=${workers} sources=${sources} (${machine.cores} cores, load ${machine.load})`,
  );

  const dataDir = freshDataDir('socket');
  // --backend=cluster: the same process with the cluster backend on this machine's PostgreSQL, NATS
  // JetStream and Redis, isolated by a fresh schema, stream prefix and key prefix.
  const cluster = opts.backend === 'cluster';
  const env = cluster ? clusterEnv(dataDir) : {};
  // --nats-sync=always (cluster): a private nats-server with the production JetStream durability
  // (fsync before every PubAck) instead of the machine's shared one, stopped at the end.
  if (opts.natsSync && !cluster) throw new Error('--nats-sync needs --backend=cluster (embedded mode has no NATS)');
  const privateNats = opts.natsSync ? await startPrivateNats({ sync: String(opts.natsSync) }) : null;
  if (privateNats) env.NATS_URL = privateNats.url;
  // --split (cluster): the workers (persister, fan-out, notifier) in a second process, the gateway
  // alone in the first, as `npm run cluster` deploys them; each process's CPU is reported.
  const split = cluster && opts.split === true;
  const worker = split
    ? await startServer({
        dataDir: path.join(dataDir, 'worker'),
        env: {
          ...env,
          ROLES: opts.workerRoles ?? 'persister,fanout,notifier',
          PGAPPNAME: `bench_socket_wk_${process.pid}`,
        },
        readyTimeoutMs: 60_000,
        cpuProf: opts.cpuProf ? path.join(DATA_ROOT, 'profiles') : null,
      })
    : null;
  const server = await startServer({
    dataDir,
    env: cluster
      ? { ...env, ...(split ? { ROLES: 'gateway' } : {}), PGAPPNAME: `bench_socket_gw_${process.pid}` }
      : env,
    readyTimeoutMs: 60_000,
    cpuProf: opts.cpuProf ? path.join(DATA_ROOT, 'profiles') : null,
  });
  if (worker)
    log(`worker process (persister, fan-out, notifier) pid ${worker.pid}; the server below runs the gateway role only`);
  if (cluster)
    log(
      `cluster backend: schema ${env.DATABASE_SCHEMA}, streams ${env.LOG_STREAM_PREFIX}_*, keys ${env.REDIS_KEY_PREFIX}* (backing services' CPU is not in the server numbers)`,
    );
  log(`server pid ${server.pid} ready in ${server.startMs.toFixed(0)} ms at ${server.url} (DATA_DIR ${dataDir})`);
  // In cluster mode the PostgreSQL CPU is also split by client: the gateway's backends (auth,
  // membership and dedup reads) and, with --split, the workers' (the persister's writes, fan-out).
  const pgClients = cluster
    ? {
        gateway: await pgBackendCpu(env.DATABASE_URL, `bench_socket_gw_${process.pid}`),
        ...(split ? { worker: await pgBackendCpu(env.DATABASE_URL, `bench_socket_wk_${process.pid}`) } : {}),
      }
    : null;
  const samplePg = async () =>
    pgClients
      ? Object.fromEntries(await Promise.all(Object.entries(pgClients).map(async ([k, c]) => [k, await c.sample()])))
      : null;
  const report = {
    machine,
    command: process.argv.slice(2).join(' '),
    backend: cluster ? 'cluster' : 'embedded',
    nats: privateNats ? { private: true, version: privateNats.version, syncInterval: privateNats.sync } : undefined,
    connections,
    workers,
    sources,
    mode,
    serverStartMs: server.startMs,
    phases: [],
  };
  const threads = [];
  try {
    // 1. Users and direct chats over HTTP.
    const pairsN = Math.floor(connections / 2);
    const http = client(server.url, { maxSockets: 32 });
    const tag = Date.now().toString(36);
    let t0 = performance.now();
    const users = await pool(pairsN * 2, 32, async (i) => {
      const r = await http.request('POST', '/v1/users', { body: { username: `b${tag}_${i}` } });
      if (r.status !== 201) throw new Error(`sign-up failed: ${r.status} ${JSON.stringify(r.json)}`);
      return { id: r.json.user.id, apiKey: r.json.apiKey };
    });
    const signupMs = performance.now() - t0;
    t0 = performance.now();
    const pairs = await pool(pairsN, 32, async (i) => {
      const a = users[2 * i];
      const b = users[2 * i + 1];
      const r = await http.request('POST', '/v1/conversations', { body: { memberIds: [b.id] }, token: a.apiKey });
      if (r.status !== 201 && r.status !== 200) throw new Error(`create chat failed: ${r.status}`);
      return { conv: r.json.conversation.id, a, b };
    });
    const chatsMs = performance.now() - t0;
    http.close();
    log(
      `setup: ${users.length} sign-ups in ${signupMs.toFixed(0)} ms, ${pairs.length} direct chats in ${chatsMs.toFixed(0)} ms`,
    );
    report.setup = { signupMs, chatsMs };
    // A side load run during each phase (signin.js): prepared once, its figures added to the phase.
    await opts.during?.prepare(server.url);

    // 2. Worker threads, each owning whole pairs, connecting over several 127.0.0.x sources.
    const localAddresses = Array.from({ length: sources }, (_, i) => `127.0.0.${i + 1}`);
    const conn0 = performance.now();
    const connected = await Promise.all(
      Array.from({ length: workers }, (_, w) => {
        const mine = pairs.filter((_, i) => i % workers === w);
        const worker = new Worker(new URL('./lib/socket-worker.js', import.meta.url), {
          workerData: { index: w, url: server.url, pairs: mine, localAddresses, connectConcurrency: 50 },
        });
        const t = { worker, handlers: new Set() };
        worker.on('message', (m) => {
          if (m.type === 'error') log(`worker ${w} error: ${m.message}`);
          for (const h of t.handlers) h(m);
        });
        worker.on('error', (e) => log(`worker ${w} crashed: ${e.stack}`));
        threads.push(t);
        return request(t, { type: 'connect' }, 'connected');
      }),
    );
    const connectMs = performance.now() - conn0;
    const connTimes = connected.flatMap((c) => c.times);
    const c = Histogram.exact(connTimes);
    log(
      `connect: ${connTimes.length} sockets authenticated in ${connectMs.toFixed(0)} ms (per socket connect+auth p50 ${fmt(c.p50)} ms, p99 ${fmt(c.p99)} ms)`,
    );
    report.connect = { sockets: connTimes.length, totalMs: connectMs, p50: c.p50, p99: c.p99, max: c.max };
    await sleep(1500); // let the presence announcements of the connect storm settle
    // Cluster: the setup's records (sign-ups, chats, presence) are read by the persister, fan-out and
    // notifier in log order, ahead of the first phase's messages; on a starved machine that backlog
    // took seconds and the first phase measured it. Start once the log's consumers have caught up.
    if (cluster) await drained(worker?.url ?? server.url);

    const runPhase = async (rate, durationS, label) => {
      const phaseId = report.phases.length;
      const durationMs = durationS * 1000;
      const startAt = performance.timeOrigin + performance.now() + 200;
      const m0 = await scrape(server.url);
      const before = procStats(server.pid);
      const threads0 = threadCpu(server.pid);
      const workerBefore = worker ? procStats(worker.pid) : null;
      const natsBefore = privateNats ? procStats(privateNats.pid) : null;
      const sys0 = systemStats();
      const svc0 = cluster ? serviceCpu() : null;
      const pg0 = await samplePg();
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      const profFrom = (wall0 - server.spawnedAt) / 1000;
      const progress = new Map();
      let lastPrint = 0;
      const onProgress = (m) => {
        if (m.type !== 'progress' || m.phaseId !== phaseId) return;
        progress.set(m.worker, m);
        if (progress.size < threads.length) return;
        const all = [...progress.values()];
        progress.clear();
        const sum = (k) => all.reduce((a, x) => a + x[k], 0);
        const win = all.reduce((h, x) => h.merge(Histogram.from(x.window)), new Histogram());
        void samplePg();
        const st = procStats(server.pid);
        const sec = Math.round((performance.now() - wall0) / 1000);
        if (sec === lastPrint) return;
        lastPrint = sec;
        log(
          `  [${label} ${String(sec).padStart(3)}s] sent ${sum('sent')} acked ${sum('acked')} delivered ${sum('delivered')} in-flight ${sum('sent') - sum('acked') - sum('errors')} ` +
            `errors ${sum('errors')} p99(1s) ${fmt(win.quantile(0.99))} ms | server rss ${st ? st.rssMiB.toFixed(0) : '?'} MiB | gen ELU ${all.map((x) => x.elu.toFixed(2)).join('/')}`,
        );
      };
      threads.forEach((t, w) => {
        t.progress = (m) => onProgress({ ...m, worker: w });
        t.handlers.add(t.progress);
      });
      // The side load belongs to the judged phases, not to the warm-up.
      const side = label === 'warm-up' ? undefined : opts.during?.run(server.url, startAt, durationMs);
      const results = await Promise.all(
        threads.map((t) =>
          request(
            t,
            {
              type: 'run',
              phaseId,
              rate: rate / threads.length,
              startAt,
              durationMs,
              drainMs: opts.drainMs ?? 5000,
              maxInFlight: Math.max(5000, (rate / threads.length) * 5),
            },
            'result',
          ),
        ),
      );
      threads.forEach((t) => t.handlers.delete(t.progress));
      const after = procStats(server.pid);
      const threadShare = threadSplit(server.pid, threads0, threadCpu(server.pid));
      const workerAfter = worker ? procStats(worker.pid) : null;
      const natsAfter = privateNats ? procStats(privateNats.pid) : null;
      const m1 = await scrape(server.url);
      const cpuGen = process.cpuUsage(cpu0);
      const sys1 = systemStats();
      const svc1 = cluster ? serviceCpu() : null;
      const pg1 = await samplePg();
      const wall = (performance.now() - wall0) / 1000;
      const r = results.map((x) => x.result);
      const sum = (k) => r.reduce((a, x) => a + x[k], 0);
      const e2e = r.reduce((h, x) => h.merge(Histogram.from(x.e2e)), new Histogram());
      const ack = r.reduce((h, x) => h.merge(Histogram.from(x.ack)), new Histogram());
      const errorCodes = {};
      for (const x of r) for (const [k, v] of Object.entries(x.errorCodes)) errorCodes[k] = (errorCodes[k] ?? 0) + v;
      const sendSeconds = Math.max(...r.map((x) => x.sendSeconds));
      const phase = {
        label,
        targetRate: rate,
        durationS,
        wallSeconds: wall,
        sent: sum('sent'),
        acked: sum('acked'),
        delivered: sum('delivered'),
        lost: sum('lost'),
        unacked: sum('unacked'),
        errors: sum('errors'),
        errorCodes,
        duplicates: sum('duplicates'),
        echoesToSender: sum('echoes'),
        outOfOrder: sum('outOfOrder'),
        deliveredUnacked: sum('deliveredUnacked'),
        closedSockets: Math.max(...r.map((x) => x.closedUnexpectedly)),
        aborted: r.some((x) => x.aborted),
        sendRate: sum('sent') / sendSeconds,
        deliveredRate: sum('delivered') / sendSeconds,
        e2e: { p50: e2e.quantile(0.5), p95: e2e.quantile(0.95), p99: e2e.quantile(0.99), max: e2e.max, n: e2e.n },
        ack: { p50: ack.quantile(0.5), p99: ack.quantile(0.99), max: ack.max },
        generatorMaxLagMs: Math.max(...r.map((x) => x.maxLagMs)),
        generatorElu: r.map((x) => Number(x.elu.toFixed(2))),
        generatorCpuPct: ((cpuGen.user + cpuGen.system) / 1e6 / wall) * 100,
        server: {
          cpuPct: cpuPercent(before, after),
          cpuUsPerAck: before && after ? ((after.cpuSec - before.cpuSec) * 1e6) / Math.max(1, sum('acked')) : NaN,
          rssMiB: after?.rssMiB,
          peakRssMiB: after?.hwmMiB,
          threadsUsPerAck: Object.fromEntries(
            Object.entries(threadShare).map(([k, sec]) => [k, Math.round((sec * 1e6) / Math.max(1, sum('acked')))]),
          ),
          threadsCores: Object.fromEntries(
            Object.entries(threadShare).map(([k, sec]) => [k, +(sec / wall).toFixed(2)]),
          ),
        },
        worker:
          workerBefore && workerAfter
            ? {
                cpuPct: cpuPercent(workerBefore, workerAfter),
                cpuUsPerAck: ((workerAfter.cpuSec - workerBefore.cpuSec) * 1e6) / Math.max(1, sum('acked')),
                rssMiB: workerAfter.rssMiB,
              }
            : undefined,
        natsSync: privateNats?.sync,
        privateNats:
          natsBefore && natsAfter
            ? {
                cores: +((natsAfter.cpuSec - natsBefore.cpuSec) / wall).toFixed(2),
                usPerAck: Math.round(((natsAfter.cpuSec - natsBefore.cpuSec) * 1e6) / Math.max(1, sum('acked'))),
              }
            : undefined,
        drainSeconds: Math.max(...r.map((x) => x.drainSeconds)),
        serverMetrics: metricDiff(m0, m1, wall),
        profileWindow: opts.cpuProf
          ? `--from=${profFrom.toFixed(1)} --to=${((performance.now() - server.spawnedAt) / 1000).toFixed(1)}`
          : undefined,
        services:
          svc0 && svc1
            ? Object.fromEntries(
                Object.keys(svc0).map((k) => [
                  k,
                  {
                    cores: +((svc1[k] - svc0[k]) / wall).toFixed(2),
                    usPerAck: Math.round(((svc1[k] - svc0[k]) * 1e6) / Math.max(1, sum('acked'))),
                  },
                ]),
              )
            : undefined,
        postgresByClient:
          pg0 && pg1
            ? Object.fromEntries(
                Object.keys(pg0).map((k) => [
                  k,
                  {
                    cores: +((pg1[k] - pg0[k]) / wall).toFixed(2),
                    usPerAck: Math.round(((pg1[k] - pg0[k]) * 1e6) / Math.max(1, sum('acked'))),
                  },
                ]),
              )
            : undefined,
        machine: machineShare(
          sys0,
          sys1,
          (after && before ? after.cpuSec - before.cpuSec : 0) +
            (workerAfter && workerBefore ? workerAfter.cpuSec - workerBefore.cpuSec : 0) +
            (cpuGen.user + cpuGen.system) / 1e6,
        ),
      };
      if (side) phase.during = await side;
      phase.p99Target = opts.p99Target ?? 250;
      phase.pass =
        phase.lost === 0 &&
        phase.unacked === 0 &&
        phase.errors === 0 &&
        !phase.aborted &&
        phase.e2e.p99 <= (opts.p99Target ?? 250) &&
        phase.sendRate >= rate * 0.97;
      report.phases.push(phase);
      printPhase(phase);
      return phase;
    };

    // --warmup=S: an unjudged phase at --warmup-rate (default 500/s) first. A fresh server's first
    // seconds of load (cold code and connections) ran at p99 of seconds on a starved machine, and a
    // ramp whose first step fails never climbs; the warm-up is reported, not counted.
    if (opts.warmup) {
      await runPhase(opts.warmupRate ?? 500, opts.warmup, 'warm-up');
      report.phases.at(-1).warmup = true;
      await settle(server.pid);
    }
    if (mode === 'ramp') {
      const stepS = opts.duration ?? 10;
      const step = opts.step ?? 2000;
      let lo = 0;
      let hi = null;
      for (let rate = opts.rate ?? step; rate <= (opts.maxRate ?? 40000); rate += step) {
        const p = await runPhase(rate, stepS, `ramp ${rate}/s`);
        await settle(server.pid);
        if (p.pass) lo = rate;
        else {
          hi = rate;
          break;
        }
      }
      while (hi !== null && hi - lo > Math.max(250, step / 8)) {
        const mid = Math.round((lo + hi) / 2 / 50) * 50;
        const p = await runPhase(mid, stepS, `bisect ${mid}/s`);
        await settle(server.pid);
        if (p.pass) lo = mid;
        else hi = mid;
      }
      report.ramp = {
        highestPassingRate: lo,
        lowestFailingRate: hi,
        criterion: `p99 <= ${opts.p99Target ?? 250} ms, zero lost/unacked/errors, generator kept the rate`,
      };
      log(
        `\nRAMP RESULT: highest rate held = ${lo} msg/s (first failing: ${hi ?? 'none up to max'}) with ${report.ramp.criterion}`,
      );
    } else {
      const rates = String(opts.rate ?? 5000)
        .split(',')
        .map(Number);
      for (const rate of rates) {
        await runPhase(rate, opts.duration ?? 20, `fixed ${rate}/s`);
        if (rates.length > 1) await settle(server.pid);
      }
    }
    const st = procStats(server.pid);
    report.serverFinal = st;
  } finally {
    for (const t of threads) {
      await Promise.race([request(t, { type: 'close' }, 'closed'), sleep(2000)]);
      await t.worker.terminate();
    }
    for (const c of Object.values(pgClients ?? {})) await c.close();
    const exit = await server.stop();
    report.serverExit = exit;
    if (worker) report.workerExit = await worker.stop();
    if (privateNats) await privateNats.stop();
    if (opts.cpuProf) log(`cpu profile written under ${path.join(DATA_ROOT, 'profiles')}`);
    if (!opts.keepData) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      // The cluster run's schema, streams and keys, as the other benchmarks drop theirs.
      if (cluster)
        await dropCluster({ backend: 'cluster', databaseUrl: env.DATABASE_URL, schema: env.DATABASE_SCHEMA }).catch(
          (err) => log(`(clean-up failed: ${err.message})`),
        );
    }
  }
  writeReport(report, 'socket');
  return report;
}

function request(t, cmd, replyType) {
  return new Promise((resolve, reject) => {
    const h = (m) => {
      if (m.type === replyType) {
        t.handlers.delete(h);
        resolve(m);
      } else if (m.type === 'error') {
        t.handlers.delete(h);
        reject(new Error(m.message));
      }
    };
    t.handlers.add(h);
    t.worker.postMessage(cmd);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) for the server to go quiet after a phase: CPU under 20% over 500 ms. */
async function settle(pid) {
  for (let i = 0; i < 20; i++) {
    const a = procStats(pid);
    await sleep(500);
    if (cpuPercent(a, procStats(pid)) < 20) return;
  }
}

/** Why a phase failed the criterion: a ramp's step can fail on refusals (503s) at a good p99. */
function failReasons(p) {
  const out = [];
  if (p.lost) out.push(`${p.lost} lost`);
  if (p.unacked) out.push(`${p.unacked} unacked`);
  if (p.errors) out.push(`${p.errors} errors ${JSON.stringify(p.errorCodes)}`);
  if (p.aborted) out.push('aborted');
  if (!(p.e2e.p99 <= p.p99Target)) out.push(`p99 ${fmt(p.e2e.p99)} ms`);
  if (p.sendRate < p.targetRate * 0.97) out.push(`generator sent ${p.sendRate.toFixed(0)}/s`);
  return out;
}

function printPhase(p) {
  const lines = [
    `\n== ${p.label} for ${p.durationS}s ==`,
    `  sent ${p.sent}  acked ${p.acked}  delivered ${p.delivered}  lost ${p.lost}  unacked ${p.unacked}  errors ${p.errors}${p.errors ? ` ${JSON.stringify(p.errorCodes)}` : ''}  duplicates ${p.duplicates}  out-of-order ${p.outOfOrder}  echoes-to-sending-socket ${p.echoesToSender}${p.aborted ? '  ABORTED (in-flight bound hit)' : ''}`,
    `  throughput: sent ${p.sendRate.toFixed(0)}/s, delivered ${p.deliveredRate.toFixed(0)}/s (target ${p.targetRate}/s)`,
    `  end-to-end (due time -> delivery at peer): p50 ${fmt(p.e2e.p50)}  p95 ${fmt(p.e2e.p95)}  p99 ${fmt(p.e2e.p99)}  max ${fmt(p.e2e.max)} ms`,
    `  send -> ack: p50 ${fmt(p.ack.p50)}  p99 ${fmt(p.ack.p99)}  max ${fmt(p.ack.max)} ms`,
    `  server: cpu ${p.server.cpuPct.toFixed(0)}% (${p.server.cpuUsPerAck.toFixed(0)} µs of server CPU per acked message)  rss ${p.server.rssMiB?.toFixed(0)} MiB (peak ${p.server.peakRssMiB?.toFixed(0)})`,
    `  server threads, µs per acked message: event loop ${p.server.threadsUsPerAck.main} (${p.server.threadsCores.main} cores), busiest other thread (SQLite writer) ${p.server.threadsUsPerAck.busiest} (${p.server.threadsCores.busiest} cores), rest ${p.server.threadsUsPerAck.rest}`,
    `  generator: cpu ${p.generatorCpuPct.toFixed(0)}% (all threads), worker ELU ${p.generatorElu.join('/')}, max schedule lag ${fmt(p.generatorMaxLagMs)} ms; drain ${p.drainSeconds.toFixed(1)} s`,
    `  server log commits: ${p.serverMetrics.batches} batches, mean ${p.serverMetrics.meanBatch.toFixed(1)} entries, mean commit ${fmt(p.serverMetrics.meanCommitMs)} ms, ${p.serverMetrics.commitSharePct.toFixed(0)}% of wall time inside commits; server-side send->ack mean ${fmt(p.serverMetrics.meanServerAckMs)} ms`,
    `  machine (2 cores shared): busy ${p.machine.busyCores} cores, other processes ${p.machine.otherProcessesCores} cores, hypervisor steal ${p.machine.stealCores} cores, idle ${p.machine.idleCores}, load ${p.machine.loadAvg1}; ` +
      `context switches ${p.machine.contextSwitchesPerSecond}/s (${((p.machine.contextSwitchesPerSecond * p.wallSeconds) / Math.max(1, p.acked)).toFixed(1)} per acked message)`,
    ...(p.worker
      ? [
          `  worker process: cpu ${p.worker.cpuPct.toFixed(0)}% (${p.worker.cpuUsPerAck.toFixed(0)} µs per acked message)  rss ${p.worker.rssMiB?.toFixed(0)} MiB`,
        ]
      : []),
    ...(p.services
      ? [
          `  backing services (all their clients): ${Object.entries(p.services)
            .map(([k, v]) => `${k} ${v.cores} cores (${v.usPerAck} µs per acked message)`)
            .join(', ')}`,
        ]
      : []),
    ...(p.privateNats
      ? [
          `  private nats-server (sync_interval ${p.natsSync}): ${p.privateNats.cores} cores (${p.privateNats.usPerAck} µs per acked message)`,
        ]
      : []),
    ...(p.postgresByClient
      ? [
          `  postgres backends by client: ${Object.entries(p.postgresByClient)
            .map(([k, v]) => `${k} ${v.cores} cores (${v.usPerAck} µs per acked message)`)
            .join(', ')}`,
        ]
      : []),
    ...(p.profileWindow ? [`  cpu profile window of this phase (seconds since server spawn): ${p.profileWindow}`] : []),
    `  verdict (p99<=250ms, no loss): ${p.pass ? 'PASS' : `FAIL (${failReasons(p).join(', ')})`}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Waits (bounded) until every durable log consumer of the process at `url` has nothing pending. */
async function drained(url, timeoutMs = 60_000) {
  const t0 = performance.now();
  let pending = NaN;
  while (performance.now() - t0 < timeoutMs) {
    const m = await scrape(url);
    const lags = Object.entries(m).filter(([k]) => k.startsWith('messenger_log_lag{'));
    pending = lags.reduce((a, [, v]) => a + v, 0);
    if (lags.length > 0 && pending === 0) break;
    await sleep(250);
  }
  log(`log consumers caught up with the setup in ${(performance.now() - t0).toFixed(0)} ms (pending ${pending})`);
}

/** Prometheus text -> { name{labels}: value } for the few series the report uses. */
async function scrape(url) {
  try {
    const res = await fetch(`${url}/metrics`);
    const text = await res.text();
    const out = {};
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const i = line.lastIndexOf(' ');
      out[line.slice(0, i)] = Number(line.slice(i + 1));
    }
    return out;
  } catch {
    return {};
  }
}

function metricDiff(a, b, wallS) {
  const d = (k) => (b[k] ?? 0) - (a[k] ?? 0);
  const batches = d('messenger_log_batch_size_count');
  const entries = d('messenger_log_batch_size_sum');
  const commitS = d('messenger_log_commit_seconds_sum');
  const ackN = d('messenger_send_ack_seconds_count{transport="ws"}');
  const ackS = d('messenger_send_ack_seconds_sum{transport="ws"}');
  return {
    batches,
    entries,
    meanBatch: batches ? entries / batches : NaN,
    meanCommitMs: batches ? (commitS / batches) * 1000 : NaN,
    commitSharePct: (commitS / wallS) * 100,
    meanServerAckMs: ackN ? (ackS / ackN) * 1000 : NaN,
    gcSeconds: Object.keys(b)
      .filter((k) => k.startsWith('nodejs_gc_duration_seconds_sum'))
      .reduce((s, k) => s + d(k), 0),
  };
}

export function writeReport(report, kind) {
  const dir = path.join(DATA_ROOT, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(report, null, 2));
  log(`results: ${file}`);
}

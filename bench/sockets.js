// Sockets per gateway: one server process holds N authenticated, idle WebSockets with heartbeats.
// Users and API keys are seeded straight into SQLite; generator processes (bench/lib/idle-gen.js)
// open the sockets over 127.0.0.1..127.0.0.<sources>, then hold them for --hold seconds (default 60,
// at least two server ping rounds at PING_INTERVAL_MS = 25 s). Server and generators are started
// with `ulimit -n 1048576` (capped at the hard limit when the container does not allow more).
// --backend=cluster: the gateway on this machine's PostgreSQL, NATS JetStream and Redis, in a process
// with ROLES=gateway, and the workers (persister, fan-out, notifier) in a second one (--split=false
// runs every role in one process), so the server numbers are the gateway's alone. Users and keys go
// straight into the server's PostgreSQL schema (--seed=http signs them up over HTTP instead). Also
// measured: Redis CPU (route and presence registration) and the CPU of the gateway's own PostgreSQL
// backends (found by application_name) per accepted socket and while idle. After every other
// reading, a separate one: RSS after a full GC forced through the server's inspector (live data
// against garbage; never the headline RSS per socket).
// --gateways=N (cluster): N gateway processes on ports next to each other, one workers process, the
// sockets split evenly (user i on gateway i mod N, each generator on one gateway), figures per
// gateway and in total. Then a delivery sample (--sample=1000, on by default with N > 1; --sample-rate
// messages/s, default 200): users send one message each over HTTP, through their own gateway, to a
// recipient on the next gateway (a direct chat created for it after the hold), timed from the send to
// the message.created frame at the recipient's socket.
import { execSync } from 'node:child_process';
import path from 'node:path';
import { fmt, Histogram } from './lib/hist.js';
import { client } from './lib/http.js';
import { closeChildren, spawnChild } from './lib/fleet-ctl.js';
import { createConversationsOverHttp, seedDirect, seedOverHttp, seedPostgres } from './lib/seed.js';
import { pgBackendCpu } from './lib/pg-cpu.js';
import {
  acceptQueue,
  clusterEnv,
  MAIN,
  cpuPercent,
  DATA_ROOT,
  tcpExt,
  freshDataDir,
  machineInfo,
  machineShare,
  procStats,
  serviceCpu,
  startServer,
  systemStats,
} from './lib/server.js';
import { dropCluster } from './data.js';
import { writeReport } from './socket.js';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const out = (...a) => process.stdout.write(`${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sumOf = (xs, f = (x) => x) => xs.reduce((a, x) => a + f(x), 0);
/** µs per item of a CPU-seconds figure. */
const usPer = (sec, n) => (sec * 1e6) / Math.max(1, n);
/** Several processes' procStats as one (CPU and RSS summed; `each` keeps them), null when one is gone. */
const statsOf = (pids) => {
  const each = pids.map(procStats);
  if (each.some((x) => !x)) return null;
  const total = (k) => sumOf(each, (x) => x[k]);
  return { at: each[0].at, cpuSec: total('cpuSec'), rssMiB: total('rssMiB'), hwmMiB: total('hwmMiB'), each };
};

export async function socketsBench(opts) {
  const requested = opts.count ?? 100_000;
  // Many source addresses: the kernel's port search in bind() slows down as one address fills up
  // (8 addresses cost the generator 300-900 µs per connect at 19k sockets, 64 cost 65 µs).
  const sourcesN = opts.sources ?? 64;
  const holdS = opts.hold ?? 60;
  const gatewaysN = opts.gateways ?? 1;
  const cluster = opts.backend === 'cluster';
  const split = cluster && opts.split !== false;
  if (gatewaysN > 1 && !split) throw new Error('--gateways=N needs --backend=cluster (workers in their own process)');
  const machine = machineInfo();
  // The fd limit this bench can get: `ulimit -n 1048576` fails without CAP_SYS_RESOURCE when the hard limit is lower.
  const hard = Number(
    execSync(`sh -c 'ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ulimit -n'`).toString().trim(),
  );
  const serverFdReserve = 200; // SQLite files, listener, HTTP, stdio
  let count = requested;
  let capped = null;
  if (count > (hard - serverFdReserve) * gatewaysN && !opts.force) {
    count = (hard - serverFdReserve) * gatewaysN;
    capped = `requested ${requested} sockets, but RLIMIT_NOFILE can only be raised to ${hard} here (hard limit; setrlimit above it is EPERM in this container), so one server process can hold at most ~${hard} fds: running ${count}${gatewaysN > 1 ? ` over ${gatewaysN} gateways` : ''} (--force tries anyway)`;
    log(`!! ${capped}`);
  }
  // Several gateways: one generator per gateway as long as it fits in a process's fds.
  const perGen = Math.min(opts.perGen ?? (gatewaysN > 1 ? hard - 200 : 15_000), hard - 200);
  // A multiple of the gateways: generator g serves gateway g mod N, so user i is on gateway i mod N.
  const gensN = Math.ceil((opts.gens ?? Math.max(1, Math.ceil(count / perGen))) / gatewaysN) * gatewaysN;
  const gatewayOf = (userIndex) => userIndex % gatewaysN;
  const sampleWanted =
    opts.sample === true ? 1000 : opts.sample === undefined ? (gatewaysN > 1 ? 1000 : 0) : Number(opts.sample) || 0;
  const sampleN = Math.min(Math.floor(count / 2), sampleWanted);
  log(
    `# sockets: ${count} idle authenticated sockets${gatewaysN > 1 ? ` over ${gatewaysN} gateways` : ''}, ${gensN} generator processes, ${sourcesN} source addresses, hold ${holdS} s (fd limit ${hard}; load ${machine.load})`,
  );

  const dataDir = freshDataDir(cluster ? 'sockets-cluster' : 'sockets');
  const cpuProf = opts.cpuProf ? path.join(DATA_ROOT, 'profiles') : null;
  // The gateway's and the workers' PostgreSQL backends are told apart by application_name (PGAPPNAME).
  const appName = (i) => `bench_sockets_gw_${process.pid}_${i}`;
  const env = cluster ? clusterEnv(dataDir) : null;
  const worker = split
    ? await startServer({
        dataDir: path.join(dataDir, 'worker'),
        env: { ...env, ROLES: 'persister,fanout,notifier', PGAPPNAME: `bench_sockets_wk_${process.pid}` },
        readyTimeoutMs: 60_000,
        cpuProf,
      })
    : null;
  const s0 = performance.now();
  let seeded = cluster ? null : await seedDirect(dataDir, { users: count });
  let seedMs = performance.now() - s0;
  const gateways = [];
  const basePort = 18000 + Math.floor(Math.random() * (2000 - gatewaysN));
  const startGateway = (i) =>
    startServer({
      dataDir: i === 0 ? dataDir : path.join(dataDir, `gateway-${i}`),
      port: basePort + i,
      nofile: 1048576,
      env: cluster ? { ...env, ...(split ? { ROLES: 'gateway' } : {}), PGAPPNAME: appName(i) } : {},
      readyTimeoutMs: 60_000,
      cpuProf,
    });
  const seedHow = !cluster
    ? 'into SQLite'
    : opts.seed === 'http'
      ? 'over HTTP (POST /v1/users)'
      : `straight into PostgreSQL schema ${env.DATABASE_SCHEMA}`;
  try {
    gateways.push(await startGateway(0));
    if (cluster) {
      // After the server started: its migrations created the schema.
      const t0 = performance.now();
      seeded =
        opts.seed === 'http'
          ? await seedOverHttp(gateways[0].url, { users: count })
          : await seedPostgres(env, { users: count });
      seedMs = performance.now() - t0;
    }
    const more = await Promise.allSettled(Array.from({ length: gatewaysN - 1 }, (_, i) => startGateway(i + 1)));
    for (const r of more) if (r.status === 'fulfilled') gateways.push(r.value);
    const failedStart = more.find((r) => r.status === 'rejected');
    if (failedStart) throw failedStart.reason;
  } catch (error) {
    // Nothing left running or behind when the start or the seeding fails.
    await Promise.all(gateways.map((g) => g.stop()));
    await worker?.stop();
    if (cluster && !opts.keep)
      await dropCluster({ backend: 'cluster', databaseUrl: env.DATABASE_URL, schema: env.DATABASE_SCHEMA }).catch(
        () => undefined,
      );
    throw error;
  }
  const { users } = seeded;
  const server = gateways[0];
  const gatewayStats = () => statsOf(gateways.map((g) => g.pid));
  log(`seeded ${users.length} users + API keys ${seedHow} in ${seedMs.toFixed(0)} ms`);
  if (worker)
    log(
      `cluster: gateway pid ${gateways.map((g) => `${g.pid} (port ${g.port})`).join(', ')} (ROLES=gateway), workers pid ${worker.pid} (persister, fan-out, notifier)`,
    );
  if (cluster)
    log(
      `cluster backend: schema ${env.DATABASE_SCHEMA}, streams ${env.LOG_STREAM_PREFIX}_*, keys ${env.REDIS_KEY_PREFIX}*`,
    );
  const serverLimit = execSync(`grep 'open files' /proc/${server.pid}/limits`).toString().trim().replace(/\s+/g, ' ');
  log(`server pid ${server.pid} ready in ${server.startMs.toFixed(0)} ms (${serverLimit})`);
  // "server" in the lines below: every gateway together when there are several.
  const who = gatewaysN > 1 ? `${gatewaysN} gateways'` : 'server';
  const report = {
    machine,
    command: process.argv.slice(2).join(' '),
    backend: cluster
      ? split
        ? gatewaysN > 1
          ? `cluster, ${gatewaysN} gateway processes and one workers process`
          : 'cluster, gateway and workers in two processes'
        : 'cluster, one process'
      : 'embedded',
    gateways: gatewaysN,
    requested,
    count,
    capped,
    fdHardLimit: hard,
    serverLimit,
    seedMs,
    seedHow,
    serverMain: MAIN,
  };
  const gens = [];
  const pgCpus = cluster ? await Promise.all(gateways.map((_, i) => pgBackendCpu(env.DATABASE_URL, appName(i)))) : [];
  // Backing services' CPU between two samples: Redis and NATS machine-wide, PostgreSQL only the gateways' backends.
  const svcSample = async () => {
    if (!cluster) return null;
    const gatewayPgEach = await Promise.all(pgCpus.map((p) => p.sample()));
    return {
      ...serviceCpu(),
      gatewayPg: sumOf(gatewayPgEach),
      gatewayPgEach,
      worker: worker ? procStats(worker.pid) : null,
    };
  };
  const svcDelta = (a, b) =>
    a && b
      ? {
          redisSec: b['redis-server'] - a['redis-server'],
          natsSec: b['nats-server'] - a['nats-server'],
          postgresAllSec: b.postgres - a.postgres,
          gatewayPgSec: b.gatewayPg - a.gatewayPg,
          gatewayPgEachSec: b.gatewayPgEach.map((x, i) => x - a.gatewayPgEach[i]),
          workerSec: a.worker && b.worker ? b.worker.cpuSec - a.worker.cpuSec : null,
        }
      : null;
  try {
    await sleep(3000);
    const idle0 = gatewayStats();
    await sleep(3000);
    const idle1 = gatewayStats();
    report.before = {
      rssMiB: idle1.rssMiB,
      rssEachMiB: idle1.each.map((x) => x.rssMiB),
      cpuPct: cpuPercent(idle0, idle1),
      workerRssMiB: worker ? procStats(worker.pid)?.rssMiB : undefined,
      heap: await heapOf(server.url),
    };
    log(
      `${who} before: RSS ${idle1.rssMiB.toFixed(1)} MiB, CPU ${report.before.cpuPct.toFixed(1)}%${worker ? `; workers RSS ${report.before.workerRssMiB.toFixed(1)} MiB` : ''}`,
    );

    const sources = Array.from({ length: sourcesN }, (_, i) => `127.0.0.${i + 1}`);
    // The delivery sample: recipients spread evenly, each with the next user (on the next gateway) as sender.
    const spacing = sampleN ? Math.floor(count / sampleN) : 0;
    const pairs = Array.from({ length: sampleN }, (_, k) => ({ recipient: k * spacing, sender: k * spacing + 1 }));
    const sampled = new Set(pairs.map((p) => p.recipient));
    for (let g = 0; g < gensN; g++) {
      const gen = spawnChild(new URL('./lib/idle-gen.js', import.meta.url), {
        name: `gen ${g}`,
        nice: opts.genNice ?? 0,
        nodeArgs: opts.genProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(DATA_ROOT, 'profiles', 'gen')}`] : [],
      });
      gens.push(gen);
      // Each generator takes every gensN-th user and rotates over all sources.
      const mine = users.flatMap((u, i) => (i % gensN !== g ? [] : sampled.has(i) ? [{ ...u, expectMsgs: 1 }] : [u]));
      await gen.request(
        {
          type: 'init',
          url: gateways[g % gatewaysN].url,
          client: opts.client ?? 'raw',
          users: mine,
          sources: sources.slice(g % sourcesN).concat(sources.slice(0, g % sourcesN)),
        },
        'inited',
      );
    }
    const last = new Map();
    gens.forEach((g, i) => g.on((m) => m.type === 'tick' && last.set(i, m)));
    const sum = (k) => [...last.values()].reduce((a, x) => a + x[k], 0);
    let ticking = true;
    const started = performance.now();
    const _sys0 = systemStats();
    let prevAuthed = 0;
    let peakRate = 0;
    let maxAcceptQueue = 0;
    const queues = () => acceptQueue(...gateways.map((g) => g.port));
    const ticker = (async () => {
      let prev = gatewayStats();
      while (ticking) {
        await sleep(1000);
        const st = gatewayStats();
        for (const p of pgCpus) void p.sample();
        const a = sum('authed');
        const q = queues();
        if (q > maxAcceptQueue) maxAcceptQueue = q;
        peakRate = Math.max(peakRate, a - prevAuthed);
        log(
          `  [${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] authenticated ${a}/${count} (+${a - prevAuthed}/s) errors ${sum('errors')} closed ${sum('closed')} | ${who} rss ${st?.rssMiB.toFixed(0)} MiB cpu ${cpuPercent(prev, st).toFixed(0)}%${gatewaysN > 1 && st && prev ? ` (${st.each.map((x, i) => cpuPercent(prev.each[i], x).toFixed(0)).join('/')})` : ''} accept-queue ${q} | load ${systemStats().load}`,
        );
        prevAuthed = a;
        prev = st;
      }
    })();
    const c0 = performance.now();
    report.profileWindow = { from: (c0 - server.spawnedAt) / 1000 };
    log(`profile window: connect phase starts at ${report.profileWindow.from.toFixed(1)} s after server spawn`);
    const st0 = gatewayStats();
    const svc0 = await svcSample();
    const tcp0 = tcpExt();
    const results = await Promise.all(
      gens.map((g) => g.request({ type: 'connect', concurrency: opts.concurrency ?? 100 }, 'connected')),
    );
    const connectMs = performance.now() - c0;
    const st1 = gatewayStats();
    const svc1 = await svcSample();
    const tcp1 = tcpExt();
    const ok = sumOf(results, (r) => r.ok);
    const failed = sumOf(results, (r) => r.failed);
    // Per gateway: generator g serves gateway g mod N.
    const byGateway = (xs, f) =>
      gateways.map((_, i) =>
        sumOf(
          xs.filter((_, g) => g % gatewaysN === i),
          f,
        ),
      );
    const okEach = byGateway(results, (r) => r.ok);
    report.connect = {
      ok,
      failed,
      seconds: connectMs / 1000,
      acceptPerSec: ok / (connectMs / 1000),
      peakPerSec: peakRate,
      serverCpuPct: cpuPercent(st0, st1),
      serverCpuUsPerAccept: usPer(st1.cpuSec - st0.cpuSec, ok),
      client: opts.client ?? 'raw',
      generatorCpuUsPerSocket: usPer(
        sumOf(results, (r) => r.cpuSec),
        ok,
      ),
      perSocketP50: Math.max(...results.map((r) => r.conn.p50)),
      perSocketP99: Math.max(...results.map((r) => r.conn.p99)),
      loadAvg: systemStats().load,
      listenOverflows: tcp1.listenOverflows - tcp0.listenOverflows,
      listenDrops: tcp1.listenDrops - tcp0.listenDrops,
      maxAcceptQueue,
      services: svcDelta(svc0, svc1),
    };
    if (cluster) {
      const d = report.connect.services;
      report.connect.perSocketUs = {
        redis: usPer(d.redisSec, ok),
        gatewayPostgres: usPer(d.gatewayPgSec, ok),
        nats: usPer(d.natsSec, ok),
        workers: d.workerSec === null ? null : usPer(d.workerSec, ok),
      };
    }
    log(
      `connected ${ok} (failed ${failed}) in ${(connectMs / 1000).toFixed(1)} s = ${report.connect.acceptPerSec.toFixed(0)}/s`,
    );
    await sleep(5000);
    const afterConnect = gatewayStats();
    const settleS = (performance.now() - c0 - connectMs) / 1000;
    const heapAfterConnect = await heapOf(server.url);
    // Hold: idle with heartbeats.
    const h0 = gatewayStats();
    const hs0 = systemStats();
    const hsv0 = await svcSample();
    await sleep(holdS * 1000);
    const h1 = gatewayStats();
    const hs1 = systemStats();
    // The accept's work that comes after it (presence announcements 1 s later, batched credential
    // touches): the connect phase plus the 5 s after it, less the hold's idle rate over those 5 s.
    // A heartbeat round falling into those 5 s would count too (one every PING_INTERVAL_MS).
    const settledUs = (c0, c1, i0, i1, n) =>
      usPer(c1.cpuSec - c0.cpuSec - ((i1.cpuSec - i0.cpuSec) / holdS) * settleS, n);
    report.connect.serverCpuUsPerAcceptSettled = settledUs(st0, afterConnect, h0, h1, ok);
    const hsv1 = await svcSample();
    ticking = false;
    await ticker;
    const pings = await Promise.all(gens.map((g) => g.request({ type: 'pings' }, 'pings')));
    report.hold = {
      seconds: holdS,
      serverCpuPct: cpuPercent(h0, h1),
      rssAfterConnectMiB: afterConnect.rssMiB,
      rssEndMiB: h1.rssMiB,
      heapAfterConnect,
      heapEnd: await heapOf(server.url),
      hwmMiB: h1.hwmMiB,
      liveSockets: sumOf(pings, (p) => p.live),
      pingsMin: Math.min(...pings.map((p) => p.min)),
      pingsMax: Math.max(...pings.map((p) => p.max)),
      closedDuringRun: sum('closed'),
      closeCodes: [...last.values()].reduce(
        (o, x) => (Object.entries(x.closeCodes).forEach(([k, v]) => (o[k] = (o[k] ?? 0) + v)), o),
        {},
      ),
      errorCodes: [...last.values()].reduce(
        (o, x) => (Object.entries(x.errorCodes).forEach(([k, v]) => (o[k] = (o[k] ?? 0) + v)), o),
        {},
      ),
      machine: machineShare(hs0, hs1, h1.cpuSec - h0.cpuSec),
      services: svcDelta(hsv0, hsv1),
      workerRssEndMiB: hsv1?.worker?.rssMiB,
      generatorsRssMiB: [...last.values()].map((x) => +x.rssMiB.toFixed(0)),
    };
    const kibPerSocket = (rssMiB, beforeMiB, live) => ((rssMiB - beforeMiB) * 1024) / Math.max(1, live);
    const perSocketKiB = kibPerSocket(h1.rssMiB, report.before.rssMiB, report.hold.liveSockets);
    report.rssPerSocketKiB = perSocketKiB;
    const liveEach = byGateway(pings, (p) => p.live);
    report.perGateway = gateways.map((g, i) => ({
      pid: g.pid,
      port: g.port,
      accepted: okEach[i],
      cpuUsPerAccept: usPer(st1.each[i].cpuSec - st0.each[i].cpuSec, okEach[i]),
      cpuUsPerAcceptSettled: settledUs(st0.each[i], afterConnect.each[i], h0.each[i], h1.each[i], okEach[i]),
      pgUsPerAccept: cluster ? usPer(report.connect.services.gatewayPgEachSec[i], okEach[i]) : null,
      rssBeforeMiB: report.before.rssEachMiB[i],
      rssEndMiB: h1.each[i].rssMiB,
      liveSockets: liveEach[i],
      rssPerSocketKiB: kibPerSocket(h1.each[i].rssMiB, report.before.rssEachMiB[i], liveEach[i]),
      idleCpuPct: cpuPercent(h0.each[i], h1.each[i]),
    }));
    if (sampleN)
      report.delivery = await deliverySample({
        gateways,
        users,
        pairs,
        gatewayOf,
        gens,
        rate: opts.sampleRate ?? 200,
        delivered: () => sum('delivered'),
      });
    out(
      `\n## sockets: ${ok} of ${requested} requested${gatewaysN > 1 ? ` over ${gatewaysN} gateways` : ''} (${machine.date}, load ${machine.load} -> ${hs1.load})`,
    );
    if (capped) out(`NOTE: ${capped}`);
    if (process.env.BENCH_SERVER_MAIN) out(`server build: ${MAIN} (BENCH_SERVER_MAIN)`);
    out(
      `accept: ${ok} authenticated in ${report.connect.seconds.toFixed(1)} s = ${report.connect.acceptPerSec.toFixed(0)}/s (peak 1 s: ${peakRate}/s), failed ${failed}; per socket connect+auth p50 ${fmt(report.connect.perSocketP50)} ms p99 ${fmt(report.connect.perSocketP99)} ms; ${who} CPU while accepting ${report.connect.serverCpuPct.toFixed(0)}% = ${report.connect.serverCpuUsPerAccept.toFixed(0)} µs of ${who} CPU per accepted socket (=> ~${(1e6 / report.connect.serverCpuUsPerAccept).toFixed(0)}/s on one dedicated core), ${report.connect.serverCpuUsPerAcceptSettled.toFixed(0)} µs with the 5 s after it (announcements, touches); generator (${report.connect.client} client) CPU ${report.connect.generatorCpuUsPerSocket.toFixed(0)} µs per socket; accept queue max ${maxAcceptQueue}, kernel ListenOverflows +${report.connect.listenOverflows} (machine-wide)`,
    );
    out(
      `${who} RSS: before ${report.before.rssMiB.toFixed(1)} MiB, after connect ${afterConnect.rssMiB.toFixed(1)} MiB, after ${holdS} s hold ${h1.rssMiB.toFixed(1)} MiB (peak ${h1.hwmMiB.toFixed(0)}) => ${perSocketKiB.toFixed(1)} KiB per socket`,
    );
    const hp = (h) =>
      h
        ? `heap used ${h.usedMiB.toFixed(0)} of ${h.totalMiB.toFixed(0)} MiB, external ${h.externalMiB.toFixed(0)} MiB`
        : '?';
    out(
      `${gatewaysN > 1 ? 'gateway 0' : 'server'} V8 heap (/metrics): before ${hp(report.before.heap)}; after connect ${hp(heapAfterConnect)}; end ${hp(report.hold.heapEnd)}`,
    );
    out(
      `idle with heartbeats (${holdS} s, PING_INTERVAL_MS 25000): ${who} CPU ${report.hold.serverCpuPct.toFixed(1)}% of a core; pings per socket ${report.hold.pingsMin}..${report.hold.pingsMax}; sockets alive ${report.hold.liveSockets}; closed ${report.hold.closedDuringRun} ${JSON.stringify(report.hold.closeCodes)}; client errors ${JSON.stringify(report.hold.errorCodes)}`,
    );
    if (cluster) {
      const c = report.connect;
      const h = report.hold.services;
      const pct = (sec) => ((sec / holdS) * 100).toFixed(1);
      out(
        `cluster (${report.backend}; seeded ${users.length} users ${seedHow} in ${(seedMs / 1000).toFixed(1)} s): per accepted socket, Redis ${c.perSocketUs.redis.toFixed(0)} µs, the ${gatewaysN > 1 ? "gateways'" : "gateway's"} PostgreSQL backends ${c.perSocketUs.gatewayPostgres.toFixed(0)} µs, NATS ${c.perSocketUs.nats.toFixed(0)} µs${c.perSocketUs.workers === null ? '' : `, workers process ${c.perSocketUs.workers.toFixed(0)} µs`} (PostgreSQL all backends ${((c.services.postgresAllSec * 1e6) / Math.max(1, ok)).toFixed(0)} µs, includes other sessions)`,
      );
      out(
        `cluster idle (${holdS} s hold): Redis ${pct(h.redisSec)}% of a core, ${gatewaysN > 1 ? "gateways'" : "gateway's"} PostgreSQL backends ${pct(h.gatewayPgSec)}%, NATS ${pct(h.natsSec)}%${h.workerSec === null ? '' : `, workers process ${pct(h.workerSec)}% (RSS ${report.hold.workerRssEndMiB?.toFixed(0)} MiB)`}; Redis and NATS are machine-wide`,
      );
    }
    out(
      `machine during hold: ${JSON.stringify(report.hold.machine)}; generator RSS MiB ${report.hold.generatorsRssMiB.join('/')}`,
    );
    if (gatewaysN > 1) {
      out(
        `per gateway (${gatewaysN} processes, ROLES=gateway): accepted, CPU per accept while accepting (with the 5 s after), its PostgreSQL backends per accept, RSS before -> after the hold, RSS per socket, idle CPU:`,
      );
      for (const [i, g] of report.perGateway.entries())
        out(
          `  gateway ${i} (pid ${g.pid}, port ${g.port}): ${g.accepted} accepted, ${g.cpuUsPerAccept.toFixed(0)} µs (${g.cpuUsPerAcceptSettled.toFixed(0)} µs), PostgreSQL ${g.pgUsPerAccept.toFixed(0)} µs, RSS ${g.rssBeforeMiB.toFixed(0)} -> ${g.rssEndMiB.toFixed(0)} MiB = ${g.rssPerSocketKiB.toFixed(1)} KiB per socket (${g.liveSockets} alive), idle ${g.idleCpuPct.toFixed(1)}%`,
        );
    }
    const d = report.delivery;
    if (d)
      out(
        `delivery sample: ${d.sent} messages at ${d.rate}/s over HTTP, each from a user to a recipient on ${gatewaysN > 1 ? 'the next gateway' : 'the same server'} (direct chats created after the hold); accepted ${d.acked}, failed ${d.sendFailed}, answers other than 201 ${JSON.stringify(d.rejections)} (${d.retried} sent again after Retry-After); send->accepting HTTP reply p50 ${fmt(d.ack.p50)} ms p99 ${fmt(d.ack.p99)} ms; delivered ${d.delivered}/${d.sent} (missing ${d.missing}, duplicates ${d.duplicates}); send->receipt at the recipient's socket p50 ${fmt(d.p50)} ms, p90 ${fmt(d.p90)} ms, p99 ${fmt(d.p99)} ms, max ${fmt(d.max)} ms`,
      );
    // A separate reading after every one above: RSS after a full GC forced from outside. Not the
    // RSS per socket above (no server runs forced GCs); it tells live data from uncollected garbage.
    // Several gateways: gateway 0's alone (one inspector port).
    const gced = await rssAfterForcedGc(server.pid);
    if (gced) {
      report.afterForcedGc = {
        rssMiB: gced.rssMiB,
        heap: await heapOf(server.url),
        rssPerSocketKiB: kibPerSocket(gced.rssMiB, report.before.rssEachMiB[0], liveEach[0]),
      };
      out(
        `separately, after a forced full GC (inspector HeapProfiler.collectGarbage, inspector opened by SIGUSR1): ${gatewaysN > 1 ? 'gateway 0' : 'server'} RSS ${gced.rssMiB.toFixed(1)} MiB => ${report.afterForcedGc.rssPerSocketKiB.toFixed(1)} KiB per socket; ${hp(report.afterForcedGc.heap)}`,
      );
    } else out('separately, after a forced full GC: not measured (inspector port 9229 taken or no answer)');
    writeReport(report, 'sockets');
  } finally {
    await closeChildren(gens);
    await Promise.all(gateways.map((g) => g.stop()));
    await worker?.stop();
    await Promise.all(pgCpus.map((p) => p.close()));
    if (cluster && !opts.keep)
      await dropCluster({ backend: 'cluster', databaseUrl: env.DATABASE_URL, schema: env.DATABASE_SCHEMA }).catch(
        (err) => log(`(clean-up failed: ${err.message})`),
      );
  }
}

/**
 * The delivery sample: a direct chat per pair (created over HTTP on gateway 0), then one message per
 * pair at `rate`/s, open loop, POSTed by the sender through its own gateway with the due time in the
 * body; the recipients' generators time the message.created frame against it (bench/lib/idle-gen.js,
 * users given expectMsgs: 1). A 503 (store behind the log) is retried as a client would (sendOne).
 * Waits until all accepted messages arrived or 10 s passed.
 */
async function deliverySample({ gateways, users, pairs, gatewayOf, gens, rate, delivered }) {
  const c0 = performance.now();
  const convs = await createConversationsOverHttp(
    gateways[0].url,
    users,
    pairs.map((p) => ({ members: [p.sender, p.recipient], body: { memberIds: [users[p.recipient].id] } })),
  );
  log(`delivery sample: ${convs.length} direct chats created in ${(performance.now() - c0).toFixed(0)} ms`);
  await sleep(5000); // their log entries stored and their events delivered before the timed sends
  const https = gateways.map((g) => client(g.url, { maxSockets: 32 }));
  const now = () => performance.timeOrigin + performance.now(); // the clock idle-gen.js times with
  const tag = Date.now().toString(36);
  const start = now() + 100;
  const acks = [];
  let sendFailed = 0;
  let retried = 0;
  const rejections = {}; // every answer other than 201/200, by HTTP status and code (or error code)
  // As a client does: a 503 is sent again with the same clientMsgId after its Retry-After (3 times at
  // most), the latency still counted from the first due time.
  const sendOne = async (k, p, due) => {
    for (let attempt = 0; ; attempt++) {
      const r = await https[gatewayOf(p.sender)]
        .request('POST', `/v1/conversations/${convs[k].id}/messages`, {
          token: users[p.sender].apiKey,
          body: { clientMsgId: `sample-${tag}-${k}`, body: `${due.toFixed(2)} 0 delivery sample` },
        })
        .catch((e) => ({ status: 0, code: e.code ?? 'error' }));
      if (r.status === 201 || r.status === 200) return void acks.push(now() - due);
      const key = r.status ? `${r.status} ${r.json?.error?.code ?? ''}`.trim() : r.code;
      rejections[key] = (rejections[key] ?? 0) + 1;
      if (r.status !== 503 || attempt >= 3) return void sendFailed++;
      retried++;
      await sleep(1000 * (Number(r.headers?.['retry-after']) || 1));
    }
  };
  const pend = [];
  try {
    for (const [k, p] of pairs.entries()) {
      const due = start + (k * 1000) / rate;
      const wait = due - now();
      if (wait > 0) await sleep(wait);
      pend.push(sendOne(k, p, due));
    }
    await Promise.all(pend);
  } finally {
    for (const h of https) h.close();
  }
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline && delivered() < acks.length) await sleep(250);
  await sleep(1500);
  const finals = await Promise.all(gens.map((g) => g.request({ type: 'final' }, 'final')));
  const lat = finals.reduce((h, f) => h.merge(Histogram.from(f.lat)), new Histogram());
  return {
    sent: pairs.length,
    rate,
    acked: acks.length,
    sendFailed,
    retried,
    rejections,
    ack: Histogram.exact(acks),
    delivered: sumOf(finals, (f) => f.delivered),
    missing: sumOf(finals, (f) => f.missing),
    duplicates: sumOf(finals, (f) => f.duplicates),
    stray: sumOf(finals, (f) => f.stray),
    p50: lat.quantile(0.5),
    p90: lat.quantile(0.9),
    p99: lat.quantile(0.99),
    max: lat.max,
  };
}

/**
 * The server's RSS after a full GC: its inspector is opened with SIGUSR1 (Node listens on
 * 127.0.0.1:9229), a GC is requested over it, and RSS is read a second later. The inspector's own
 * thread and buffers count in that RSS, so the reading errs high. Null when port 9229 is already
 * taken (it might be another process's inspector) or the inspector does not answer.
 */
async function rssAfterForcedGc(pid) {
  const list = () =>
    fetch('http://127.0.0.1:9229/json/list').then(
      (r) => r.json(),
      () => null,
    );
  if (await list()) return null;
  const { WebSocket } = await import('ws');
  try {
    process.kill(pid, 'SIGUSR1');
    let targets = null;
    for (let i = 0; i < 50 && !targets; i++) {
      await sleep(100);
      targets = await list();
    }
    const url = targets?.[0]?.webSocketDebuggerUrl;
    if (!url) return null;
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const done = await Promise.race([
      new Promise((resolve) => {
        ws.on('message', (data) => JSON.parse(data.toString()).id === 1 && resolve(true));
        ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
      }),
      sleep(30_000).then(() => false),
    ]);
    ws.close();
    if (!done) return null;
    await sleep(1000);
    return procStats(pid);
  } catch {
    return null;
  }
}

/** The server's V8 heap from its /metrics (prom-client default metrics), in MiB. */
async function heapOf(url) {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const get = (name) => Number((text.match(new RegExp(`^${name} (\\S+)`, 'm')) ?? [])[1] ?? NaN) / 1048576;
    return {
      usedMiB: get('nodejs_heap_size_used_bytes'),
      totalMiB: get('nodejs_heap_size_total_bytes'),
      externalMiB: get('nodejs_external_memory_bytes'),
    };
  } catch {
    return null;
  }
}

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
import { execSync } from 'node:child_process';
import path from 'node:path';
import { fmt } from './lib/hist.js';
import { closeChildren, spawnChild } from './lib/fleet-ctl.js';
import { seedDirect, seedOverHttp, seedPostgres } from './lib/seed.js';
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

export async function socketsBench(opts) {
  const requested = opts.count ?? 100_000;
  // Many source addresses: the kernel's port search in bind() slows down as one address fills up
  // (8 addresses cost the generator 300-900 µs per connect at 19k sockets, 64 cost 65 µs).
  const sourcesN = opts.sources ?? 64;
  const holdS = opts.hold ?? 60;
  const machine = machineInfo();
  // The fd limit this bench can get: `ulimit -n 1048576` fails without CAP_SYS_RESOURCE when the hard limit is lower.
  const hard = Number(
    execSync(`sh -c 'ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ulimit -n'`).toString().trim(),
  );
  const serverFdReserve = 200; // SQLite files, listener, HTTP, stdio
  let count = requested;
  let capped = null;
  if (count > hard - serverFdReserve && !opts.force) {
    count = hard - serverFdReserve;
    capped = `requested ${requested} sockets, but RLIMIT_NOFILE can only be raised to ${hard} here (hard limit; setrlimit above it is EPERM in this container), so one server process can hold at most ~${hard} fds: running ${count} (--force tries anyway)`;
    log(`!! ${capped}`);
  }
  const perGen = Math.min(opts.perGen ?? 15_000, hard - 200);
  const gensN = opts.gens ?? Math.max(1, Math.ceil(count / perGen));
  log(
    `# sockets: ${count} idle authenticated sockets, ${gensN} generator processes, ${sourcesN} source addresses, hold ${holdS} s (fd limit ${hard}; load ${machine.load})`,
  );

  const cluster = opts.backend === 'cluster';
  const split = cluster && opts.split !== false;
  const dataDir = freshDataDir(cluster ? 'sockets-cluster' : 'sockets');
  const cpuProf = opts.cpuProf ? path.join(DATA_ROOT, 'profiles') : null;
  // The gateway's and the workers' PostgreSQL backends are told apart by application_name (PGAPPNAME).
  const appName = `bench_sockets_gw_${process.pid}`;
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
  let server = null;
  const seedHow = !cluster
    ? 'into SQLite'
    : opts.seed === 'http'
      ? 'over HTTP (POST /v1/users)'
      : `straight into PostgreSQL schema ${env.DATABASE_SCHEMA}`;
  try {
    server = await startServer({
      dataDir,
      nofile: 1048576,
      env: cluster ? { ...env, ...(split ? { ROLES: 'gateway' } : {}), PGAPPNAME: appName } : {},
      readyTimeoutMs: 60_000,
      cpuProf,
    });
    if (cluster) {
      // After the server started: its migrations created the schema.
      const t0 = performance.now();
      seeded =
        opts.seed === 'http'
          ? await seedOverHttp(server.url, { users: count })
          : await seedPostgres(env, { users: count });
      seedMs = performance.now() - t0;
    }
  } catch (error) {
    // Nothing left running or behind when the start or the seeding fails.
    await server?.stop();
    await worker?.stop();
    if (cluster && !opts.keep)
      await dropCluster({ backend: 'cluster', databaseUrl: env.DATABASE_URL, schema: env.DATABASE_SCHEMA }).catch(
        () => undefined,
      );
    throw error;
  }
  const { users } = seeded;
  log(`seeded ${users.length} users + API keys ${seedHow} in ${seedMs.toFixed(0)} ms`);
  if (worker)
    log(`cluster: gateway pid ${server.pid} (ROLES=gateway), workers pid ${worker.pid} (persister, fan-out, notifier)`);
  if (cluster)
    log(
      `cluster backend: schema ${env.DATABASE_SCHEMA}, streams ${env.LOG_STREAM_PREFIX}_*, keys ${env.REDIS_KEY_PREFIX}*`,
    );
  const serverLimit = execSync(`grep 'open files' /proc/${server.pid}/limits`).toString().trim().replace(/\s+/g, ' ');
  log(`server pid ${server.pid} ready in ${server.startMs.toFixed(0)} ms (${serverLimit})`);
  const report = {
    machine,
    command: process.argv.slice(2).join(' '),
    backend: cluster ? (split ? 'cluster, gateway and workers in two processes' : 'cluster, one process') : 'embedded',
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
  const pgCpu = cluster ? await pgBackendCpu(env.DATABASE_URL, appName) : null;
  // Backing services' CPU between two samples: Redis and NATS machine-wide, PostgreSQL only the gateway's backends.
  const svcSample = async () =>
    cluster
      ? { ...serviceCpu(), gatewayPg: await pgCpu.sample(), worker: worker ? procStats(worker.pid) : null }
      : null;
  const svcDelta = (a, b) =>
    a && b
      ? {
          redisSec: b['redis-server'] - a['redis-server'],
          natsSec: b['nats-server'] - a['nats-server'],
          postgresAllSec: b.postgres - a.postgres,
          gatewayPgSec: b.gatewayPg - a.gatewayPg,
          workerSec: a.worker && b.worker ? b.worker.cpuSec - a.worker.cpuSec : null,
        }
      : null;
  try {
    await sleep(3000);
    const idle0 = procStats(server.pid);
    await sleep(3000);
    const idle1 = procStats(server.pid);
    report.before = {
      rssMiB: idle1.rssMiB,
      cpuPct: cpuPercent(idle0, idle1),
      workerRssMiB: worker ? procStats(worker.pid)?.rssMiB : undefined,
      heap: await heapOf(server.url),
    };
    log(
      `server before: RSS ${idle1.rssMiB.toFixed(1)} MiB, CPU ${report.before.cpuPct.toFixed(1)}%${worker ? `; workers RSS ${report.before.workerRssMiB.toFixed(1)} MiB` : ''}`,
    );

    const sources = Array.from({ length: sourcesN }, (_, i) => `127.0.0.${i + 1}`);
    for (let g = 0; g < gensN; g++) {
      const gen = spawnChild(new URL('./lib/idle-gen.js', import.meta.url), {
        name: `gen ${g}`,
        nice: opts.genNice ?? 0,
        nodeArgs: opts.genProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(DATA_ROOT, 'profiles', 'gen')}`] : [],
      });
      gens.push(gen);
      // Each generator takes every gensN-th user and rotates over all sources.
      const mine = users.filter((_, i) => i % gensN === g);
      await gen.request(
        {
          type: 'init',
          url: server.url,
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
    const ticker = (async () => {
      let prev = procStats(server.pid);
      while (ticking) {
        await sleep(1000);
        const st = procStats(server.pid);
        void pgCpu?.sample();
        const a = sum('authed');
        const q = acceptQueue(server.port);
        if (q > maxAcceptQueue) maxAcceptQueue = q;
        peakRate = Math.max(peakRate, a - prevAuthed);
        log(
          `  [${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] authenticated ${a}/${count} (+${a - prevAuthed}/s) errors ${sum('errors')} closed ${sum('closed')} | server rss ${st?.rssMiB.toFixed(0)} MiB cpu ${cpuPercent(prev, st).toFixed(0)}% accept-queue ${q} | load ${systemStats().load}`,
        );
        prevAuthed = a;
        prev = st;
      }
    })();
    const c0 = performance.now();
    report.profileWindow = { from: (c0 - server.spawnedAt) / 1000 };
    log(`profile window: connect phase starts at ${report.profileWindow.from.toFixed(1)} s after server spawn`);
    const st0 = procStats(server.pid);
    const svc0 = await svcSample();
    const tcp0 = tcpExt();
    const results = await Promise.all(
      gens.map((g) => g.request({ type: 'connect', concurrency: opts.concurrency ?? 100 }, 'connected')),
    );
    const connectMs = performance.now() - c0;
    const st1 = procStats(server.pid);
    const svc1 = await svcSample();
    const tcp1 = tcpExt();
    const ok = results.reduce((a, r) => a + r.ok, 0);
    const failed = results.reduce((a, r) => a + r.failed, 0);
    report.connect = {
      ok,
      failed,
      seconds: connectMs / 1000,
      acceptPerSec: ok / (connectMs / 1000),
      peakPerSec: peakRate,
      serverCpuPct: cpuPercent(st0, st1),
      serverCpuUsPerAccept: ((st1.cpuSec - st0.cpuSec) * 1e6) / Math.max(1, ok),
      client: opts.client ?? 'raw',
      generatorCpuUsPerSocket: (results.reduce((a, r) => a + r.cpuSec, 0) * 1e6) / Math.max(1, ok),
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
        redis: (d.redisSec * 1e6) / Math.max(1, ok),
        gatewayPostgres: (d.gatewayPgSec * 1e6) / Math.max(1, ok),
        nats: (d.natsSec * 1e6) / Math.max(1, ok),
        workers: d.workerSec === null ? null : (d.workerSec * 1e6) / Math.max(1, ok),
      };
    }
    log(
      `connected ${ok} (failed ${failed}) in ${(connectMs / 1000).toFixed(1)} s = ${report.connect.acceptPerSec.toFixed(0)}/s`,
    );
    await sleep(5000);
    const afterConnect = procStats(server.pid);
    const settleS = (performance.now() - c0 - connectMs) / 1000;
    const heapAfterConnect = await heapOf(server.url);
    // Hold: idle with heartbeats.
    const h0 = procStats(server.pid);
    const hs0 = systemStats();
    const hsv0 = await svcSample();
    await sleep(holdS * 1000);
    const h1 = procStats(server.pid);
    const hs1 = systemStats();
    // The accept's work that comes after it (presence announcements 1 s later, batched credential
    // touches): the connect phase plus the 5 s after it, less the hold's idle rate over those 5 s.
    // A heartbeat round falling into those 5 s would count too (one every PING_INTERVAL_MS).
    report.connect.serverCpuUsPerAcceptSettled =
      ((afterConnect.cpuSec - st0.cpuSec - ((h1.cpuSec - h0.cpuSec) / holdS) * settleS) * 1e6) / Math.max(1, ok);
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
      liveSockets: pings.reduce((a, p) => a + p.live, 0),
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
    const perSocketKiB = ((h1.rssMiB - report.before.rssMiB) * 1024) / Math.max(1, report.hold.liveSockets);
    report.rssPerSocketKiB = perSocketKiB;
    out(`\n## sockets: ${ok} of ${requested} requested (${machine.date}, load ${machine.load} -> ${hs1.load})`);
    if (capped) out(`NOTE: ${capped}`);
    if (process.env.BENCH_SERVER_MAIN) out(`server build: ${MAIN} (BENCH_SERVER_MAIN)`);
    out(
      `accept: ${ok} authenticated in ${report.connect.seconds.toFixed(1)} s = ${report.connect.acceptPerSec.toFixed(0)}/s (peak 1 s: ${peakRate}/s), failed ${failed}; per socket connect+auth p50 ${fmt(report.connect.perSocketP50)} ms p99 ${fmt(report.connect.perSocketP99)} ms; server CPU while accepting ${report.connect.serverCpuPct.toFixed(0)}% = ${report.connect.serverCpuUsPerAccept.toFixed(0)} µs of server CPU per accepted socket (=> ~${(1e6 / report.connect.serverCpuUsPerAccept).toFixed(0)}/s on one dedicated core), ${report.connect.serverCpuUsPerAcceptSettled.toFixed(0)} µs with the 5 s after it (announcements, touches); generator (${report.connect.client} client) CPU ${report.connect.generatorCpuUsPerSocket.toFixed(0)} µs per socket; accept queue max ${maxAcceptQueue}, kernel ListenOverflows +${report.connect.listenOverflows} (machine-wide)`,
    );
    out(
      `server RSS: before ${report.before.rssMiB.toFixed(1)} MiB, after connect ${afterConnect.rssMiB.toFixed(1)} MiB, after ${holdS} s hold ${h1.rssMiB.toFixed(1)} MiB (peak ${h1.hwmMiB.toFixed(0)}) => ${perSocketKiB.toFixed(1)} KiB per socket`,
    );
    const hp = (h) =>
      h
        ? `heap used ${h.usedMiB.toFixed(0)} of ${h.totalMiB.toFixed(0)} MiB, external ${h.externalMiB.toFixed(0)} MiB`
        : '?';
    out(
      `server V8 heap (/metrics): before ${hp(report.before.heap)}; after connect ${hp(heapAfterConnect)}; end ${hp(report.hold.heapEnd)}`,
    );
    out(
      `idle with heartbeats (${holdS} s, PING_INTERVAL_MS 25000): server CPU ${report.hold.serverCpuPct.toFixed(1)}% of a core; pings per socket ${report.hold.pingsMin}..${report.hold.pingsMax}; sockets alive ${report.hold.liveSockets}; closed ${report.hold.closedDuringRun} ${JSON.stringify(report.hold.closeCodes)}; client errors ${JSON.stringify(report.hold.errorCodes)}`,
    );
    if (cluster) {
      const c = report.connect;
      const h = report.hold.services;
      const pct = (sec) => ((sec / holdS) * 100).toFixed(1);
      out(
        `cluster (${report.backend}; seeded ${users.length} users ${seedHow} in ${(seedMs / 1000).toFixed(1)} s): per accepted socket, Redis ${c.perSocketUs.redis.toFixed(0)} µs, the gateway's PostgreSQL backends ${c.perSocketUs.gatewayPostgres.toFixed(0)} µs, NATS ${c.perSocketUs.nats.toFixed(0)} µs${c.perSocketUs.workers === null ? '' : `, workers process ${c.perSocketUs.workers.toFixed(0)} µs`} (PostgreSQL all backends ${((c.services.postgresAllSec * 1e6) / Math.max(1, ok)).toFixed(0)} µs, includes other sessions)`,
      );
      out(
        `cluster idle (${holdS} s hold): Redis ${pct(h.redisSec)}% of a core, gateway's PostgreSQL backends ${pct(h.gatewayPgSec)}%, NATS ${pct(h.natsSec)}%${h.workerSec === null ? '' : `, workers process ${pct(h.workerSec)}% (RSS ${report.hold.workerRssEndMiB?.toFixed(0)} MiB)`}; Redis and NATS are machine-wide`,
      );
    }
    out(
      `machine during hold: ${JSON.stringify(report.hold.machine)}; generator RSS MiB ${report.hold.generatorsRssMiB.join('/')}`,
    );
    // A separate reading after every one above: RSS after a full GC forced from outside. Not the
    // RSS per socket above (no server runs forced GCs); it tells live data from uncollected garbage.
    const gced = await rssAfterForcedGc(server.pid);
    if (gced) {
      report.afterForcedGc = {
        rssMiB: gced.rssMiB,
        heap: await heapOf(server.url),
        rssPerSocketKiB: ((gced.rssMiB - report.before.rssMiB) * 1024) / Math.max(1, report.hold.liveSockets),
      };
      out(
        `separately, after a forced full GC (inspector HeapProfiler.collectGarbage, inspector opened by SIGUSR1): server RSS ${gced.rssMiB.toFixed(1)} MiB => ${report.afterForcedGc.rssPerSocketKiB.toFixed(1)} KiB per socket; ${hp(report.afterForcedGc.heap)}`,
      );
    } else out('separately, after a forced full GC: not measured (inspector port 9229 taken or no answer)');
    writeReport(report, 'sockets');
  } finally {
    await closeChildren(gens);
    await server.stop();
    await worker?.stop();
    await pgCpu?.close();
    if (cluster && !opts.keep)
      await dropCluster({ backend: 'cluster', databaseUrl: env.DATABASE_URL, schema: env.DATABASE_SCHEMA }).catch(
        (err) => log(`(clean-up failed: ${err.message})`),
      );
  }
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

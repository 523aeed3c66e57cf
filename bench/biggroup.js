// Big group: one group of --members (default 1,000; the server runs with MAX_GROUP_MEMBERS=members),
// every member connected (raw ws, bench/lib/idle-gen.js), one member sends --rate messages/s for
// --duration s. Latency = due time in the body -> receipt at each member, over all
// (message, member) deliveries; every member must get every message exactly once.
import { Histogram, fmt } from './lib/hist.js';
import { closeChildren, spawnChild } from './lib/fleet-ctl.js';
import { seedDirect, seedOverHttp } from './lib/seed.js';
import path from 'node:path';
import {
  clusterEnv,
  cpuPercent,
  DATA_ROOT,
  freshDataDir,
  machineInfo,
  machineShare,
  procStats,
  startServer,
  systemStats,
} from './lib/server.js';
import { writeReport } from './socket.js';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const out = (...a) => process.stdout.write(`${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function bigGroupBench(opts) {
  const members = opts.members ?? 1000;
  const rate = opts.rate ?? 5;
  const duration = opts.duration ?? 20;
  const gensN = opts.gens ?? 2;
  const msgs = Math.round(rate * duration);
  const machine = machineInfo();
  log(
    `# biggroup: ${members} members, ${rate} msg/s for ${duration} s (${msgs} messages), ${gensN} receiver processes (load ${machine.load})`,
  );
  const dataDir = freshDataDir('biggroup');
  // --backend=cluster: the same on this machine's PostgreSQL, NATS and Redis, seeded over HTTP;
  // --split adds a second process for the workers (persister, fan-out, notifier).
  const cluster = opts.backend === 'cluster';
  const limits = { MAX_GROUP_MEMBERS: String(Math.max(members, 2)) };
  const cpuProf = opts.cpuProf ? path.join(DATA_ROOT, 'profiles') : null;
  const worker =
    cluster && opts.split === true
      ? await startServer({
          dataDir: path.join(dataDir, 'worker'),
          env: { ...clusterEnv(dataDir), ...limits, ROLES: 'persister,fanout,notifier' },
          readyTimeoutMs: 60_000,
          cpuProf,
        })
      : null;
  const seeded = cluster
    ? null
    : await seedDirect(dataDir, { users: members, groups: [Array.from({ length: members }, (_, i) => i)] });
  const server = await startServer({
    dataDir,
    nofile: 1048576,
    env: cluster ? { ...clusterEnv(dataDir), ...limits, ...(worker ? { ROLES: 'gateway' } : {}) } : limits,
    readyTimeoutMs: 60_000,
    cpuProf,
  });
  const { users, convs } =
    seeded ??
    (await seedOverHttp(server.url, { users: members, groups: [Array.from({ length: members }, (_, i) => i)] }));
  const conv = convs[0].id;
  if (cluster)
    log(
      `cluster backend${worker ? `, workers in pid ${worker.pid}` : ''}: ${members} users and the group created over HTTP`,
    );
  const sinceSpawn = () => ((performance.now() - server.spawnedAt) / 1000).toFixed(1);
  log(
    `server pid ${server.pid} ready in ${server.startMs.toFixed(0)} ms; group ${conv} with ${members} members seeded`,
  );
  const report = { machine, command: process.argv.slice(2).join(' '), members, rate, duration, msgs };
  const gens = [];
  try {
    const sources = Array.from({ length: opts.sources ?? 16 }, (_, i) => `127.0.0.${i + 1}`);
    for (let g = 0; g < gensN; g++) {
      const gen = spawnChild(new URL('./lib/idle-gen.js', import.meta.url), {
        name: `gen ${g}`,
        nice: opts.genNice ?? 0,
      });
      gens.push(gen);
      await gen.request(
        {
          type: 'init',
          url: server.url,
          client: opts.client ?? 'raw',
          users: users.filter((_, i) => i % gensN === g),
          sources,
          expectMsgs: msgs,
        },
        'inited',
      );
    }
    const c0 = performance.now();
    log(`connect starts ${sinceSpawn()} s after server spawn (profile time)`);
    const conn = await Promise.all(gens.map((g) => g.request({ type: 'connect', concurrency: 50 }, 'connected')));
    const ok = conn.reduce((a, r) => a + r.ok, 0);
    report.connectS = (performance.now() - c0) / 1000;
    log(`connected ${ok}/${members} in ${report.connectS.toFixed(1)} s`);
    report.connected = ok;
    const last = new Map();
    gens.forEach((g, i) => g.on((m) => m.type === 'tick' && last.set(i, m)));
    // The connect wave's presence announcements (each member's "online" goes to up to 999 others,
    // about members² frames) are measured apart: sending starts once they have all arrived (no frame
    // for 2 s), or after 5 s without a frame.
    const frames = () => [...last.values()].reduce((a, x) => a + x.frames, 0);
    // Every member's "online" reaches the 999 others when all connected before the first announcement
    // (PRESENCE_COALESCE_MS, 1 s); short of that, wait for 5 quiet seconds instead of 2.
    const expectedWave = ok * (ok - 1);
    const w0 = performance.now();
    let prevFrames = -1;
    let quietSince = performance.now();
    while (performance.now() - w0 < 60_000) {
      await sleep(250);
      if (last.size < gensN) continue;
      const f = frames();
      if (f !== prevFrames) (prevFrames = f), (quietSince = performance.now());
      else if (performance.now() - quietSince >= (f >= expectedWave ? 2000 : 5000) && performance.now() - c0 >= 3000)
        break;
    }
    report.connectWave = { frames: frames(), seconds: (quietSince - c0) / 1000 };
    log(
      `connect wave: ${report.connectWave.frames} frames (presence) received until ${report.connectWave.seconds.toFixed(1)} s after the connect started`,
    );
    let ticking = true;
    const t0 = performance.now();
    const ticker = (async () => {
      while (ticking) {
        await sleep(1000);
        const all = [...last.values()];
        const win = all.reduce((h, x) => h.merge(Histogram.from(x.win)), new Histogram());
        const st = procStats(server.pid);
        log(
          `  [${((performance.now() - t0) / 1000).toFixed(0).padStart(3)}s] deliveries ${all.reduce((a, x) => a + x.delivered, 0)}/${msgs * (members - 1)} dup ${all.reduce((a, x) => a + x.duplicates, 0)} | 1 s p50 ${fmt(win.quantile(0.5))} p99 ${fmt(win.quantile(0.99))} ms | server rss ${st?.rssMiB.toFixed(0)} MiB`,
        );
      }
    })();
    const st0 = procStats(server.pid);
    const sys0 = systemStats();
    log(`sending starts ${sinceSpawn()} s after server spawn (profile time)`);
    const sent = await gens[0].request(
      { type: 'send-group', conv, count: msgs, rate, tag: Date.now().toString(36) },
      'sent',
      120_000,
    );
    // Drain: wait until every delivery arrived or 15 s passed.
    const expected = msgs * (members - 1);
    const dl = performance.now() + 15_000;
    while (performance.now() < dl && [...last.values()].reduce((a, x) => a + x.delivered, 0) < expected)
      await sleep(250);
    await sleep(1500);
    const st1 = procStats(server.pid);
    const sys1 = systemStats();
    ticking = false;
    await ticker;
    const finals = await Promise.all(gens.map((g) => g.request({ type: 'final' }, 'final')));
    const lat = finals.reduce((h, f) => h.merge(Histogram.from(f.lat)), new Histogram());
    const s = (k) => finals.reduce((a, f) => a + f[k], 0);
    const r = {
      sent: msgs,
      acked: sent.acked,
      sendFailed: sent.failed,
      ack: sent.ack,
      expected,
      delivered: s('delivered'),
      missing: s('missing'),
      duplicates: s('duplicates'),
      stray: s('stray'),
      membersComplete: s('membersComplete'),
      closed: s('closed'),
      p50: lat.quantile(0.5),
      p90: lat.quantile(0.9),
      p99: lat.quantile(0.99),
      max: lat.max,
      serverCpuPct: cpuPercent(st0, st1),
      serverRssMiB: st1.rssMiB,
      machine: machineShare(sys0, sys1, st1.cpuSec - st0.cpuSec),
    };
    report.result = r;
    out(
      `\n## biggroup: ${members} members, ${msgs} messages at ${rate}/s (${machine.date}, load ${machine.load} -> ${sys1.load})`,
    );
    out(
      `connect: ${ok}/${members} in ${report.connectS.toFixed(1)} s; connect wave: ${report.connectWave.frames} presence frames received, the last ${report.connectWave.seconds.toFixed(1)} s after the connect started`,
    );
    out(
      `sender: acked ${r.acked}/${msgs}, failed ${r.sendFailed}; send->ack p50 ${fmt(r.ack.p50)} ms p99 ${fmt(r.ack.p99)} ms`,
    );
    out(
      `deliveries ${r.delivered}/${expected} (missing ${r.missing}, duplicates ${r.duplicates}, stray ${r.stray}); members that got every message exactly once: ${r.membersComplete}/${members - 1}; sockets closed ${r.closed}`,
    );
    out(
      `send->delivery over all (message, member): p50 ${fmt(r.p50)} ms, p90 ${fmt(r.p90)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.max)} ms`,
    );
    out(
      `server CPU ${r.serverCpuPct.toFixed(0)}%, RSS ${r.serverRssMiB.toFixed(0)} MiB; machine ${JSON.stringify(r.machine)}`,
    );
    writeReport(report, 'biggroup');
  } finally {
    await closeChildren(gens);
    await server.stop();
    await worker?.stop();
  }
}

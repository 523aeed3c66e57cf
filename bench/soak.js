// Soak: SDK clients in direct chats send at a fixed open-loop rate for --minutes while every client
// drops its socket (terminate, no close frame) every few seconds at random and reconnects with the
// SDK's backoff + jitter and catch-up. Every 10 s: server RSS/CPU and send->delivery p50/p99.
// At the end: zero loss / zero duplicates, RSS trend (flat?), and an SVG plot.
import fs from 'node:fs';
import path from 'node:path';
import { Histogram, fmt } from './lib/hist.js';
import { closeChildren, spawnFleet } from './lib/fleet-ctl.js';
import { seedDirect, seedOverHttp } from './lib/seed.js';
import {
  clusterEnv,
  cpuPercent,
  freshDataDir,
  machineInfo,
  machineShare,
  procStats,
  ROOT,
  startServer,
  systemStats,
} from './lib/server.js';
import { writeReport } from './socket.js';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const out = (...a) => process.stdout.write(`${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function soakBench(opts) {
  if (opts.replot) {
    // Redraw the plot from a saved JSON report: node bench/run.js soak --replot=bench/.data/results/soak-....json [--svg=docs/soak.svg]
    const report = JSON.parse(fs.readFileSync(opts.replot, 'utf8'));
    const file = opts.svg ?? path.join(ROOT, 'docs', 'soak.svg');
    fs.writeFileSync(file, soakSvg(report));
    log(`plot: ${file}`);
    return;
  }
  const minutes = opts.minutes ?? 30;
  const rate = opts.rate ?? 125;
  const clientsN = opts.clients ?? 200;
  const procs = opts.procs ?? 1;
  const sampleS = opts.sample ?? 10;
  const dropMinMs = (opts.dropMin ?? 3) * 1000;
  const dropMaxMs = (opts.dropMax ?? 10) * 1000;
  const cluster = opts.backend === 'cluster';
  const svgPath =
    opts.svg ?? (minutes >= 30 ? path.join(ROOT, 'docs', cluster ? 'soak-cluster.svg' : 'soak.svg') : null);
  const machine = machineInfo();
  log(
    `# soak${cluster ? ' (cluster: every role in one process on PostgreSQL, NATS and Redis)' : ''}: ${minutes} min at ${rate} msg/s, ${clientsN} SDK clients (${clientsN / 2} direct chats), each drops every ${dropMinMs / 1000}-${dropMaxMs / 1000} s (load ${machine.load})`,
  );

  const dataDir = freshDataDir('soak');
  // --backend=cluster: one process with every role on this machine's PostgreSQL, NATS and Redis
  // (a fresh schema and log prefix per run), seeded over HTTP like storm and biggroup.
  const env = cluster ? clusterEnv(dataDir) : {};
  let seeded = cluster ? null : await seedDirect(dataDir, { users: clientsN, pairs: true });
  const server = await startServer({ dataDir, nofile: 1048576, env, readyTimeoutMs: 60_000 });
  seeded ??= await seedOverHttp(server.url, { users: clientsN, pairs: true });
  log(`server pid ${server.pid} ready in ${server.startMs.toFixed(0)} ms at ${server.url}`);
  const report = {
    machine,
    command: process.argv.slice(2).join(' '),
    backend: cluster ? 'cluster' : 'embedded',
    minutes,
    rate,
    clients: clientsN,
    dropMinMs,
    dropMaxMs,
    samples: [],
  };
  const fleets = [];
  try {
    const sources = Array.from({ length: 4 }, (_, i) => `127.0.0.${i + 1}`);
    const pairs = seeded.convs.map((c) => ({
      conv: c.id,
      a: seeded.users[c.members[0]],
      b: seeded.users[c.members[1]],
    }));
    for (let f = 0; f < procs; f++) {
      const fl = spawnFleet(f);
      fleets.push(fl);
      await fl.request(
        {
          type: 'init',
          index: f,
          url: server.url,
          pairs: pairs.filter((_, i) => i % procs === f),
          sources,
          reconnect: { minDelayMs: 500, maxDelayMs: 30_000, stableAfterMs: 2000 },
        },
        'inited',
      );
    }
    const c0 = performance.now();
    await Promise.all(fleets.map((f) => f.request({ type: 'connect', concurrency: 50 }, 'connected')));
    log(`connected ${clientsN} clients in ${(performance.now() - c0).toFixed(0)} ms`);
    await sleep(2000);

    // Ticks from every fleet, merged per second (progress) and per sample window.
    const last = new Map();
    let win = { all: new Histogram(), live: new Histogram() };
    fleets.forEach((f, i) =>
      f.on((m) => {
        if (m.type !== 'tick') return;
        last.set(i, m);
        win.all.merge(Histogram.from(m.all));
        win.live.merge(Histogram.from(m.live));
      }),
    );
    const sum = (k) => [...last.values()].reduce((a, x) => a + x[k], 0);
    const t0 = performance.now();
    const endAt = t0 + minutes * 60_000;
    await Promise.all(
      fleets.map((f) =>
        f.request({ type: 'send', rate: rate / procs, drop: { minMs: dropMinMs, maxMs: dropMaxMs } }, 'sending'),
      ),
    );
    let st0 = procStats(server.pid);
    let sys0 = systemStats();
    let nextSample = t0 + sampleS * 1000;
    let sec = 0;
    while (performance.now() < endAt) {
      await sleep(1000);
      sec++;
      const st = procStats(server.pid);
      if (!st) throw new Error('server died');
      log(
        `  [soak ${String(sec).padStart(4)}s] sent ${sum('sent')} acked ${sum('acked')} delivered ${sum('delivered')} dup ${sum('duplicates')} failed ${sum('failed')} | open ${sum('open')}/${clientsN} drops ${sum('drops')} | server rss ${st.rssMiB.toFixed(0)} MiB`,
      );
      if (performance.now() >= nextSample) {
        nextSample += sampleS * 1000;
        const sys1 = systemStats();
        const s = {
          t: +((performance.now() - t0) / 1000).toFixed(1),
          rssMiB: +st.rssMiB.toFixed(1),
          cpuPct: +cpuPercent(st0, st).toFixed(1),
          n: win.all.n,
          p50: +win.all.quantile(0.5).toFixed(1),
          p99: +win.all.quantile(0.99).toFixed(1),
          max: +win.all.max.toFixed(1),
          liveN: win.live.n,
          liveP99: +win.live.quantile(0.99).toFixed(1),
          open: sum('open'),
          drops: sum('drops'),
          load: sys1.load,
          othersCores: machineShare(sys0, sys1, st.cpuSec - st0.cpuSec).otherProcessesCores,
        };
        report.samples.push(s);
        log(
          `  sample t=${s.t}s rss ${s.rssMiB} MiB cpu ${s.cpuPct}% | e2e p50 ${fmt(s.p50)} p99 ${fmt(s.p99)} max ${fmt(s.max)} ms (n ${s.n}) | live p99 ${fmt(s.liveP99)} ms | load ${s.load}`,
        );
        win = { all: new Histogram(), live: new Histogram() };
        st0 = st;
        sys0 = sys1;
      }
    }
    await Promise.all(fleets.map((f) => f.request({ type: 'stop-send' }, 'stopped')));
    log('sending stopped; drops stopped; settling (all clients open and caught up, outboxes empty)...');
    const settled = await Promise.all(fleets.map((f) => f.request({ type: 'settle', timeoutMs: 90_000 }, 'settled')));
    await sleep(5000);
    const finals = (await Promise.all(fleets.map((f) => f.request({ type: 'final' }, 'final')))).map((m) => m.result);
    const fsum = (k) => finals.reduce((a, x) => a + x[k], 0);
    const all = finals.reduce((h, x) => h.merge(Histogram.from(x.all)), new Histogram());
    const live = finals.reduce((h, x) => h.merge(Histogram.from(x.live)), new Histogram());
    // RSS trend: least-squares slope over the samples after the first 20% (warm-up), and first vs last quarter.
    const ss = report.samples.filter((s) => s.t >= minutes * 60 * 0.2);
    const slope = linearSlope(ss.map((s) => [s.t / 60, s.rssMiB]));
    const q = Math.max(1, Math.floor(report.samples.length / 4));
    const mean = (a) => a.reduce((x, s) => x + s.rssMiB, 0) / a.length;
    const result = {
      settled,
      sent: fsum('sent'),
      acked: fsum('acked'),
      failed: fsum('failed'),
      errorCodes: finals.reduce(
        (o, x) => (Object.entries(x.errorCodes).forEach(([k, v]) => (o[k] = (o[k] ?? 0) + v)), o),
        {},
      ),
      delivered: fsum('delivered'),
      lost: fsum('lost'),
      notDeliveredRecipientNotCaughtUp: fsum('notCaughtUp'),
      unacked: fsum('unacked'),
      duplicates: fsum('duplicates'),
      stray: fsum('stray'),
      drops: fsum('drops'),
      reconnects: fsum('reconnects'),
      lostSample: finals.flatMap((x) => x.lostSample).slice(0, 20),
      e2e: { p50: all.quantile(0.5), p99: all.quantile(0.99), max: all.max, n: all.n },
      live: { p50: live.quantile(0.5), p99: live.quantile(0.99), max: live.max, n: live.n },
      rssSlopeMiBPerMin: slope,
      rssFirstQuarterMiB: mean(report.samples.slice(0, q)),
      rssLastQuarterMiB: mean(report.samples.slice(-q)),
      rssMinMiB: Math.min(...report.samples.map((s) => s.rssMiB)),
      rssMaxMiB: Math.max(...report.samples.map((s) => s.rssMiB)),
      p99Worst10s: Math.max(...report.samples.map((s) => s.p99).filter(Number.isFinite)),
      liveP99Worst10s: Math.max(...report.samples.map((s) => s.liveP99).filter(Number.isFinite)),
    };
    report.result = result;
    out(
      `\n## soak ${minutes} min, ${rate} msg/s, ${clientsN} clients (${machine.date}, load at start ${machine.load}, at end ${systemStats().load})`,
    );
    out(
      `sent ${result.sent}, acked ${result.acked}, failed ${result.failed} ${JSON.stringify(result.errorCodes)}, delivered ${result.delivered}`,
    );
    out(
      `LOST ${result.lost} (+${result.notDeliveredRecipientNotCaughtUp} acked to a recipient not caught up at the end), unacked ${result.unacked}, duplicates ${result.duplicates}, stray ${result.stray}; drops ${result.drops}, reconnects ${result.reconnects}`,
    );
    out(`settle: ${JSON.stringify(settled)}`);
    out(
      `send->delivery, all deliveries (incl. waiting out reconnects): p50 ${fmt(result.e2e.p50)} ms, p99 ${fmt(result.e2e.p99)} ms, max ${fmt(result.e2e.max)} ms`,
    );
    out(
      `send->delivery, live (sender and recipient connected since before the send): p50 ${fmt(result.live.p50)} ms, p99 ${fmt(result.live.p99)} ms, max ${fmt(result.live.max)} ms (n ${result.live.n})`,
    );
    out(`worst 10 s window p99: all ${fmt(result.p99Worst10s)} ms, live ${fmt(result.liveP99Worst10s)} ms`);
    out(
      `server RSS: min ${result.rssMinMiB.toFixed(0)} / max ${result.rssMaxMiB.toFixed(0)} MiB; first quarter mean ${result.rssFirstQuarterMiB.toFixed(1)} MiB, last quarter ${result.rssLastQuarterMiB.toFixed(1)} MiB; slope after warm-up ${slope.toFixed(3)} MiB/min`,
    );
    if (svgPath) {
      fs.writeFileSync(svgPath, soakSvg(report));
      log(`plot: ${svgPath}`);
    }
    writeReport(report, 'soak');
  } finally {
    await closeChildren(fleets);
    await server.stop();
  }
}

function linearSlope(points) {
  if (points.length < 2) return NaN;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den ? num / den : NaN;
}

/** Two stacked line charts (server RSS, send->delivery p99 per 10 s) as plain SVG. */
export function soakSvg(report) {
  const W = 820;
  const H = 250;
  const M = { l: 64, r: 20, t: 34, b: 36 };
  const s = report.samples;
  const tMax = Math.max(60, ...s.map((x) => x.t));
  const esc = (x) => String(x).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const panel = (y0, title, series, unit, log = false) => {
    const vals = series.flatMap((se) => s.map(se.get)).filter(Number.isFinite);
    const vMax = log ? 10 ** Math.ceil(Math.log10(Math.max(10, ...vals))) : niceMax(Math.max(1, ...vals));
    const vMin = log ? 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...vals.filter((v) => v > 0))))) : 0;
    const x = (t) => M.l + (t / tMax) * (W - M.l - M.r);
    const frac = (v) =>
      log ? (Math.log10(Math.max(v, vMin)) - Math.log10(vMin)) / (Math.log10(vMax) - Math.log10(vMin)) : v / vMax;
    const y = (v) => y0 + M.t + (1 - frac(v)) * (H - M.t - M.b);
    let g = `<text x="${M.l}" y="${y0 + 20}" font-size="14" font-weight="bold">${esc(title)}</text>`;
    const ticks = log
      ? Array.from({ length: Math.round(Math.log10(vMax / vMin)) + 1 }, (_, i) => vMin * 10 ** i)
      : Array.from({ length: 5 }, (_, i) => (vMax * i) / 4);
    for (const v of ticks) {
      g += `<line x1="${M.l}" x2="${W - M.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${M.l - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${+v.toFixed(1)}</text>`;
    }
    for (let i = 0; i <= 6; i++) {
      const t = (tMax * i) / 6;
      g += `<text x="${x(t)}" y="${y0 + H - M.b + 16}" font-size="11" text-anchor="middle">${(t / 60).toFixed(1)} min</text>`;
    }
    g += `<text x="14" y="${y0 + (H + M.t - M.b) / 2}" font-size="11" transform="rotate(-90 14 ${y0 + (H + M.t - M.b) / 2})" text-anchor="middle">${esc(unit)}</text>`;
    if (log) {
      // Shade the windows where the machine's 1-min load average was above 4x its cores (other runs competing).
      const busy = 4 * (report.machine.cores || 2);
      const dt = (report.samples[1]?.t ?? 10) - (report.samples[0]?.t ?? 0);
      for (const p of s)
        if (Number(p.load) > busy)
          g += `<rect x="${x(p.t - dt).toFixed(1)}" y="${y0 + M.t}" width="${(x(dt) - M.l).toFixed(1)}" height="${H - M.t - M.b}" fill="#f4cccc" opacity="0.6"/>`;
      g += `<rect x="${W - M.r - 250}" y="${y0 + 8 + series.length * 14}" width="10" height="8" fill="#f4cccc"/><text x="${W - M.r - 236}" y="${y0 + 16 + series.length * 14}" font-size="11">load average &gt; ${busy} (machine shared)</text>`;
    }
    series.forEach((se, k) => {
      const pts = s
        .filter((p) => Number.isFinite(se.get(p)))
        .map((p) => `${x(p.t).toFixed(1)},${y(se.get(p)).toFixed(1)}`);
      g += `<polyline fill="none" stroke="${se.color}" stroke-width="1.6" points="${pts.join(' ')}"/>`;
      g += `<rect x="${W - M.r - 250}" y="${y0 + 8 + k * 14}" width="10" height="3" fill="${se.color}"/><text x="${W - M.r - 236}" y="${y0 + 13 + k * 14}" font-size="11">${esc(se.name)}</text>`;
    });
    g += `<rect x="${M.l}" y="${y0 + M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#888"/>`;
    return g;
  };
  const head = `soak: ${report.minutes} min, ${report.rate} msg/s, ${report.clients} clients dropping every ${report.dropMinMs / 1000}-${report.dropMaxMs / 1000} s; ${report.machine.date.slice(0, 16)}Z`;
  const body =
    `<text x="${M.l}" y="16" font-size="12" fill="#444">${esc(head)}</text>` +
    panel(10, 'Server RSS (sampled every 10 s)', [{ name: 'RSS MiB', color: '#1f77b4', get: (p) => p.rssMiB }], 'MiB') +
    panel(
      10 + H,
      'Send -> delivery p99 per 10 s window',
      [
        { name: 'p99, all deliveries (incl. reconnect waits)', color: '#d62728', get: (p) => p.p99 },
        { name: 'p99, live (sender and recipient already connected)', color: '#2ca02c', get: (p) => p.liveP99 },
      ],
      'ms (log scale)',
      true,
    );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${2 * H + 20}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${body}</svg>\n`;
}

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

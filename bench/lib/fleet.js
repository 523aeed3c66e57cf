// Load-generator child process for the storm and soak benchmarks: many SDK clients
// (packages/sdk/dist MessengerClient with the `ws` WebSocket) in direct-chat pairs. The process owns
// whole pairs, so the send time (in the body) and the receipt time come from one clock.
// Driven over IPC by bench/storm.js and bench/soak.js:
//   init -> connect -> send {rate, drop} -> stop-send -> settle -> final -> close
// Every second it reports a tick: clients open / caught up, sent / acked / delivered / duplicates,
// drops and the latency histograms of that second (all deliveries, and "live" deliveries: sender and
// recipient both had their current connection up before the message was due).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { MessengerClient } from '../../packages/sdk/dist/index.js';
import { Histogram } from './hist.js';
import { poolFetch, rawWebSocketClass, wsCtor } from './sdk-env.js';

const now = () => performance.timeOrigin + performance.now();
const FILLER = 'the quick brown fox jumps over the lazy dog; le café est prêt à midi';
const send = (m) => process.send?.(m);

let clients = [];
let pairs = [];
let fetchImpl;
let procIndex = 0;
const msgs = new Map(); // clientMsgId -> { t, to (client index), acked, failed, recv }
let seqNo = 0;
const counters = {
  sent: 0,
  acked: 0,
  failed: 0,
  delivered: 0,
  duplicates: 0,
  stray: 0,
  drops: 0,
  reconnects: 0,
  errorCodes: {},
};
let winAll = new Histogram();
let winLive = new Histogram();
const totalAll = new Histogram();
const totalLive = new Histogram();
let sendTimer = null;
let dropTimer = null;
let elu0 = performance.eventLoopUtilization();
const lag = monitorEventLoopDelay({ resolution: 20 });
lag.enable();

let client = 'ws'; // 'ws' (the ws package) or 'raw' (bench/lib/raw-ws.js: a fraction of the CPU per connect)

function makeClient(i, user, conv, url, localAddress, reconnect) {
  const c = {
    i,
    user,
    conv,
    ws: null,
    openAt: Infinity,
    caughtUp: false,
    state: 'idle',
    nextDropAt: Infinity,
    peer: -1,
  };
  c.sdk = new MessengerClient({
    baseUrl: url,
    apiKey: user.apiKey,
    WebSocket: (client === 'raw' ? rawWebSocketClass : wsCtor)(localAddress, (ws) => (c.ws = ws)),
    fetch: fetchImpl,
    reconnect,
  });
  c.sdk.trackConversation(conv, 0);
  c.sdk.on('state', (s) => {
    if (s === 'open') {
      c.openAt = now();
      if (c.state === 'reconnecting') counters.reconnects++;
    } else {
      c.openAt = Infinity;
      c.caughtUp = false;
    }
    c.state = s;
  });
  c.sdk.on('resync', () => (c.caughtUp = true));
  c.sdk.on('message.created', (e) => {
    const m = e.message;
    if (m.senderId === user.id) return; // own echo
    const rec = msgs.get(m.clientMsgId);
    if (!rec) return void counters.stray++;
    rec.recv++;
    if (rec.recv > 1) return void counters.duplicates++;
    counters.delivered++;
    const t = now();
    const ms = t - rec.t;
    winAll.record(ms);
    totalAll.record(ms);
    if (rec.senderOpen && c.openAt <= rec.t) {
      winLive.record(ms);
      totalLive.record(ms);
    }
  });
  return c;
}

async function connectAll(concurrency) {
  const times = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < clients.length) {
        const c = clients[next++];
        const t0 = performance.now();
        await c.sdk.connect();
        times.push(performance.now() - t0);
      }
    }),
  );
  return times;
}

function startSending(rate, drop) {
  const start = now();
  let k = 0;
  if (sendTimer) clearInterval(sendTimer);
  if (rate > 0)
    sendTimer = setInterval(() => {
      const t = now();
      while (start + (k * 1000) / rate <= t) {
        const due = start + (k * 1000) / rate;
        k++;
        const p = pairs[Math.floor(Math.random() * pairs.length)];
        const fromA = Math.random() < 0.5;
        const from = clients[fromA ? p.ia : p.ib];
        const cid = `f${procIndex}-${seqNo++}`;
        const rec = {
          t: due,
          to: fromA ? p.ib : p.ia,
          acked: false,
          failed: null,
          recv: 0,
          senderOpen: from.openAt <= due,
        };
        msgs.set(cid, rec);
        counters.sent++;
        from.sdk.send(p.conv, `${due.toFixed(1)} ${cid} ${FILLER}`, { clientMsgId: cid }).then(
          () => {
            rec.acked = true;
            counters.acked++;
          },
          (err) => {
            rec.failed = err?.code ?? String(err);
            counters.failed++;
            counters.errorCodes[rec.failed] = (counters.errorCodes[rec.failed] ?? 0) + 1;
          },
        );
      }
    }, 10);
  if (dropTimer) clearInterval(dropTimer);
  dropTimer = null;
  if (drop) {
    const pick = () => now() + drop.minMs + Math.random() * (drop.maxMs - drop.minMs);
    for (const c of clients) c.nextDropAt = pick();
    dropTimer = setInterval(() => {
      const t = now();
      for (const c of clients) {
        if (c.nextDropAt > t) continue;
        c.nextDropAt = pick();
        if (c.state === 'open' && c.ws) {
          c.ws.terminate(); // abrupt loss: no close frame; the SDK reconnects with backoff + jitter
          counters.drops++;
        }
      }
    }, 100);
  }
}

function stopSending() {
  if (sendTimer) clearInterval(sendTimer);
  if (dropTimer) clearInterval(dropTimer);
  sendTimer = dropTimer = null;
}

async function settle(timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const open = clients.filter((c) => c.state === 'open' && c.caughtUp).length;
    const pending = clients.reduce((a, c) => a + c.sdk.pending().length, 0);
    const inFlight = [...msgs.values()].filter((r) => !r.acked && !r.failed).length;
    if ((open === clients.length && pending === 0 && inFlight === 0) || performance.now() > deadline)
      return { open, pending, inFlight };
    await new Promise((r) => setTimeout(r, 250));
  }
}

function final() {
  let lost = 0;
  let notCaughtUp = 0;
  let unacked = 0;
  let deliveredUnacked = 0;
  const lostSample = [];
  for (const [cid, r] of msgs) {
    if (r.acked && r.recv === 0 && !(clients[r.to].state === 'open' && clients[r.to].caughtUp)) notCaughtUp++;
    else if (r.acked && r.recv === 0) {
      lost++;
      if (lostSample.length < 20) lostSample.push(cid);
    }
    if (!r.acked && !r.failed) unacked++;
    if (!r.acked && r.recv > 0) deliveredUnacked++;
  }
  return {
    ...counters,
    lost,
    notCaughtUp,
    unacked,
    deliveredUnacked,
    lostSample,
    all: totalAll.toJSON(),
    live: totalLive.toJSON(),
  };
}

setInterval(() => {
  const elu = performance.eventLoopUtilization(elu0);
  elu0 = performance.eventLoopUtilization();
  send({
    type: 'tick',
    open: clients.filter((c) => c.state === 'open').length,
    caughtUp: clients.filter((c) => c.state === 'open' && c.caughtUp).length,
    ...counters,
    all: winAll.toJSON(),
    live: winLive.toJSON(),
    elu: elu.utilization,
    lagP99: lag.percentile(99) / 1e6,
    rssMiB: process.memoryUsage.rss() / 1048576,
  });
  lag.reset();
  winAll = new Histogram();
  winLive = new Histogram();
}, 1000).unref();

process.on('message', async (m) => {
  try {
    if (m.type === 'init') {
      procIndex = m.index;
      client = m.client ?? 'ws';
      fetchImpl = poolFetch({ maxSockets: m.httpSockets ?? 16 });
      pairs = [];
      clients = [];
      m.pairs.forEach((p, j) => {
        const src = m.sources[j % m.sources.length];
        const ia = clients.length;
        clients.push(makeClient(ia, p.a, p.conv, m.url, src, m.reconnect));
        const ib = clients.length;
        clients.push(makeClient(ib, p.b, p.conv, m.url, src, m.reconnect));
        pairs.push({ conv: p.conv, ia, ib });
      });
      send({ type: 'inited', clients: clients.length });
    } else if (m.type === 'connect') {
      const times = await connectAll(m.concurrency ?? 50);
      send({ type: 'connected', times });
    } else if (m.type === 'send') {
      startSending(m.rate, m.drop);
      send({ type: 'sending' });
    } else if (m.type === 'stop-send') {
      stopSending();
      send({ type: 'stopped' });
    } else if (m.type === 'settle') {
      send({ type: 'settled', ...(await settle(m.timeoutMs ?? 60_000)) });
    } else if (m.type === 'final') {
      send({ type: 'final', result: final() });
    } else if (m.type === 'close') {
      stopSending();
      await Promise.race([
        Promise.all(clients.map((c) => c.sdk.close().catch(() => {}))),
        new Promise((r) => setTimeout(r, 5000)),
      ]);
      fetchImpl?.close();
      send({ type: 'closed' });
      setTimeout(() => process.exit(0), 100);
    }
  } catch (error) {
    send({ type: 'error', message: error?.stack ?? String(error) });
  }
});
process.on('disconnect', () => process.exit(0));

// Load-generator thread: owns whole pairs (both members of each direct chat), so send time and
// delivery are measured with one clock. Open loop: message k of a phase is due at start + k/rate,
// whether or not earlier ones were answered; latency is measured from that due time.
import { parentPort, workerData } from 'node:worker_threads';
import { Histogram } from './hist.js';
import { RawWs } from './raw-ws.js';

const { index, url, pairs, localAddresses, connectConcurrency } = workerData;
// The bare-socket client of raw-ws.js, not the `ws` package: the generator shares the 2 cores with
// the server, and every microsecond it spends per frame is taken from what is being measured.
const target = new URL(url);
const now = () => performance.timeOrigin + performance.now();
const FILLER = 'the quick brown fox jumps over the lazy dog; le café est prêt à midi. 東京で会いましょう';

/** One socket per user: [a0, b0, a1, b1, ...]; each sends into its pair's conversation. */
const sockets = [];
for (const p of pairs) {
  sockets.push({ userId: p.a.id, key: p.a.apiKey, conv: p.conv, ws: null, lastSeq: new Map() });
  sockets.push({ userId: p.b.id, key: p.b.apiKey, conv: p.conv, ws: null, lastSeq: new Map() });
}

let phase = null; // current measurement phase
let closedUnexpectedly = 0;

function newPhase(id) {
  return {
    id,
    sent: 0,
    acked: 0,
    delivered: 0,
    echoes: 0,
    errors: 0,
    errorCodes: {},
    duplicates: 0,
    outOfOrder: 0,
    stray: 0,
    msgs: new Map(), // clientMsgId -> { t, acked, delivered }
    byReq: new Map(), // request id -> clientMsgId
    e2e: new Histogram(),
    ack: new Histogram(),
    window: new Histogram(),
    maxLagMs: 0,
  };
}

let reqSeq = 0;

function onFrame(s, data) {
  const frame = JSON.parse(data);
  const ph = phase;
  if (frame.type === 'reply') {
    if (!ph) return;
    const cid = ph.byReq.get(frame.id);
    if (cid === undefined) return void ph.stray++;
    ph.byReq.delete(frame.id);
    const m = ph.msgs.get(cid);
    if (frame.ok) {
      m.acked = true;
      ph.acked++;
      ph.ack.record(now() - m.t);
    } else {
      m.failed = true;
      ph.errors++;
      const code = frame.error?.code ?? 'unknown';
      ph.errorCodes[code] = (ph.errorCodes[code] ?? 0) + 1;
    }
    return;
  }
  if (frame.type !== 'event' || frame.event.type !== 'message.created') return;
  const msg = frame.event.message;
  if (!ph) return;
  if (msg.senderId === s.userId) return void ph.echoes++;
  const last = s.lastSeq.get(msg.conversationId) ?? 0;
  if (msg.seq <= last) ph.outOfOrder++;
  else s.lastSeq.set(msg.conversationId, msg.seq);
  const m = ph.msgs.get(msg.clientMsgId);
  if (!m) return void ph.stray++;
  if (m.delivered) return void ph.duplicates++;
  m.delivered = true;
  ph.delivered++;
  // The body carries its due time: "<epoch ms> <clientMsgId> <filler>".
  const sentAt = Number(msg.body.slice(0, msg.body.indexOf(' ')));
  const lat = now() - sentAt;
  ph.e2e.record(lat);
  ph.window.record(lat);
}

function open(s, localAddress) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ready = false;
    const ws = new RawWs(
      { host: target.hostname, port: Number(target.port), path: '/v1/ws', localAddress },
      {
        open: () => ws.send(JSON.stringify({ type: 'auth', token: s.key })),
        message: (buf) => {
          const data = buf.toString('utf8');
          if (!ready) {
            const f = JSON.parse(data);
            if (f.type === 'ready') {
              ready = true;
              resolve(performance.now() - t0);
            }
            return;
          }
          onFrame(s, data);
        },
        error: (err) => {
          if (!ready) reject(err);
        },
        close: () => {
          if (ready) closedUnexpectedly++;
          else reject(new Error('closed before ready'));
        },
      },
    );
    s.ws = ws;
  });
}

async function connectAll() {
  const times = [];
  let next = 0;
  const t0 = performance.now();
  const one = async () => {
    while (next < sockets.length) {
      const i = next++;
      times.push(await open(sockets[i], localAddresses[(index + i) % localAddresses.length]));
    }
  };
  await Promise.all(Array.from({ length: connectConcurrency }, one));
  return { totalMs: performance.now() - t0, times };
}

function summary(ph) {
  let lost = 0;
  let unacked = 0;
  let deliveredUnacked = 0;
  for (const m of ph.msgs.values()) {
    if (m.acked && !m.delivered) lost++;
    if (!m.acked && !m.failed) unacked++;
    if (m.delivered && !m.acked) deliveredUnacked++;
  }
  return {
    sent: ph.sent,
    acked: ph.acked,
    delivered: ph.delivered,
    echoes: ph.echoes,
    errors: ph.errors,
    errorCodes: ph.errorCodes,
    duplicates: ph.duplicates,
    outOfOrder: ph.outOfOrder,
    stray: ph.stray,
    lost,
    unacked,
    deliveredUnacked,
    e2e: ph.e2e.toJSON(),
    ack: ph.ack.toJSON(),
    maxLagMs: ph.maxLagMs,
  };
}

async function run({ phaseId, rate, startAt, durationMs, drainMs, maxInFlight }) {
  const ph = (phase = newPhase(phaseId));
  const elu0 = performance.eventLoopUtilization();
  // Wait for the common start time so all workers begin together.
  while (now() < startAt) await new Promise((r) => setTimeout(r, Math.max(0, Math.min(5, startAt - now()))));
  const perMs = rate / 1000;
  let k = 0;
  let rr = 0;
  let aborted = false;
  const report = setInterval(() => {
    parentPort.postMessage({
      type: 'progress',
      phaseId,
      sent: ph.sent,
      acked: ph.acked,
      delivered: ph.delivered,
      errors: ph.errors,
      window: ph.window.toJSON(),
      elu: performance.eventLoopUtilization(elu0).utilization,
    });
    ph.window = new Histogram();
  }, 1000);
  await new Promise((resolve) => {
    const tick = () => {
      const t = now();
      const elapsed = t - startAt;
      const due = Math.floor(Math.min(elapsed, durationMs) * perMs);
      while (k < due) {
        const dueAt = startAt + k / perMs;
        const s = sockets[rr];
        rr = (rr + 1) % sockets.length;
        const cid = `w${index}p${phaseId}n${k}`;
        const id = ++reqSeq;
        ph.msgs.set(cid, { t: dueAt, acked: false, delivered: false, failed: false });
        ph.byReq.set(id, cid);
        s.ws.send(
          `{"type":"send","id":${id},"conversationId":"${s.conv}","clientMsgId":"${cid}","body":"${dueAt.toFixed(3)} ${cid} ${FILLER}"}`,
        );
        ph.sent++;
        k++;
        const lag = now() - dueAt;
        if (lag > ph.maxLagMs) ph.maxLagMs = lag;
      }
      if (ph.sent - ph.acked - ph.errors > maxInFlight) aborted = true;
      if (elapsed >= durationMs || aborted) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  const sendEnd = now();
  // Drain: wait until every acked message is delivered and every send answered, or time out.
  while (now() - sendEnd < drainMs) {
    if (ph.acked + ph.errors === ph.sent && ph.delivered >= ph.acked) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  clearInterval(report);
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const result = {
    ...summary(ph),
    aborted,
    elu,
    sendSeconds: (sendEnd - startAt) / 1000,
    drainSeconds: (now() - sendEnd) / 1000,
    closedUnexpectedly,
  };
  phase = null;
  return result;
}

parentPort.on('message', async (cmd) => {
  try {
    if (cmd.type === 'connect') parentPort.postMessage({ type: 'connected', ...(await connectAll()) });
    else if (cmd.type === 'run') parentPort.postMessage({ type: 'result', result: await run(cmd) });
    else if (cmd.type === 'close') {
      for (const s of sockets) s.ws?.close();
      parentPort.postMessage({ type: 'closed' });
    }
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: String(error?.stack ?? error) });
  }
});

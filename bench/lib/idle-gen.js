// Generator child for `sockets` and `biggroup`: many bare WebSocket clients (no SDK: ~100x lighter),
// each authenticated with {"type":"auth"}, spread over 127.0.0.x source addresses. The client is
// bench/lib/raw-ws.js by default (a few times cheaper per connection than the `ws` client, see
// there); `client: 'ws'` in init uses the `ws` package instead. Both answer the server's pings;
// pings are counted per socket to prove heartbeat rounds happened.
// For biggroup (and the sockets bench's delivery sample), message.created events are timed against the due time in the body
// ("<epoch ms> <index> ...") and counted per (member, message) to find losses and duplicates.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { Histogram } from './hist.js';
import { RawWs } from './raw-ws.js';

const now = () => performance.timeOrigin + performance.now();
const send = (m) => process.send?.(m);
let socks = [];
let url = '';
let target = null;
let sources = [];
let client = 'raw'; // 'raw' (bench/lib/raw-ws.js) or 'ws' (the ws package's client)
const c = {
  opened: 0,
  authed: 0,
  errors: 0,
  closed: 0,
  closeCodes: {},
  errorCodes: {},
  delivered: 0,
  duplicates: 0,
  stray: 0,
  frames: 0,
};
const lat = new Histogram();
let win = new Histogram();
let expectMsgs = 0;
let sender = null; // biggroup: socket that sends
const sendReplies = new Map();

// Frames the generator must read; everything else (presence of the connect wave, receipts) is
// counted as seen but not parsed, so 500k presence frames of a big-group connect wave cost little.
const READY = Buffer.from('"type":"ready"');
const REPLY = Buffer.from('"type":"reply"');
const CREATED = Buffer.from('"message.created"');

function open(s, i) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      resolve(ok ? performance.now() - t0 : -1);
    };
    const onOpen = () => {
      c.opened++;
      s.ws.send(JSON.stringify({ type: 'auth', token: s.key }));
    };
    const onMessage = (data) => {
      if (!s.ready) {
        if (data.indexOf(READY) < 0) return;
        s.ready = true;
        c.authed++;
        return finish(true);
      }
      c.frames++;
      if (data.indexOf(REPLY) >= 0) {
        const f = JSON.parse(data);
        if (f.type !== 'reply') return;
        const r = sendReplies.get(f.id);
        if (r) {
          sendReplies.delete(f.id);
          r(f);
        }
        return;
      }
      if (!s.counts || data.indexOf(CREATED) < 0) return;
      const f = JSON.parse(data);
      if (f.type === 'event' && f.event.type === 'message.created') {
        const m = f.event.message;
        if (m.senderId === s.id) return;
        const sp = m.body.indexOf(' ');
        const due = Number(m.body.slice(0, sp));
        const idx = Number(m.body.slice(sp + 1, m.body.indexOf(' ', sp + 1)));
        if (!(idx >= 0 && idx < s.counts.length)) return void c.stray++;
        if (s.counts[idx]++ > 0) return void c.duplicates++;
        c.delivered++;
        const ms = now() - due;
        lat.record(ms);
        win.record(ms);
      }
    };
    const onError = (e) => {
      c.errors++;
      const k = e.code ?? e.message?.slice(0, 40) ?? 'error';
      c.errorCodes[k] = (c.errorCodes[k] ?? 0) + 1;
      finish(false);
    };
    const onClose = (code) => {
      if (s.ready && !s.closing) {
        c.closed++;
        c.closeCodes[code] = (c.closeCodes[code] ?? 0) + 1;
      }
      s.ready = false;
      finish(false);
    };
    const localAddress = sources[i % sources.length];
    if (client === 'ws') {
      const ws = new WebSocket(url, { localAddress, perMessageDeflate: false });
      s.ws = ws;
      ws.on('open', onOpen);
      ws.on('ping', () => s.pings++);
      ws.on('message', (data) => onMessage(Buffer.isBuffer(data) ? data : Buffer.from(data)));
      ws.on('error', onError);
      ws.on('close', onClose);
    } else {
      s.ws = new RawWs(
        { host: target.hostname, port: Number(target.port), path: target.pathname, localAddress },
        { open: onOpen, message: onMessage, ping: () => s.pings++, error: onError, close: onClose },
      );
    }
  });
}

setInterval(() => {
  send({ type: 'tick', ...c, win: win.toJSON(), rssMiB: process.memoryUsage.rss() / 1048576 });
  win = new Histogram();
}, 1000).unref();

process.on('message', async (m) => {
  try {
    if (m.type === 'init') {
      url = `${m.url.replace(/^http/, 'ws')}/v1/ws`;
      target = new URL(url);
      client = m.client ?? 'raw';
      sources = m.sources;
      expectMsgs = m.expectMsgs ?? 0;
      socks = m.users.map((u) => ({
        id: u.id,
        key: u.apiKey,
        ws: null,
        ready: false,
        pings: 0,
        // A user's own expectMsgs (sockets' delivery sample: only the sampled recipients) over init's.
        counts: (u.expectMsgs ?? expectMsgs) ? new Uint8Array(u.expectMsgs ?? expectMsgs) : null,
      }));
      send({ type: 'inited' });
    } else if (m.type === 'connect') {
      const cpu0 = process.cpuUsage();
      const times = new Array(socks.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(m.concurrency ?? 100, socks.length) }, async () => {
          while (next < socks.length) {
            const i = next++;
            times[i] = await open(socks[i], i);
          }
        }),
      );
      const ok = times.filter((t) => t >= 0);
      const cpu = process.cpuUsage(cpu0);
      send({
        type: 'connected',
        ok: ok.length,
        failed: times.length - ok.length,
        conn: Histogram.exact(ok),
        cpuSec: (cpu.user + cpu.system) / 1e6,
      });
    } else if (m.type === 'pings') {
      const live = socks.filter((s) => s.ready);
      const pings = live.map((s) => s.pings);
      send({
        type: 'pings',
        live: live.length,
        min: Math.min(...pings),
        max: Math.max(...pings),
        sum: pings.reduce((a, b) => a + b, 0),
      });
    } else if (m.type === 'send-group') {
      // biggroup: socket 0 of this generator sends `count` messages at `rate`/s, open loop.
      sender = socks[0];
      const start = now() + 100;
      const acks = new Histogram();
      let failed = 0;
      const pend = [];
      for (let k = 0; k < m.count; k++) {
        const due = start + (k * 1000) / m.rate;
        const wait = due - now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const id = `r${k}`;
        const p = new Promise((resolve) => sendReplies.set(id, resolve)).then((f) =>
          f.ok ? acks.record(now() - due) : failed++,
        );
        pend.push(p);
        sender.ws.send(
          JSON.stringify({
            type: 'send',
            id,
            conversationId: m.conv,
            clientMsgId: `bg-${m.tag}-${k}`,
            body: `${due.toFixed(2)} ${k} big group fan-out`,
          }),
        );
      }
      await Promise.race([Promise.all(pend), new Promise((r) => setTimeout(r, 30_000))]);
      send({
        type: 'sent',
        acked: acks.n,
        failed,
        ack: { p50: acks.quantile(0.5), p99: acks.quantile(0.99), max: acks.max },
      });
    } else if (m.type === 'final') {
      let missing = 0;
      let membersComplete = 0;
      for (const s of socks) {
        if (!s.counts || s === sender) continue;
        let all = true;
        for (let k = 0; k < s.counts.length; k++) if (s.counts[k] === 0) missing++, (all = false);
        if (all) membersComplete++;
      }
      send({ type: 'final', ...c, missing, membersComplete, lat: lat.toJSON() });
    } else if (m.type === 'close') {
      for (const s of socks) {
        s.closing = true;
        s.ws?.terminate();
      }
      send({ type: 'closed' });
      setTimeout(() => process.exit(0), 100);
    }
  } catch (error) {
    send({ type: 'error', message: error?.stack ?? String(error) });
  }
});
process.on('disconnect', () => process.exit(0));

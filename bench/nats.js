// The log alone: what this machine's NATS JetStream costs per append, and how that changes with the
// rate and with durable consumers reading along. No gateway, no PostgreSQL: the server's own
// JetStreamEventLog (from packages/server/dist) appends message.created entries open loop at each
// rate (due times every millisecond, as the socket benchmark's generator does), with Nats-Msg-Id
// dedup, to fresh partition streams; `--consumers=N` adds N durable consumers whose handlers do
// nothing, the way the persister, fan-out and notifier read the log. Reports the appends per second
// that were acknowledged, append latency (due time -> PubAck), nats-server CPU per append (all its
// clients: run it on a quiet machine) and this process's CPU per append.
import { createRequire } from 'node:module';
import { Histogram } from './lib/hist.js';
import { startPrivateNats } from './lib/private-nats.js';
import { procStats, serviceCpu } from './lib/server.js';
import { writeReport } from './socket.js';

const dist = (p) => new URL(`../packages/server/dist/${p}`, import.meta.url).href;
const BODY = (n) =>
  `${Date.now()} m${n} the quick brown fox jumps over the lazy dog; le café est prêt à midi. 東京で会いましょう`;
const log = (line) => console.log(line);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function natsBench(opts = {}) {
  const { JetStreamEventLog } = await import(dist('adapters/nats/event-log.js'));
  const { createLogger } = await import(dist('observability/logger.js'));
  // --nats-sync=always: a private nats-server fsyncing every write (lib/private-nats.js).
  const privateNats = opts.natsSync ? await startPrivateNats({ sync: String(opts.natsSync) }) : null;
  const servers = privateNats?.url ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const rates = String(opts.rates ?? opts.rate ?? '2000,4000,8000,16000')
    .split(',')
    .map(Number);
  const consumerCounts = String(opts.consumers ?? '0,3')
    .split(',')
    .map(Number);
  const seconds = opts.duration ?? 8;
  const partitions = opts.partitions ?? 4;
  const conversations = opts.conversations ?? 500;
  log(
    `# nats benchmark: rates ${rates.join(', ')}/s for ${seconds} s each, ${partitions} partitions, consumers ${consumerCounts.join(' / ')}, ${servers}`,
  );
  const rows = [];
  for (const consumers of consumerCounts) {
    for (const rate of rates) {
      const prefix = `bench-nats-${Date.now().toString(36)}`;
      const eventLog = await JetStreamEventLog.open({
        servers,
        logger: createLogger('warn'),
        streamPrefix: prefix,
        partitions,
      });
      try {
        rows.push(
          await phase(eventLog, { rate, seconds, consumers, conversations, partitions, natsPid: privateNats?.pid }),
        );
      } finally {
        await eventLog.close();
        await dropStreams(servers, prefix);
      }
    }
  }
  await privateNats?.stop();
  writeReport(
    { kind: 'nats', at: new Date().toISOString(), servers, syncInterval: privateNats?.sync, partitions, seconds, rows },
    'nats',
  );
  return rows;
}

// With a private server its own CPU is read (the shared one serves other clients too).
const natsCpu = (pid) => (pid ? procStats(pid).cpuSec : serviceCpu()['nats-server']);

async function phase(eventLog, { rate, seconds, consumers, conversations, partitions, natsPid }) {
  const total = rate * seconds;
  let handled = 0;
  for (let c = 0; c < consumers; c++) {
    await eventLog.subscribe(`bench${c}`, async (records) => {
      handled += records.length;
    });
  }
  const convs = Array.from({ length: conversations }, (_, i) => `c_bench${i}`);
  const latency = new Histogram();
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let aborted = false;
  const nats0 = natsCpu(natsPid);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => {
    let lastReport = t0;
    const tick = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * rate));
      for (; sent < due; sent++) {
        const n = sent;
        const dueAt = t0 + (n * 1000) / rate;
        const conversationId = convs[n % conversations];
        const message = {
          id: `m_${n}`,
          conversationId,
          seq: 0,
          senderId: `u_${n % (2 * conversations)}`,
          clientMsgId: `cm_${t0}_${n}`,
          body: BODY(n),
          createdAt: new Date().toISOString(),
          editedAt: null,
          deletedAt: null,
          replyToId: null,
          reactions: [],
        };
        eventLog.append({ type: 'message.created', conversationId, message }).then(
          () => {
            acked++;
            latency.record(performance.now() - dueAt);
          },
          () => failed++,
        );
      }
      // Bounded: more than 5 s of appends unanswered means this rate is beyond the log here.
      if (sent - acked - failed > rate * 5) aborted = true;
      if (now - lastReport >= 1000) {
        lastReport = now;
        log(
          `  [${rate}/s, ${consumers} consumers ${Math.round((now - t0) / 1000)}s] sent ${sent} acked ${acked} failed ${failed} handled ${handled}`,
        );
      }
      if (aborted || acked + failed === total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  const publishMs = performance.now() - t0;
  const drainDeadline = performance.now() + 30_000;
  while (handled < acked * consumers && performance.now() < drainDeadline) await sleep(20);
  const drainMs = performance.now() - t0 - publishMs;
  const natsUs = (natsCpu(natsPid) - nats0) * 1e6;
  const own = process.cpuUsage(own0);
  const row = {
    rate,
    consumers,
    partitions,
    sent,
    acked,
    failed,
    aborted,
    ackedPerSecond: Math.round((acked / publishMs) * 1000),
    appendP50Ms: latency.quantile(0.5),
    appendP99Ms: latency.quantile(0.99),
    appendMaxMs: latency.max,
    consumersCaughtUpMs: handled >= acked * consumers ? Math.round(drainMs) : null,
    natsUsPerAppend: natsUs / Math.max(1, acked),
    clientUsPerAppend: (own.user + own.system) / Math.max(1, acked),
  };
  log(
    `== ${rate}/s, ${consumers} consumers: acked ${acked}/${sent}${aborted ? ' (aborted: over 5 s of appends in flight)' : ''}, ${row.ackedPerSecond}/s; ` +
      `append p50 ${row.appendP50Ms.toFixed(1)} p99 ${row.appendP99Ms.toFixed(1)} max ${row.appendMaxMs.toFixed(1)} ms; ` +
      `consumers caught up ${row.consumersCaughtUpMs === null ? 'not within 30 s' : `${row.consumersCaughtUpMs} ms after the last ack`}; ` +
      `nats-server ${row.natsUsPerAppend.toFixed(0)} µs per append, this process ${row.clientUsPerAppend.toFixed(0)} µs`,
  );
  return row;
}

async function dropStreams(servers, prefix) {
  const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
  const { connect } = await import(require.resolve('@nats-io/transport-node'));
  const { jetstreamManager } = await import(require.resolve('@nats-io/jetstream'));
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    // Stream names are the prefix upper-cased (logStream in adapters/nats/subjects.ts).
    for await (const name of jsm.streams.names())
      if (name.startsWith(`${prefix.toUpperCase()}_`)) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

// Chat creation in a burst (cluster): --rates (chats/s, default 100,500) for --duration s each, every
// chat a group of its creator and one connected recipient. Latency = the POST's start -> the
// recipient's conversation.updated event for that chat (fan-out reads the member's view from
// PostgreSQL), over every chat. The gateway and the workers run as two processes, as in production.
// CPU per created chat, from the start of a rate's burst until its last event arrived (or 30 s): the
// gateway and worker processes, each one's PostgreSQL backends (told apart by application_name),
// and nats-server (machine-wide).
import path from 'node:path';
import WebSocket from 'ws';
import { dropCluster } from './data.js';
import { Histogram, fmt } from './lib/hist.js';
import { client } from './lib/http.js';
import { pgBackendCpu } from './lib/pg-cpu.js';
import { seedPostgres } from './lib/seed.js';
import { clusterEnv, DATA_ROOT, freshDataDir, machineInfo, procStats, serviceCpu, startServer } from './lib/server.js';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const out = (...a) => process.stdout.write(`${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function chatsBench(opts) {
  const rates = String(opts.rates ?? '100,500')
    .split(',')
    .map(Number);
  const duration = opts.duration ?? 10;
  const pairs = opts.pairs ?? 200;
  const machine = machineInfo();
  log(
    `# chats: ${rates.join(', ')} chats/s for ${duration} s each, ${pairs} creator/recipient pairs (load ${machine.load})`,
  );
  const dataDir = freshDataDir('chats');
  const env = { ...clusterEnv(dataDir), RATE_LIMIT_CONVERSATIONS: '0' };
  const cpuProf = opts.cpuProf ? path.join(DATA_ROOT, 'profiles') : null;
  const worker = await startServer({
    dataDir: path.join(dataDir, 'worker'),
    env: { ...env, ROLES: 'persister,fanout,notifier', PGAPPNAME: `bench_chats_wk_${process.pid}` },
    readyTimeoutMs: 60_000,
    cpuProf,
  });
  const gateway = await startServer({
    dataDir,
    env: { ...env, ROLES: 'gateway', PGAPPNAME: `bench_chats_gw_${process.pid}` },
    readyTimeoutMs: 60_000,
    cpuProf,
  });
  const gatewayPg = await pgBackendCpu(env.DATABASE_URL, `bench_chats_gw_${process.pid}`);
  const workerPg = await pgBackendCpu(env.DATABASE_URL, `bench_chats_wk_${process.pid}`);
  const cpuNow = async () => ({
    gateway: procStats(gateway.pid).cpuSec,
    worker: procStats(worker.pid).cpuSec,
    gatewayPg: await gatewayPg.sample(),
    workerPg: await workerPg.sample(),
    nats: serviceCpu()['nats-server'],
  });
  const { users } = await seedPostgres(env, { users: pairs * 2 });
  const creators = users.filter((_, i) => i % 2 === 0);
  const recipients = users.filter((_, i) => i % 2 === 1);
  const http = client(gateway.url, { maxSockets: 128 });
  const startedAt = new Map(); // title -> POST start (ms)
  const arrivedAt = new Map(); // title -> event arrival (ms)
  const sockets = [];
  const results = [];
  try {
    await Promise.all(
      recipients.map(
        (u) =>
          new Promise((resolve, reject) => {
            const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/v1/ws`, { perMessageDeflate: false });
            sockets.push(ws);
            ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: u.apiKey })));
            ws.on('error', reject);
            ws.on('message', (data) => {
              const f = JSON.parse(data);
              if (f.type === 'ready') resolve();
              const c = f.type === 'event' && f.event.type === 'conversation.updated' ? f.event.conversation : null;
              if (c?.title && !arrivedAt.has(c.title)) arrivedAt.set(c.title, performance.now());
            });
          }),
      ),
    );
    log(`${recipients.length} recipients connected`);
    for (const rate of rates) {
      const count = Math.round(rate * duration);
      const tag = `r${rate}_${Date.now().toString(36)}`;
      const cpu0 = await cpuNow();
      const t0 = performance.now() + 100;
      let failed = 0;
      const posts = [];
      const replied = new Histogram();
      // Open loop: each chat is created at its due time, whether or not earlier ones have returned.
      for (let k = 0; k < count; k++) {
        const due = t0 + (k * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const title = `${tag}_${k}`;
        const pair = k % pairs;
        const sentAt = performance.now();
        startedAt.set(title, sentAt);
        posts.push(
          http
            .request('POST', '/v1/conversations', {
              body: { memberIds: [recipients[pair].id], title },
              token: creators[pair].apiKey,
            })
            .then(
              (r) => {
                replied.record(performance.now() - sentAt);
                if (r.status !== 201) failed++;
              },
              () => failed++,
            ),
        );
      }
      await Promise.all(posts);
      const deadline = performance.now() + 30_000;
      const titles = [...startedAt.keys()].filter((t) => t.startsWith(`${tag}_`));
      while (performance.now() < deadline && titles.some((t) => !arrivedAt.has(t))) await sleep(100);
      const cpu1 = await cpuNow();
      const perChat = Object.fromEntries(
        Object.keys(cpu0).map((k) => [k, Math.round(((cpu1[k] - cpu0[k]) * 1e6) / count)]),
      );
      const lat = new Histogram();
      for (const t of titles) if (arrivedAt.has(t)) lat.record(arrivedAt.get(t) - startedAt.get(t));
      const r = {
        rate,
        chats: count,
        failed,
        missing: titles.length - lat.n,
        p50: lat.quantile(0.5),
        p99: lat.quantile(0.99),
        max: lat.max,
        replyP99: replied.quantile(0.99),
        perChat,
      };
      results.push(r);
      log(
        `  ${rate}/s: ${count} chats, ${failed} failed, ${r.missing} events missing | creation -> member event p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} max ${fmt(r.max)} ms (POST reply p99 ${fmt(r.replyP99)} ms) | CPU µs per chat ${JSON.stringify(perChat)}`,
      );
      await sleep(1000);
    }
  } finally {
    for (const ws of sockets) ws.terminate();
    http.close();
    await gatewayPg.close();
    await workerPg.close();
    await gateway.stop();
    await worker.stop();
    if (!opts.keep)
      await dropCluster({ backend: 'cluster', databaseUrl: env.DATABASE_URL, schema: env.DATABASE_SCHEMA }).catch(
        (err) => log(`(clean-up failed: ${err.message})`),
      );
  }
  out(
    '| chats/s | chats | failed | missing | p50 ms | p99 ms | max ms | POST reply p99 ms | CPU µs per chat: gateway / its PG / worker / its PG / NATS |',
  );
  out('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const c = r.perChat;
    out(
      `| ${r.rate} | ${r.chats} | ${r.failed} | ${r.missing} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${fmt(r.replyP99)} | ${c.gateway} / ${c.gatewayPg} / ${c.worker} / ${c.workerPg} / ${c.nats} |`,
    );
  }
  return results;
}

// Data benchmark: seed a realistic corpus straight into a fresh SQLite file through the server's
// own adapters (SqliteEventLog + SqliteStore, big group commits), then start the server on it and
// measure search, chat list, history and start time over HTTP.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Histogram, fmt } from './lib/hist.js';
import { client } from './lib/http.js';
import { makeTextGen, QUERIES, rng } from './lib/corpus.js';
import { DATA_ROOT, freshDataDir, machineInfo, procStats, startServer } from './lib/server.js';
import { writeReport } from './socket.js';

const dist = (p) => new URL(`../packages/server/dist/${p}`, import.meta.url).href;
const log = (...a) => process.stderr.write(a.join(' ') + '\n');
const out = (...a) => process.stdout.write(a.join(' ') + '\n');

export async function seed(opts) {
  const { openDatabase } = await import(dist('adapters/sqlite/db.js'));
  const { SqliteStore } = await import(dist('adapters/sqlite/store.js'));
  const { SqliteEventLog } = await import(dist('adapters/sqlite/event-log.js'));
  const total = opts.messages ?? 1_000_000;
  const heavyConvs = opts.heavyConversations ?? 1000;
  const userCount = Math.max(opts.users ?? 3000, heavyConvs + 10);
  const otherConvs = opts.otherConversations ?? 4000;
  const batchSize = opts.batch ?? 20_000;
  const dataDir = opts.dataDir ?? freshDataDir('data');
  const t0 = performance.now();
  const db = openDatabase(path.join(dataDir, 'messenger.db'));
  const store = new SqliteStore({ db });
  const logger = { info() {}, warn: console.warn, error: console.error, debug() {} };
  const eventLog = new SqliteEventLog({ db, logger, writeStore: true });
  const r = rng(1234);
  const yearAgo = Date.now() - 365 * 24 * 3600 * 1000;
  const iso = (ms) => new Date(ms).toISOString();
  const hash = (k) => crypto.createHash('sha256').update(k).digest('hex');

  // Users: user 0 is the heavy user; keys are kept for the measuring step.
  const users = [];
  db.transaction(() => {
    for (let i = 0; i < userCount; i++) {
      const apiKey = `mk_bench_${i}_${crypto.randomBytes(16).toString('hex')}`;
      const id = `u_seed${i.toString(36)}`;
      store.users.create({ id, username: i === 0 ? 'heavy' : `user${i}`, displayName: i === 0 ? 'Heavy User' : `User ${i}`, createdAt: iso(yearAgo), apiKeyHash: hash(apiKey) });
      users.push({ id, apiKey });
    }
  })();
  // Conversations: the heavy user's direct chats, then other direct chats and groups.
  const convs = [];
  db.transaction(() => {
    for (let i = 1; i <= heavyConvs; i++) {
      const a = users[0].id;
      const b = users[i].id;
      const id = `c_h${i.toString(36)}`;
      store.convs.create({ id, kind: 'direct', title: null, createdAt: iso(yearAgo), memberIds: [a, b], directKey: a < b ? `${a}:${b}` : `${b}:${a}` });
      convs.push({ id, members: [a, b] });
    }
    for (let i = 0; i < otherConvs; i++) {
      const group = r() < 0.2;
      const size = group ? 3 + Math.floor(r() * 6) : 2;
      const members = new Set();
      while (members.size < size) members.add(users[1 + Math.floor(r() * (userCount - 1))].id);
      const ids = [...members];
      const id = `c_o${i.toString(36)}`;
      store.convs.create({ id, kind: group ? 'group' : 'direct', title: group ? `Group ${i}` : null, createdAt: iso(yearAgo), memberIds: ids, directKey: group ? null : `o${i}` });
      convs.push({ id, members: ids });
    }
  })();
  // Conversation weights: Zipf over a shuffled order, so activity is skewed like real chats.
  const order = convs.map((_, i) => i).sort(() => r() - 0.5);
  const cum = [];
  let acc = 0;
  for (let rank = 0; rank < order.length; rank++) cum.push((acc += 1 / (rank + 1) ** 0.8));
  const pickConv = () => {
    const x = r() * acc;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return convs[order[lo]];
  };
  const text = makeTextGen(99);
  const span = Date.now() - 60_000 - yearAgo;
  let written = 0;
  let lastLog = performance.now();
  const seedStart = performance.now();
  while (written < total) {
    const n = Math.min(batchSize, total - written);
    const pending = [];
    for (let i = 0; i < n; i++, written++) {
      const conv = pickConv();
      const senderId = conv.members[Math.floor(r() * conv.members.length)];
      const message = {
        id: `m_seed${written.toString(36)}`,
        conversationId: conv.id,
        seq: 0,
        senderId,
        clientMsgId: `seed-${written}`,
        body: text(),
        createdAt: iso(yearAgo + Math.floor((written / total) * span)),
        editedAt: null,
        deletedAt: null,
        replyToId: null,
        reactions: [],
      };
      pending.push(eventLog.append({ type: 'message.created', conversationId: conv.id, message }));
    }
    await Promise.all(pending); // all appended in one turn: one transaction (one group commit)
    if (performance.now() - lastLog > 2000) {
      lastLog = performance.now();
      const rate = written / ((performance.now() - seedStart) / 1000);
      log(`  seeded ${written}/${total} messages (${rate.toFixed(0)}/s)`);
    }
  }
  // Leave the heavy user with some unread messages in every chat (read up to a little before the end).
  db.prepare(`UPDATE members SET read_seq = MAX(0, (SELECT last_seq FROM conversations c WHERE c.id = members.conversation_id) - 3) WHERE user_id = ?`).run(users[0].id);
  await eventLog.close();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const seedMs = performance.now() - t0;
  const heavyConvIds = convs.slice(0, heavyConvs).map((c) => c.id);
  const light = users.slice(heavyConvs + 1, heavyConvs + 6);
  fs.writeFileSync(path.join(dataDir, 'bench-seed.json'), JSON.stringify({ heavy: users[0], light, heavyConvIds, total, userCount, convs: convs.length }));
  const dbBytes = fs.statSync(path.join(dataDir, 'messenger.db')).size;
  log(`seeded ${total} messages, ${userCount} users, ${convs.length} conversations in ${(seedMs / 1000).toFixed(1)} s (${(total / (seedMs / 1000)).toFixed(0)} msg/s), db ${(dbBytes / 1048576).toFixed(0)} MiB`);
  return { dataDir, seedMs, dbBytes, total, users: userCount, conversations: convs.length };
}

async function timeRequests(http, label, n, make, warmup = 10) {
  for (let i = 0; i < warmup; i++) await make(i);
  const times = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await make(i);
    times.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`${label}: HTTP ${res.status} ${JSON.stringify(res.json)}`);
    bytes += res.bytes;
  }
  const s = Histogram.exact(times);
  const row = { label, ...s, meanBytes: Math.round(bytes / n) };
  Object.defineProperty(row, 'times', { value: times, enumerable: false });
  return row;
}

export async function dataBench(opts) {
  const machine = machineInfo();
  const report = { machine, command: process.argv.slice(2).join(' '), results: {} };
  let dataDir = opts.dataDir;
  if (!dataDir) {
    log(`# data benchmark: seeding ${opts.messages ?? 1_000_000} messages (load ${machine.load})`);
    report.seed = await seed(opts);
    dataDir = report.seed.dataDir;
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dataDir, 'bench-seed.json'), 'utf8'));
  const samples = opts.samples ?? 300;
  log(`server build: ${machine.git}`);

  // Start time: spawn -> /readyz 200, several times on the seeded DATA_DIR.
  const starts = [];
  for (let i = 0; i < (opts.starts ?? 3) + (report.seed ? 1 : 0); i++) {
    const s = await startServer({ dataDir, readyTimeoutMs: 600_000 });
    log(`  start ${i + 1}: ${s.startMs.toFixed(0)} ms`);
    starts.push(s.startMs);
    await s.stop();
  }
  report.results.start = Histogram.exact(starts.slice(report.seed ? 1 : 0));
  report.results.firstStartAfterSeedMs = report.seed ? starts[0] : null;
  log(`start times: ${starts.map((x) => x.toFixed(0)).join(', ')} ms`);

  const server = await startServer({ dataDir, readyTimeoutMs: 600_000, cpuProf: opts.cpuProf ? path.join(path.dirname(dataDir), 'profiles') : null });
  const http = client(server.url, { maxSockets: 4 });
  const heavy = meta.heavy.apiKey;
  const rows = [];
  try {
    const r = rng(5);
    // Chat list: first page, and every page through all of the heavy user's chats.
    rows.push(await timeRequests(http, 'chat list first page (limit=50, 1,000-chat user)', samples, () => http.request('GET', '/v1/conversations?limit=50', { token: heavy })));
    const pageTimes = [];
    for (let round = 0; round < Math.max(1, Math.floor(samples / 20)); round++) {
      let cursor = null;
      let pages = 0;
      do {
        const t = performance.now();
        const res = await http.request('GET', `/v1/conversations?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: heavy });
        pageTimes.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`paging: ${res.status}`);
        cursor = res.json.nextCursor;
        pages++;
      } while (cursor && pages < 100);
      if (round === 0) log(`  paged through ${pages} pages of chats`);
    }
    rows.push({ label: 'chat list, paging all 1,000 chats (each page)', ...Histogram.exact(pageTimes) });
    // History: newest page and an older page of random heavy-user chats.
    const conv = () => meta.heavyConvIds[Math.floor(r() * meta.heavyConvIds.length)];
    rows.push(await timeRequests(http, 'history newest page (limit=50)', samples, () => http.request('GET', `/v1/conversations/${conv()}/messages?limit=50`, { token: heavy })));
    rows.push(await timeRequests(http, 'history older page (beforeSeq=40, limit=50)', samples, () => http.request('GET', `/v1/conversations/${conv()}/messages?beforeSeq=40&limit=50`, { token: heavy })));
    // Search: each kind as the heavy user (member of 1,000 chats) and as a light user.
    const searchAll = [];
    for (const [kind, qs] of Object.entries(QUERIES)) {
      for (const who of ['heavy', 'light']) {
        const token = who === 'heavy' ? heavy : meta.light[0].apiKey;
        const n = Math.max(20, Math.floor(samples / 8));
        let hits = 0;
        const row = await timeRequests(http, `search ${kind} as ${who}`, n, async (i) => {
          const res = await http.request('GET', `/v1/search?q=${encodeURIComponent(qs[i % qs.length])}&limit=20`, { token });
          hits += res.json?.results?.length ?? 0;
          return res;
        }, 3);
        row.meanResults = +(hits / (n + 3)).toFixed(1);
        rows.push(row);
        searchAll.push(row);
      }
    }
    rows.push({ label: 'search, all kinds above mixed', ...Histogram.exact(searchAll.flatMap((x) => x.times)) });
    report.results.rss = procStats(server.pid);
  } finally {
    http.close();
    await server.stop();
    if (!opts.keep && !opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    else log(`kept DATA_DIR ${dataDir} (re-measure with: node bench/run.js data --data-dir=${dataDir})`);
  }
  report.results.requests = rows;
  out(`\n== data benchmark on ${meta.total} messages, ${meta.userCount} users, ${meta.convs} conversations ==`);
  if (report.seed) out(`  seeding: ${(report.seed.seedMs / 1000).toFixed(1)} s (${(meta.total / (report.seed.seedMs / 1000)).toFixed(0)} msg/s), db ${(report.seed.dbBytes / 1048576).toFixed(0)} MiB`);
  const st = report.results.start;
  if (report.results.firstStartAfterSeedMs !== null) out(`  first server start on the freshly seeded DATA_DIR: ${fmt(report.results.firstStartAfterSeedMs)} ms (durable log consumers without an offset replay the whole log)`);
  out(`  server restart (spawn -> /readyz 200): p50 ${fmt(st.p50)} ms, max ${fmt(st.max)} ms over ${st.n} starts   [target <= 2000 ms]`);
  out(`  ${'request'.padEnd(52)} ${'n'.padStart(4)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}  results`);
  for (const x of rows) out(`  ${x.label.padEnd(52)} ${String(x.n).padStart(4)} ${fmt(x.p50).padStart(7)} ${fmt(x.p95).padStart(7)} ${fmt(x.p99).padStart(7)} ${fmt(x.max).padStart(7)}  ${x.meanResults ?? ''}`);
  const searchTimes = rows.filter((x) => x.label.startsWith('search') && x.times);
  const worst = searchTimes.reduce((a, b) => (b.p99 > a.p99 ? b : a), searchTimes[0]);
  out(`  targets: search p99 <= 50 ms (worst kind: ${worst.label} ${fmt(worst.p99)} ms); chat list p99 <= 20 ms; history p99 <= 10 ms`);
  out(`  server rss after the requests: ${report.results.rss?.rssMiB?.toFixed(0)} MiB`);
  writeReport(report, 'data');
  return report;
}

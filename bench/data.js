// Data benchmark: seed a realistic corpus straight into a fresh SQLite file through the server's
// own adapters (SqliteEventLog + SqliteStore, big group commits), or with --backend=cluster into a
// fresh PostgreSQL schema through PostgresStore.apply() (DATABASE_URL, default
// postgres://127.0.0.1:5432/test), then start the server on it and measure search, chat list,
// history and start time over HTTP. --keep keeps the DATA_DIR (and schema); --data-dir=<dir> --drop
// removes them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Histogram, fmt } from './lib/hist.js';
import { client } from './lib/http.js';
import { makeTextGen, QUERIES, rng } from './lib/corpus.js';
import { freshDataDir, machineInfo, procStats, startServer } from './lib/server.js';
import { writeReport } from './socket.js';

const dist = (p) => new URL(`../packages/server/dist/${p}`, import.meta.url).href;
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const out = (...a) => process.stdout.write(`${a.join(' ')}\n`);

/**
 * The corpus, the same for both backends: users (user 0 is the heavy user), conversations, and a
 * message generator (Zipf over a shuffled order of conversations, spread over one year).
 */
function corpus(opts) {
  const total = opts.messages ?? 1_000_000;
  const heavyConvs = opts.heavyConversations ?? 1000;
  const userCount = Math.max(opts.users ?? 3000, heavyConvs + 10);
  const otherConvs = opts.otherConversations ?? 4000;
  const r = rng(1234);
  const yearAgo = Date.now() - 365 * 24 * 3600 * 1000;
  const iso = (ms) => new Date(ms).toISOString();
  const hash = (k) => crypto.createHash('sha256').update(k).digest('hex');
  const users = [];
  for (let i = 0; i < userCount; i++) {
    const apiKey = `mk_bench_${i}_${crypto.randomBytes(16).toString('hex')}`;
    const id = `u_seed${i.toString(36)}`;
    users.push({
      id,
      apiKey,
      user: {
        id,
        username: i === 0 ? 'heavy' : `user${i}`,
        displayName: i === 0 ? 'Heavy User' : `User ${i}`,
        createdAt: iso(yearAgo),
        apiKeyHash: hash(apiKey),
      },
    });
  }
  // Conversations: the heavy user's direct chats, then other direct chats and groups.
  const convs = [];
  for (let i = 1; i <= heavyConvs; i++) {
    const a = users[0].id;
    const b = users[i].id;
    const id = `c_h${i.toString(36)}`;
    convs.push({
      id,
      members: [a, b],
      conv: {
        id,
        kind: 'direct',
        title: null,
        createdAt: iso(yearAgo),
        memberIds: [a, b],
        directKey: a < b ? `${a}:${b}` : `${b}:${a}`,
      },
    });
  }
  for (let i = 0; i < otherConvs; i++) {
    const group = r() < 0.2;
    const size = group ? 3 + Math.floor(r() * 6) : 2;
    const members = new Set();
    while (members.size < size) members.add(users[1 + Math.floor(r() * (userCount - 1))].id);
    const ids = [...members];
    const id = `c_o${i.toString(36)}`;
    convs.push({
      id,
      members: ids,
      conv: {
        id,
        kind: group ? 'group' : 'direct',
        title: group ? `Group ${i}` : null,
        createdAt: iso(yearAgo),
        memberIds: ids,
        directKey: group ? null : `o${i}`,
      },
    });
  }
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
  /** Message number `n` (0-based, in order); seq 0 (the log assigns it) unless given. */
  const message = (n, seqOf = () => 0) => {
    const conv = pickConv();
    const senderId = conv.members[Math.floor(r() * conv.members.length)];
    return {
      id: `m_seed${n.toString(36)}`,
      conversationId: conv.id,
      seq: seqOf(conv.id),
      senderId,
      clientMsgId: `seed-${n}`,
      body: text(),
      createdAt: iso(yearAgo + Math.floor((n / total) * span)),
      editedAt: null,
      deletedAt: null,
      replyToId: null,
      reactions: [],
    };
  };
  return { total, heavyConvs, userCount, users, convs, message };
}

function progress(total) {
  let lastLog = performance.now();
  const seedStart = performance.now();
  return (written) => {
    if (performance.now() - lastLog > 2000) {
      lastLog = performance.now();
      const rate = written / ((performance.now() - seedStart) / 1000);
      log(
        `  seeded ${written}/${total} messages (${rate.toFixed(0)}/s, load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`,
      );
    }
  };
}

function writeMeta(dataDir, c, extra = {}) {
  const heavyConvIds = c.convs.slice(0, c.heavyConvs).map((x) => x.id);
  const light = c.users.slice(c.heavyConvs + 1, c.heavyConvs + 6).map(({ id, apiKey }) => ({ id, apiKey }));
  const heavy = { id: c.users[0].id, apiKey: c.users[0].apiKey };
  fs.writeFileSync(
    path.join(dataDir, 'bench-seed.json'),
    JSON.stringify({
      heavy,
      light,
      heavyConvIds,
      total: c.total,
      userCount: c.userCount,
      convs: c.convs.length,
      ...extra,
    }),
  );
}

export async function seed(opts) {
  if (opts.backend === 'cluster') return seedPostgres(opts);
  const { openDatabase } = await import(dist('adapters/sqlite/db.js'));
  const { SqliteStore } = await import(dist('adapters/sqlite/store.js'));
  const { SqliteEventLog } = await import(dist('adapters/sqlite/event-log.js'));
  const batchSize = opts.batch ?? 20_000;
  const dataDir = opts.dataDir ?? freshDataDir('data');
  const t0 = performance.now();
  const db = openDatabase(path.join(dataDir, 'messenger.db'));
  const store = new SqliteStore({ db });
  const logger = { info() {}, warn: console.warn, error: console.error, debug() {} };
  const eventLog = new SqliteEventLog({ db, logger, writeStore: true });
  const c = corpus(opts);
  const { total } = c;
  db.transaction(() => {
    for (const u of c.users) store.users.createUser(u.user);
  })();
  db.transaction(() => {
    for (const x of c.convs) store.conversations.createConversation(x.conv);
  })();
  let written = 0;
  const tick = progress(total);
  while (written < total) {
    const n = Math.min(batchSize, total - written);
    const pending = [];
    for (let i = 0; i < n; i++, written++) {
      const message = c.message(written);
      pending.push(eventLog.append({ type: 'message.created', conversationId: message.conversationId, message }));
    }
    await Promise.all(pending); // all appended in one turn: one transaction (one group commit)
    tick(written);
  }
  // Leave the heavy user with some unread messages in every chat (read up to a little before the end).
  db.prepare(
    `UPDATE members SET read_seq = MAX(0, (SELECT last_seq FROM conversations c WHERE c.id = members.conversation_id) - 3) WHERE user_id = ?`,
  ).run(c.users[0].id);
  await eventLog.close();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const seedMs = performance.now() - t0;
  writeMeta(dataDir, c, { backend: 'embedded' });
  const dbBytes = fs.statSync(path.join(dataDir, 'messenger.db')).size;
  log(
    `seeded ${total} messages, ${c.userCount} users, ${c.convs.length} conversations in ${(seedMs / 1000).toFixed(1)} s (${(total / (seedMs / 1000)).toFixed(0)} msg/s), db ${(dbBytes / 1048576).toFixed(0)} MiB`,
  );
  return { dataDir, seedMs, dbBytes, total, users: c.userCount, conversations: c.convs.length };
}

const DEFAULT_DATABASE_URL = 'postgres://127.0.0.1:5432/test';

/**
 * PostgreSQL (--backend=cluster): the same corpus written into its own schema through the cluster's
 * PostgresStore (migrations, createUser, createConversation, and apply() of message.created records
 * in big batches: the persister's one-statement unnest insert). Seqs are assigned here, per
 * conversation, as the cluster's log would. The DATA_DIR only holds bench-seed.json (with the schema).
 */
async function seedPostgres(opts) {
  const { PostgresStore } = await import(dist('adapters/postgres/store.js'));
  const batchSize = opts.batch ?? 5_000;
  const dataDir = opts.dataDir ?? freshDataDir('data-pg');
  const schema = `bench_${path
    .basename(dataDir)
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()}`;
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const t0 = performance.now();
  const store = await PostgresStore.open({ connectionString: databaseUrl, schema, maxConnections: 10 });
  log(`  PostgreSQL schema ${schema} at ${databaseUrl}`);
  // Written before the data, so an interrupted seed can still be found and dropped.
  fs.writeFileSync(
    path.join(dataDir, 'bench-seed.json'),
    JSON.stringify({ backend: 'cluster', schema, databaseUrl, incomplete: true }),
  );
  const c = corpus(opts);
  const { total } = c;
  const inParallel = async (items, fn, width = 8) => {
    for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
  };
  await inParallel(c.users, (u) => store.users.createUser(u.user));
  await inParallel(c.convs, (x) => store.conversations.createConversation(x.conv));
  // Bulk-load shape: the GIN (search) indexes of the message table are dropped during the load and
  // built once at the end from their own definitions (--index-during-load keeps them).
  const { pool } = store.db;
  let ginIndexes = [];
  if (!opts.indexDuringLoad) {
    ({ rows: ginIndexes } = await pool.query(
      `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am a ON a.oid = i.relam
        WHERE n.nspname = $1 AND t.relname = 'messages' AND a.amname = 'gin' AND i.relkind = 'I'`,
      [schema],
    ));
    for (const ix of ginIndexes) await pool.query(`DROP INDEX ${schema}.${ix.name}`);
    log(`  dropped for the load, rebuilt at the end: ${ginIndexes.map((ix) => ix.name).join(', ') || '(none)'}`);
  }
  const seqs = new Map();
  const seqOf = (id) => {
    const s = (seqs.get(id) ?? 0) + 1;
    seqs.set(id, s);
    return s;
  };
  let written = 0;
  let pos = 0;
  const tick = progress(total);
  let inFlight = null; // one apply() at a time; the next batch is generated while it runs
  while (written < total) {
    const n = Math.min(batchSize, total - written);
    const records = [];
    for (let i = 0; i < n; i++, written++) {
      const message = c.message(written, seqOf);
      records.push({ type: 'message.created', conversationId: message.conversationId, message, pos: ++pos });
    }
    if (inFlight) await inFlight;
    inFlight = store.records.apply(records);
    tick(written);
  }
  await inFlight;
  const loadMs = performance.now() - t0;
  log(`  messages written in ${(loadMs / 1000).toFixed(1)} s`);
  const client = await pool.connect();
  let dbBytes;
  try {
    await client.query(`SET maintenance_work_mem = '${opts.maintenanceWorkMem ?? '1GB'}'`);
    for (const ix of ginIndexes) {
      const t = performance.now();
      // The definition of a partitioned table's index says ON ONLY (parent alone); build every partition.
      await client.query(ix.def.replace(' ON ONLY ', ' ON '));
      log(`  built ${ix.name} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    // Leave the heavy user with some unread messages in every chat (read up to a little before the end).
    await client.query(
      `UPDATE members m SET read_seq = GREATEST(0, c.last_seq - 3) FROM conversations c WHERE c.id = m.conversation_id AND m.user_id = $1`,
      [c.users[0].id],
    );
    // VACUUM as well as ANALYZE: a deployment's autovacuum would have set the hint bits and the
    // visibility map by the time the data is this old (autovacuum may be off, as on the bench
    // machine); without it, the first read of each page dirties it, and with a small
    // shared_buffers the reading backend writes it back.
    await client.query('VACUUM (ANALYZE) messages');
    await client.query('ANALYZE');
    const { rows } = await client.query(
      `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
      [schema],
    );
    dbBytes = Number(rows[0].bytes);
  } finally {
    client.release();
  }
  await store.close();
  const seedMs = performance.now() - t0;
  writeMeta(dataDir, c, { backend: 'cluster', schema, databaseUrl });
  log(
    `seeded ${total} messages, ${c.userCount} users, ${c.convs.length} conversations into schema ${schema} in ${(seedMs / 1000).toFixed(1)} s (${(total / (seedMs / 1000)).toFixed(0)} msg/s), ${(dbBytes / 1048576).toFixed(0)} MiB`,
  );
  return {
    dataDir,
    schema,
    seedMs,
    loadMs,
    indexesRebuilt: ginIndexes.map((ix) => ix.name),
    dbBytes,
    total,
    users: c.userCount,
    conversations: c.convs.length,
  };
}

/** The server environment for a seeded DATA_DIR: the cluster backend on the seed's schema, or nothing (embedded). */
function serverEnv(meta, dataDir) {
  if (meta.backend !== 'cluster') return {};
  const tag = meta.schema;
  return {
    DATABASE_URL: meta.databaseUrl,
    DATABASE_SCHEMA: meta.schema,
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    LOG_STREAM_PREFIX: tag.replace(/_/g, '-'),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `${tag}:`,
  };
}

/** Drops what a cluster run left: the schema, the JetStream streams and the Redis keys of its prefix. */
export async function dropCluster(meta) {
  const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
  const pg = require('pg');
  const pool = new pg.Pool({ connectionString: withUser(meta.databaseUrl), max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${meta.schema} CASCADE`);
  } finally {
    await pool.end();
  }
  const env = serverEnv(meta);
  try {
    const { connect } = await import(require.resolve('@nats-io/transport-node'));
    const { jetstreamManager } = await import(require.resolve('@nats-io/jetstream'));
    const nc = await connect({ servers: env.NATS_URL });
    const jsm = await jetstreamManager(nc);
    // Stream names are the prefix upper-cased (logStream in adapters/nats/subjects.ts).
    for await (const name of jsm.streams.names())
      if (name.startsWith(`${env.LOG_STREAM_PREFIX.toUpperCase()}_`)) await jsm.streams.delete(name);
    await nc.close();
  } catch (err) {
    log(`  (could not delete the JetStream streams ${env.LOG_STREAM_PREFIX}_*: ${err.message})`);
  }
  try {
    const Redis = require('ioredis');
    const redis = new Redis(env.REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${env.REDIS_KEY_PREFIX}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  } catch (err) {
    log(`  (could not delete the Redis keys ${env.REDIS_KEY_PREFIX}*: ${err.message})`);
  }
  log(`dropped schema ${meta.schema}, streams ${env.LOG_STREAM_PREFIX}_*, keys ${env.REDIS_KEY_PREFIX}*`);
}

const withUser = (url) => {
  const u = new URL(url);
  if (!u.username) u.username = process.env.PGUSER ?? os.userInfo().username;
  return u.toString();
};

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
    log(
      `# data benchmark (${opts.backend === 'cluster' ? 'cluster: PostgreSQL' : 'embedded: SQLite'}): seeding ${opts.messages ?? 1_000_000} messages (load ${machine.load})`,
    );
    report.seed = await seed(opts);
    dataDir = report.seed.dataDir;
    if (opts.seedOnly) {
      log(`seed only: kept ${dataDir} (measure with: node bench/run.js data --data-dir=${dataDir})`);
      writeReport(report, 'data-seed');
      return report;
    }
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dataDir, 'bench-seed.json'), 'utf8'));
  if (opts.drop) {
    if (meta.backend === 'cluster') await dropCluster(meta);
    fs.rmSync(dataDir, { recursive: true, force: true });
    log(`removed ${dataDir}`);
    return report;
  }
  const backend = meta.backend ?? 'embedded';
  report.backend = backend;
  const env = serverEnv(meta, dataDir);
  const samples = opts.samples ?? 300;
  log(
    `server build: ${machine.git}; backend ${backend}${meta.schema ? ` (schema ${meta.schema})` : ''}; load ${machine.load}`,
  );

  // Start time: spawn -> /readyz 200, several times on the seeded DATA_DIR.
  const starts = [];
  for (let i = 0; i < (opts.starts ?? 3) + (report.seed ? 1 : 0); i++) {
    const s = await startServer({ dataDir, env, readyTimeoutMs: 600_000 });
    log(`  start ${i + 1}: ${s.startMs.toFixed(0)} ms`);
    starts.push(s.startMs);
    await s.stop();
  }
  report.results.start = Histogram.exact(starts.slice(report.seed ? 1 : 0));
  report.results.firstStartAfterSeedMs = report.seed ? starts[0] : null;
  log(`start times: ${starts.map((x) => x.toFixed(0)).join(', ')} ms`);

  const server = await startServer({
    dataDir,
    env,
    readyTimeoutMs: 600_000,
    cpuProf: opts.cpuProf ? path.join(path.dirname(dataDir), 'profiles') : null,
  });
  const http = client(server.url, { maxSockets: 4 });
  const heavy = meta.heavy.apiKey;
  const rows = [];
  try {
    const r = rng(5);
    // Chat list: first page, and every page through all of the heavy user's chats.
    rows.push(
      await timeRequests(http, 'chat list first page (limit=50, 1,000-chat user)', samples, () =>
        http.request('GET', '/v1/conversations?limit=50', { token: heavy }),
      ),
    );
    const pageTimes = [];
    for (let round = 0; round < Math.max(1, Math.floor(samples / 20)); round++) {
      let cursor = null;
      let pages = 0;
      do {
        const t = performance.now();
        const res = await http.request(
          'GET',
          `/v1/conversations?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { token: heavy },
        );
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
    rows.push(
      await timeRequests(http, 'history newest page (limit=50)', samples, () =>
        http.request('GET', `/v1/conversations/${conv()}/messages?limit=50`, { token: heavy }),
      ),
    );
    rows.push(
      await timeRequests(http, 'history older page (beforeSeq=40, limit=50)', samples, () =>
        http.request('GET', `/v1/conversations/${conv()}/messages?beforeSeq=40&limit=50`, { token: heavy }),
      ),
    );
    // Search: each kind as the heavy user (member of 1,000 chats) and as a light user.
    const searchAll = [];
    for (const [kind, qs] of Object.entries(QUERIES)) {
      for (const who of ['heavy', 'light']) {
        const token = who === 'heavy' ? heavy : meta.light[0].apiKey;
        const n = Math.max(20, Math.floor(samples / 8));
        let hits = 0;
        const row = await timeRequests(
          http,
          `search ${kind} as ${who}`,
          n,
          async (i) => {
            const res = await http.request('GET', `/v1/search?q=${encodeURIComponent(qs[i % qs.length])}&limit=20`, {
              token,
            });
            hits += res.json?.results?.length ?? 0;
            return res;
          },
          3,
        );
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
    if (!opts.keep && !opts.dataDir) {
      if (meta.backend === 'cluster') await dropCluster(meta);
      fs.rmSync(dataDir, { recursive: true, force: true });
    } else {
      log(
        `kept DATA_DIR ${dataDir}${meta.schema ? ` and schema ${meta.schema}` : ''} (re-measure with: node bench/run.js data --data-dir=${dataDir}; remove with --drop)`,
      );
    }
  }
  report.results.requests = rows;
  out(
    `\n== data benchmark (${backend}${meta.schema ? `, PostgreSQL schema ${meta.schema}` : ', SQLite'}) on ${meta.total} messages, ${meta.userCount} users, ${meta.convs} conversations ==`,
  );
  if (report.seed)
    out(
      `  seeding: ${(report.seed.seedMs / 1000).toFixed(1)} s (${(meta.total / (report.seed.seedMs / 1000)).toFixed(0)} msg/s), db ${(report.seed.dbBytes / 1048576).toFixed(0)} MiB`,
    );
  const st = report.results.start;
  if (report.results.firstStartAfterSeedMs !== null)
    out(
      `  first server start on the freshly seeded DATA_DIR: ${fmt(report.results.firstStartAfterSeedMs)} ms (durable log consumers without an offset replay the whole log)`,
    );
  out(
    `  server restart (spawn -> /readyz 200): p50 ${fmt(st.p50)} ms, max ${fmt(st.max)} ms over ${st.n} starts   [target <= 2000 ms${backend === 'cluster' ? ' is for the embedded server' : ''}]`,
  );
  out(`  load at the end: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  out(
    `  ${'request'.padEnd(52)} ${'n'.padStart(4)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}  results`,
  );
  for (const x of rows)
    out(
      `  ${x.label.padEnd(52)} ${String(x.n).padStart(4)} ${fmt(x.p50).padStart(7)} ${fmt(x.p95).padStart(7)} ${fmt(x.p99).padStart(7)} ${fmt(x.max).padStart(7)}  ${x.meanResults ?? ''}`,
    );
  const searchTimes = rows.filter((x) => x.label.startsWith('search') && x.times);
  const worst = searchTimes.reduce((a, b) => (b.p99 > a.p99 ? b : a), searchTimes[0]);
  out(
    `  targets: search p99 <= 50 ms (worst kind: ${worst.label} ${fmt(worst.p99)} ms); chat list p99 <= 20 ms; history p99 <= 10 ms`,
  );
  out(`  server rss after the requests: ${report.results.rss?.rssMiB?.toFixed(0)} MiB`);
  writeReport(report, 'data');
  return report;
}

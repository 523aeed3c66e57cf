// The cluster's persister alone, end to end (from packages/server/dist): message.created records
// are appended to a fresh JetStream log while no persister runs, then a PersisterWorker drains them
// into a fresh PostgreSQL schema. Reports persisted messages per second by the persister's batch
// size, and the PostgreSQL backends' CPU per message (told apart by application_name).
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { pgBackendCpu } from './lib/pg-cpu.js';

const dist = (p) => new URL(`../packages/server/dist/${p}`, import.meta.url).href;
const BODY = (n) => `${n} the quick brown fox jumps over the lazy dog; le café est prêt à midi. 東京で会いましょう`;

export async function persistCluster(opts = {}) {
  const { PostgresStore } = await import(dist('adapters/postgres/store.js'));
  const { JetStreamEventLog } = await import(dist('adapters/nats/event-log.js'));
  const { PersisterWorker } = await import(dist('workers/persist.js'));
  const { createMetrics } = await import(dist('observability/metrics.js'));
  const { logStream } = await import(dist('adapters/nats/subjects.js'));
  const { pino } = await import('pino');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const { connect } = await import('@nats-io/transport-node');
  const { default: pg } = await import('pg');
  const url = process.env.DATABASE_URL ?? `postgres://${userInfo().username}@127.0.0.1:5432/test`;
  const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const total = opts.entries ?? 20_000;
  const convs = opts.conversations ?? 500;
  const partitions = opts.partitions ?? 4;
  const logger = pino({ level: 'warn' });
  const appName = `bench_persist_${process.pid}`;
  process.env.PGAPPNAME = appName;
  const prefix = `bp${randomBytes(4).toString('hex')}`;
  const log = await JetStreamEventLog.open({ servers: natsUrl, streamPrefix: prefix, partitions, logger });
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  const out = [];
  try {
    const now = new Date().toISOString();
    const t0 = performance.now();
    for (let n = 0; n < total; n += 1000) {
      const appends = [];
      for (let i = n; i < Math.min(total, n + 1000); i++) {
        const c = i % convs;
        const message = {
          id: `m${i}`,
          conversationId: `c${c}`,
          seq: 0,
          senderId: `ua${c}`,
          clientMsgId: `x${i}`,
          body: BODY(i),
          createdAt: now,
          editedAt: null,
          deletedAt: null,
          replyToId: null,
          reactions: [],
        };
        appends.push(log.append({ type: 'message.created', conversationId: `c${c}`, message }));
      }
      await Promise.all(appends);
    }
    console.log(`appended ${total} messages in ${Math.round(performance.now() - t0)} ms (${partitions} partitions)`);

    for (const batch of String(opts.batches ?? '100,500')
      .split(',')
      .map(Number)) {
      const schema = `bench_persist_${process.pid}_${out.length}`;
      const store = await PostgresStore.open({ connectionString: url, schema, maxConnections: 4 });
      for (let c = 0; c < convs; c++) {
        await store.conversations.createConversation({
          id: `c${c}`,
          kind: 'direct',
          title: null,
          createdAt: now,
          memberIds: [`ua${c}`, `ub${c}`],
          directKey: `k${c}`,
        });
      }
      const cpu = await pgBackendCpu(url, appName);
      const backend0 = await cpu.sample();
      const persister = new PersisterWorker({
        log,
        recordSink: store.records,
        logger,
        metrics: createMetrics(),
        batchSize: batch,
      });
      const started = performance.now();
      await persister.start();
      const sampler = setInterval(() => void cpu.sample(), 1000);
      const caughtUp = await log.caughtUp('persister', null, 600_000);
      const ms = performance.now() - started;
      clearInterval(sampler);
      const backendSec = (await cpu.sample()) - backend0;
      await persister.stop();
      await cpu.close();
      await store.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
      // The next variant starts a new persister consumer from the log's beginning.
      for (let p = 0; p < partitions; p++)
        await jsm.consumers.delete(logStream(prefix, p), 'persister').catch(() => {});
      const row = {
        batch,
        entries: total,
        caughtUp,
        messagesPerSecond: Math.round((total * 1000) / ms),
        postgresUsPerMessage: Math.round((backendSec * 1e6) / total),
      };
      out.push(row);
      console.log(
        `persister batch ${String(batch).padStart(4)}: ${row.messagesPerSecond} messages/s persisted` +
          ` (${total} in ${Math.round(ms)} ms${caughtUp ? '' : ', NOT caught up'}), PostgreSQL backends ${row.postgresUsPerMessage} µs/msg`,
      );
    }
  } finally {
    for (let p = 0; p < partitions; p++) await jsm.streams.delete(logStream(prefix, p)).catch(() => false);
    await nc.close();
    await log.close();
  }
  return out;
}

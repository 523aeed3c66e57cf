// The persister over real NATS JetStream and PostgreSQL: a record the store refuses for good (its
// data, not the database) is quarantined and the partition goes on, instead of stopping on it.
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventLog } from '../adapters/nats/event-log.js';
import { logStream } from '../adapters/nats/subjects.js';
import { openInSchema, reachable } from '../adapters/postgres/test-db.js';
import type { PostgresStore } from '../adapters/postgres/store.js';
import { draftMessage } from '../core/messages/event-log.contract.js';
import { createMetrics } from '../observability/metrics.js';
import { PersisterWorker } from './persist.js';

const NATS_URL = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
const PARTITIONS = 1;
const logger = pino({ level: 'silent' });
const prefix = `pq${randomBytes(5).toString('hex')}`;

describe.runIf(reachable)('PersisterWorker on JetStream and PostgreSQL', () => {
  let store: PostgresStore;
  let log: JetStreamEventLog;

  beforeAll(async () => {
    store = (await openInSchema()).store;
    log = await JetStreamEventLog.open({ servers: NATS_URL, streamPrefix: prefix, partitions: PARTITIONS, logger });
  });

  afterAll(async () => {
    await log?.close();
    await store?.close();
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    for (let p = 0; p < PARTITIONS; p++) await jsm.streams.delete(logStream(prefix, p)).catch(() => false);
    await nc.close();
  });

  it('quarantines a record the store refuses for good and stores the rest of the partition, in order', async () => {
    const send = (conversationId: string, clientMsgId: string, patch: object = {}) =>
      log.append({
        type: 'message.created',
        conversationId,
        message: { ...draftMessage(conversationId, 'u_a', clientMsgId), ...patch },
      });
    // A record written by a buggy or older writer: PostgreSQL refuses its timestamp (SQLSTATE 22007).
    const before = await send('c_1', 'before');
    const poison = await send('c_1', 'poison', { createdAt: 'not a time' });
    const after = await send('c_1', 'after');
    const _other = await send('c_2', 'other');
    const metrics = createMetrics();
    const persister = new PersisterWorker({ log, recordSink: store.records, logger, metrics });
    await persister.start();
    try {
      const deadline = Date.now() + 10_000;
      while ((await log.lag(['persister'])).persister !== 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect((await log.lag(['persister'])).persister).toBe(0);
      const seqOf = (r: Awaited<ReturnType<typeof send>>) =>
        r.duplicate ? r.seq : 'message' in r.record ? r.record.message.seq : undefined;
      expect((await store.messages.history('c_1', 'u_a', { limit: 10 })).map((m) => [m.seq, m.clientMsgId])).toEqual([
        [seqOf(before), 'before'],
        [seqOf(after), 'after'],
      ]);
      expect((await store.messages.history('c_2', 'u_a', { limit: 10 })).map((m) => m.clientMsgId)).toEqual(['other']);
      const quarantined = await store.records.quarantined(10);
      expect(quarantined).toHaveLength(1);
      expect(quarantined[0]).toMatchObject({
        conversationId: 'c_1',
        type: 'message.created',
        reason: expect.stringContaining('22007'),
      });
      expect(JSON.parse(quarantined[0]!.record)).toMatchObject({
        message: { clientMsgId: 'poison', seq: seqOf(poison), createdAt: 'not a time' },
      });
      expect((await metrics.registry.getSingleMetric('messenger_records_quarantined_total')!.get()).values).toEqual([
        { value: 1, labels: { type: 'message.created' } },
      ]);
      // Quarantining again (a batch replayed after a crash) keeps one copy.
      await store.records.quarantine(JSON.parse(quarantined[0]!.record), 'again');
      expect(await store.records.quarantined(10)).toHaveLength(1);
    } finally {
      await persister.stop();
    }
  });

  it('stops quarantining past its bound per minute and retries instead: a flood of refusals stalls the partition, it does not divert it', async () => {
    const conversationId = `c_flood_${randomBytes(3).toString('hex')}`;
    const send = (clientMsgId: string, patch: object = {}) =>
      log.append({
        type: 'message.created',
        conversationId,
        message: { ...draftMessage(conversationId, 'u_b', clientMsgId), ...patch },
      });
    await send('ok-1');
    for (const n of [1, 2, 3]) await send(`bad-${n}`, { createdAt: `not a time ${n}` });
    await send('ok-2');
    const before = (await store.records.quarantined(100)).length;
    const persister = new PersisterWorker({
      log,
      recordSink: store.records,
      logger,
      metrics: createMetrics(),
      maxQuarantinedPerMinute: 2,
    });
    await persister.start();
    try {
      const deadline = Date.now() + 3_000;
      while ((await store.records.quarantined(100)).length < before + 2 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 500)); // retries of the third refusal meanwhile
      const quarantined = (await store.records.quarantined(100))
        .slice(before)
        .map((q) => JSON.parse(q.record).message.clientMsgId);
      expect(quarantined).toEqual(['bad-1', 'bad-2']);
      expect((await store.messages.history(conversationId, 'u_b', { limit: 10 })).map((m) => m.clientMsgId)).toEqual([
        'ok-1',
      ]);
      // bad-3 and ok-2 wait (with the rest of their batch, retried whole: what it stored is replayed).
      expect((await log.lag(['persister'])).persister).toBeGreaterThanOrEqual(2);
    } finally {
      await persister.stop();
    }
  });

  it('hands a backlog to the store in transactions of up to 500 records of a partition', async () => {
    const appends = [];
    for (let i = 0; i < 600; i++)
      appends.push(
        log.append({
          type: 'message.created',
          conversationId: 'c_bulk',
          message: draftMessage('c_bulk', 'u_a', `b${i}`),
        }),
      );
    await Promise.all(appends);
    const sizes: number[] = [];
    const persister = new PersisterWorker({
      log,
      recordSink: {
        apply: async (records) => {
          sizes.push(records.length);
          await store.records.apply(records);
        },
        quarantine: (record, reason) => store.records.quarantine(record, reason),
      },
      logger,
      metrics: createMetrics(),
    });
    await persister.start();
    try {
      expect(await log.caughtUp('persister', 'c_bulk', 20_000)).toBe(true);
      expect(Math.max(...sizes)).toBeGreaterThan(100);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
    } finally {
      await persister.stop();
    }
  });
});

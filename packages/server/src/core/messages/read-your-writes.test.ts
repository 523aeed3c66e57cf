// Cluster read-your-writes: the persister writes PostgreSQL a moment after JetStream acknowledged
// a send. A reaction to (or an edit of) a message just sent, or a read receipt for a message just
// delivered, must wait for the store instead of answering 404 or being capped below that message.
// Real PostgreSQL and NATS JetStream; the persister is held back on purpose to open the window.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventLog } from '../../adapters/nats/event-log.js';
import { logStream } from '../../adapters/nats/subjects.js';
import { PostgresStore } from '../../adapters/postgres/store.js';
import { createMetrics } from '../../observability/metrics.js';
import { PersisterWorker } from '../../workers/persist.js';
import { Conversations } from '../conversations/conversations.js';
import { RateLimiter } from '../rate-limit.js';
import { MemoryBlocks } from '../../adapters/memory/blocks.js';
import { Reach } from '../safety/reach.js';
import { Messaging } from './messaging.js';

const PG_URL = process.env.PG_TEST_URL ?? `postgres://${os.userInfo().username}@127.0.0.1:5432/test`;
const NATS_URL = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
const PARTITIONS = 2;
const logger = pino({ level: 'silent' });
const metrics = createMetrics();
const tag = randomBytes(5).toString('hex');
const schema = `ryw_${tag}`;
const prefix = `ryw${tag}`;

let store: PostgresStore;
let log: JetStreamEventLog;
let messaging: Messaging;
let conversations: Conversations;

beforeAll(async () => {
  store = await PostgresStore.open({ connectionString: PG_URL, schema, maxConnections: 4 });
  log = await JetStreamEventLog.open({ servers: NATS_URL, streamPrefix: prefix, partitions: PARTITIONS, logger });
  const reach = new Reach({ blocks: new MemoryBlocks(), conversationStore: store.conversations });
  conversations = new Conversations({
    conversationStore: store.conversations,
    memberStanding: store.conversations,
    reach,
    userStore: store.users,
    log,
    maxGroupMembers: 10,
  });
  messaging = new Messaging({
    messageStore: store.messages,
    messageSearch: store.search,
    conversationStore: store.conversations,
    log,
    conversations,
    reach,
    sends: new RateLimiter({ capacity: 0, windowMs: 10_000 }),
    editWindowMs: 60_000,
    storeCatchUp: (conversationId) => log.caughtUp('persister', conversationId, 5_000),
  });
});

afterAll(async () => {
  await log?.close();
  await store?.close();
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.end());
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  for (let p = 0; p < PARTITIONS; p++) await jsm.streams.delete(logStream(prefix, p)).catch(() => false);
  await nc.close();
});

async function user(name: string): Promise<string> {
  const id = `u_${name}${randomBytes(4).toString('hex')}`;
  await store.users.createUser({
    id,
    username: id,
    displayName: name,
    apiKeyHash: randomBytes(16).toString('hex'),
    createdAt: new Date().toISOString(),
  });
  return id;
}

/** Resolves `promise`'s outcome, or 'pending' if it has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | { error: unknown } | 'pending'> {
  const timer = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms));
  return Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    timer,
  ]);
}

describe('cluster reads wait for the persister (read your writes)', () => {
  it('a reaction, an edit and a read receipt for a message the store does not have yet wait for it', async () => {
    const ann = await user('ann');
    const bob = await user('bob');
    const { conversation } = await conversations.create(ann, { memberIds: [bob] });
    const persister = new PersisterWorker({ log, recordSink: store.records, logger, metrics });
    await persister.start();
    // The persister stores the conversation.updated entry of the creation, then is held back.
    expect(await log.caughtUp('persister', conversation.id, 5_000)).toBe(true);
    await persister.stop();

    const { message } = await messaging.send(ann, {
      conversationId: conversation.id,
      clientMsgId: 'c1',
      body: 'hello',
    });
    expect(await store.messages.message(conversation.id, message.id)).toBeNull();

    const reaction = messaging.react(bob, conversation.id, message.id, '👍');
    const edit = messaging.edit(ann, conversation.id, message.id, 'hello!');
    const receipt = messaging.receipt(bob, conversation.id, 'read', message.seq);
    // Without the wait these would settle at once: 404 for the reaction and the edit, and a receipt
    // capped at the stored lastSeq (0), that is no receipt at all.
    expect(await within(reaction, 300)).toBe('pending');

    const restarted = new PersisterWorker({ log, recordSink: store.records, logger, metrics });
    await restarted.start();
    try {
      expect((await reaction).reactions).toEqual([{ userId: bob, emoji: '👍' }]);
      expect((await edit).body).toBe('hello!');
      await receipt;
      expect(await log.caughtUp('persister', conversation.id, 5_000)).toBe(true);
      expect((await store.conversations.membership(conversation.id, bob))?.readSeq).toBe(message.seq);
      expect((await store.messages.message(conversation.id, message.id))?.reactions).toEqual([
        { userId: bob, emoji: '👍' },
      ]);
    } finally {
      await restarted.stop();
    }
  });

  it('a message id that was never written is still 404, after the store is found caught up', async () => {
    const ann = await user('ann');
    const bob = await user('bob');
    const { conversation } = await conversations.create(ann, { memberIds: [bob] });
    const persister = new PersisterWorker({ log, recordSink: store.records, logger, metrics });
    await persister.start();
    try {
      await expect(messaging.react(bob, conversation.id, 'm_missing', '👍')).rejects.toMatchObject({
        code: 'not_found',
      });
    } finally {
      await persister.stop();
    }
  });
});

// JetStreamEventLog.erase over real NATS JetStream: a message's creation and edits are erased and
// nothing else; a stream made by an older version with deny_delete is skipped with one warning.
import { randomBytes } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftMessage } from '../../core/messages/event-log.contract.js';
import { JetStreamEventLog } from './event-log.js';
import { logStream, logSubjects } from './subjects.js';

const NATS_URL = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
const tag = randomBytes(5).toString('hex');
const prefixes = [`er${tag}`, `eo${tag}`];
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  for (const prefix of prefixes) await jsm.streams.delete(logStream(prefix, 0)).catch(() => false);
  await nc.close();
});

/** The texts of every record left in the partition stream. */
async function texts(prefix: string): Promise<string[]> {
  const { first_seq, last_seq } = (await jsm.streams.info(logStream(prefix, 0))).state;
  const out: string[] = [];
  for (let seq = first_seq; seq <= last_seq && last_seq > 0; seq++) {
    const m = await jsm.streams.getMessage(logStream(prefix, 0), { seq }).catch(() => null);
    if (m) out.push(m.string());
  }
  return out;
}

async function fill(log: JetStreamEventLog) {
  const sent = await log.append({
    type: 'message.created',
    conversationId: 'c1',
    message: draftMessage('c1', 'u_a', 'x'),
  });
  if (sent.duplicate || sent.record.type !== 'message.created') throw new Error('not appended');
  const message = { ...sent.record.message, body: 'secret-edit' };
  await log.append({
    type: 'message.updated',
    conversationId: 'c1',
    messageId: message.id,
    body: 'secret-edit',
    editedAt: message.createdAt,
    message,
  });
  await log.append({ type: 'message.created', conversationId: 'c1', message: draftMessage('c1', 'u_a', 'kept') });
  return { id: message.id, seq: message.seq, body: sent.record.message.body };
}

describe('JetStreamEventLog.erase', () => {
  it("erases a message's creation and its edits, and leaves the rest", async () => {
    const log = await JetStreamEventLog.open({
      servers: NATS_URL,
      streamPrefix: prefixes[0],
      partitions: 1,
      logger: pino({ level: 'silent' }),
    });
    try {
      const message = await fill(log);
      await log.erase('c1', [message]);
      const left = texts(prefixes[0]!);
      expect((await left).some((t) => t.includes('secret-edit') || t.includes(`"id":"${message.id}"`))).toBe(false);
      expect((await left).some((t) => t.includes('"clientMsgId":"kept"'))).toBe(true);
      // Again: nothing left to erase is not an error.
      await log.erase('c1', [message]);
    } finally {
      await log.close();
    }
  });

  it('skips a stream that denies deletes, with one warning', async () => {
    await jsm.streams.add({
      name: logStream(prefixes[1]!, 0),
      subjects: [logSubjects(prefixes[1]!, 0)],
      deny_delete: true,
    });
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const log = await JetStreamEventLog.open({ servers: NATS_URL, streamPrefix: prefixes[1], partitions: 1, logger });
    try {
      const message = await fill(log);
      await log.erase('c1', [message]);
      await log.erase('c1', [message]);
      expect(warnings.filter((w) => w.includes('denies deletes'))).toHaveLength(1);
      expect((await texts(prefixes[1]!)).some((t) => t.includes('secret-edit'))).toBe(true);
    } finally {
      await log.close();
    }
  });
});

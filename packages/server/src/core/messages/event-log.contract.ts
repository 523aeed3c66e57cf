// The EventLog contract: every implementation (SQLite, JetStream) runs this suite unchanged.
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '@messenger/protocol';
import type { LogRecord } from '../log-entries.js';
import type { EventLog } from './event-log.js';

export interface EventLogHarness {
  /** Opens the log on `place` (the same place after a close means the same durable data). */
  open(place: string): Promise<EventLog>;
  /** A fresh, empty place. */
  place(): string;
}

export function draftMessage(conversationId: string, senderId: string, clientMsgId: string, body = 'hello'): Message {
  return {
    id: `m_${clientMsgId}_${Math.random().toString(36).slice(2, 8)}`,
    conversationId,
    seq: 0,
    senderId,
    clientMsgId,
    body,
    createdAt: new Date().toISOString(),
    editedAt: null,
    deletedAt: null,
    replyToId: null,
    reactions: [],
    attachments: [],
  };
}

const created = (conversationId: string, senderId: string, clientMsgId: string) =>
  ({ type: 'message.created', conversationId, message: draftMessage(conversationId, senderId, clientMsgId) }) as const;

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function eventLogContract(name: string, harness: EventLogHarness): void {
  describe(`EventLog contract: ${name}`, () => {
    const open: EventLog[] = [];
    const openLog = async (place: string) => {
      const log = await harness.open(place);
      open.push(log);
      return log;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((l) => l.close()));
    });

    it('assigns strictly increasing seqs per conversation, also to concurrent appends', async () => {
      const log = await openLog(harness.place());
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => log.append(created(i % 2 ? 'c_a' : 'c_b', 'u_1', `k${i}`))),
      );
      for (const conv of ['c_a', 'c_b']) {
        const seqs = results.flatMap((r) =>
          !r.duplicate && r.record.type === 'message.created' && r.record.conversationId === conv
            ? [r.record.message.seq]
            : [],
        );
        expect(seqs).toHaveLength(20);
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
        expect(new Set(seqs).size).toBe(20);
        expect(seqs[0]).toBeGreaterThanOrEqual(1);
      }
    });

    it('deduplicates on senderId:clientMsgId, in one batch and later, returning the original', async () => {
      const log = await openLog(harness.place());
      const [first, twin] = await Promise.all([
        log.append(created('c_1', 'u_1', 'same')),
        log.append(created('c_1', 'u_1', 'same')),
      ]);
      expect(first!.duplicate).toBe(false);
      if (first!.duplicate || first!.record.type !== 'message.created') throw new Error('expected a record');
      const original = first!.record.message;
      // `logged`, where a log has it, is the original as appended.
      const { logged, ...twinIds } = twin as Extract<typeof twin, { duplicate: true }>;
      expect(twinIds).toEqual({ duplicate: true, seq: original.seq, messageId: original.id });
      if (logged) expect(logged).toEqual(original);
      expect(await log.append(created('c_1', 'u_1', 'same'))).toMatchObject({
        duplicate: true,
        seq: original.seq,
        messageId: original.id,
      });
      // Another sender may use the same clientMsgId.
      expect((await log.append(created('c_1', 'u_2', 'same'))).duplicate).toBe(false);
    });

    it('keeps entries, seqs and dedup across a reopen (durable, not a time window)', async () => {
      const place = harness.place();
      const first = await openLog(place);
      const a = await first.append(created('c_1', 'u_1', 'k1'));
      await first.close();
      open.splice(open.indexOf(first), 1);
      const again = await openLog(place);
      if (a.duplicate || a.record.type !== 'message.created') throw new Error('expected a record');
      expect(await again.append(created('c_1', 'u_1', 'k1'))).toMatchObject({
        duplicate: true,
        seq: a.record.message.seq,
        messageId: a.record.message.id,
      });
      const b = await again.append(created('c_1', 'u_1', 'k2'));
      if (b.duplicate || b.record.type !== 'message.created') throw new Error('expected a record');
      expect(b.record.message.seq).toBeGreaterThan(a.record.message.seq);
    });

    it('hands a durable consumer every record in order and resumes after what it handled', async () => {
      const place = harness.place();
      const log = await openLog(place);
      for (let i = 0; i < 5; i++) await log.append(created('c_1', 'u_1', `a${i}`));
      const seen: LogRecord[] = [];
      const sub = await log.subscribe('contract-consumer', (records) => void seen.push(...records));
      await until(() => seen.length === 5);
      await log.append({ type: 'receipt.read', conversationId: 'c_1', userId: 'u_2', seq: 3 });
      await until(() => seen.length === 6);
      expect(seen.map((r) => r.type)).toEqual([...Array(5).fill('message.created'), 'receipt.read']);
      const positions = seen.map((r) => r.pos);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      await sub.stop();
      await log.append(created('c_1', 'u_1', 'after-stop'));
      await log.close();
      open.splice(open.indexOf(log), 1);

      const reopened = await openLog(place);
      const resumed: LogRecord[] = [];
      await reopened.subscribe('contract-consumer', (records) => void resumed.push(...records));
      await until(() => resumed.length >= 1);
      await new Promise((r) => setTimeout(r, 100));
      expect(resumed).toHaveLength(1);
      expect(resumed[0]!.type === 'message.created' && resumed[0]!.message.clientMsgId).toBe('after-stop');
    });

    it('redelivers a batch whose handler failed (at least once)', async () => {
      const log = await openLog(harness.place());
      await log.append(created('c_1', 'u_1', 'x'));
      let calls = 0;
      const handled: LogRecord[] = [];
      await log.subscribe('flaky', (records) => {
        calls += 1;
        if (calls === 1) throw new Error('transient');
        handled.push(...records);
      });
      await until(() => handled.length === 1, 8000);
      expect(calls).toBeGreaterThanOrEqual(2);
    });

    it('reports how many entries a durable consumer has not completed', async () => {
      const log = await openLog(harness.place());
      for (let i = 0; i < 3; i++) await log.append(created('c_1', 'u_1', `l${i}`));
      expect((await log.lag(['lagging'])).lagging).toBe(3);
      const seen: LogRecord[] = [];
      await log.subscribe('lagging', (records) => void seen.push(...records));
      await until(() => seen.length === 3);
      const deadline = Date.now() + 5000;
      while ((await log.lag(['lagging'])).lagging !== 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect((await log.lag(['lagging'])).lagging).toBe(0);
    });

    it('places a new durable consumer at the tail when asked, and resumes it from its position later', async () => {
      const place = harness.place();
      const log = await openLog(place);
      await log.append(created('c_1', 'u_1', 'before'));
      const seen: LogRecord[] = [];
      const sub = await log.subscribe('from-tail', (records) => void seen.push(...records), { startAt: 'tail' });
      await log.append(created('c_1', 'u_1', 'after'));
      await until(() => seen.length >= 1);
      await new Promise((r) => setTimeout(r, 100));
      expect(seen.map((r) => r.type === 'message.created' && r.message.clientMsgId)).toEqual(['after']);
      await sub.stop();
      await log.append(created('c_1', 'u_1', 'while-stopped'));
      const resumed: LogRecord[] = [];
      await log.subscribe('from-tail', (records) => void resumed.push(...records), { startAt: 'tail' });
      await until(() => resumed.length >= 1);
      expect(resumed.map((r) => r.type === 'message.created' && r.message.clientMsgId)).toEqual(['while-stopped']);
    });

    it('starts a `now` consumer at the tail', async () => {
      const log = await openLog(harness.place());
      await log.append(created('c_1', 'u_1', 'old'));
      const seen: LogRecord[] = [];
      await log.subscribe('live', (records) => void seen.push(...records), { from: 'now' });
      await log.append(created('c_1', 'u_1', 'new'));
      await until(() => seen.length >= 1);
      expect(seen.map((r) => r.type === 'message.created' && r.message.clientMsgId)).toEqual(['new']);
    });
  });
}

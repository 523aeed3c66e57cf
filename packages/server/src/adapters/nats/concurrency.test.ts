// JetStreamEventLog.subscribe with `concurrency`: handler calls in flight at once, each gate for
// its own partitions (p % concurrency), against the NATS server at NATS_TEST_URL.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { draftMessage } from '../../core/messages/event-log.contract.js';
import type { LogRecord } from '../../core/log-entries.js';
import { JetStreamEventLog } from './event-log.js';
import { logStream, partitionOf } from './subjects.js';

const SERVERS = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
const PARTITIONS = 4;
const prefix = `t${Math.random().toString(36).slice(2, 10)}`;

afterAll(async () => {
  const nc = await connect({ servers: SERVERS });
  const jsm = await jetstreamManager(nc);
  for (let p = 0; p < PARTITIONS; p++) await jsm.streams.delete(logStream(prefix, p)).catch(() => false);
  await nc.close();
});

const created = (conversationId: string, clientMsgId: string) =>
  ({ type: 'message.created', conversationId, message: draftMessage(conversationId, 'u_1', clientMsgId) }) as const;

const until = async (done: () => boolean) => {
  const deadline = Date.now() + 10_000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
};

describe('JetStreamEventLog subscribe with concurrency', () => {
  it('runs one call per gate at once: a held call stops its own partitions only, and order is kept', async () => {
    // Two conversations per partition.
    const conversations = Array.from({ length: 64 }, (_, i) => `c_${i}`);
    const byPartition = (p: number) => conversations.filter((c) => partitionOf(c, PARTITIONS) === p).slice(0, 2);
    const chats = Array.from({ length: PARTITIONS }, (_, p) => byPartition(p)).flat();
    expect(chats).toHaveLength(2 * PARTITIONS);
    const gateOf = (conversationId: string) => partitionOf(conversationId, PARTITIONS) % 2;
    const log = await JetStreamEventLog.open({
      servers: SERVERS,
      streamPrefix: prefix,
      partitions: PARTITIONS,
      logger: pino({ level: 'silent' }),
    });
    const calls: LogRecord[][] = [];
    const inside = [0, 0];
    let most = 0;
    let sameGate = false;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const sub = await log.subscribe(
      'two',
      async (records) => {
        const gates = new Set(records.map((r) => gateOf(r.conversationId)));
        expect(gates.size).toBe(1); // a call holds the partitions of one gate
        const gate = [...gates][0]!;
        sameGate ||= inside[gate]! > 0;
        inside[gate]! += 1;
        most = Math.max(most, inside[0]! + inside[1]!);
        calls.push(records);
        if (calls.length === 1) await held; // a slow store transaction on gate 0
        inside[gate]! -= 1;
      },
      { concurrency: 2 },
    );
    const first = chats.find((c) => gateOf(c) === 0)!;
    await log.append(created(first, 'first'));
    await until(() => calls.length > 0);
    await Promise.all(chats.flatMap((c, i) => [0, 1, 2].map((k) => log.append(created(c, `k${i}_${k}`)))));
    // While gate 0's call is held, gate 1's partitions are handled, and none of gate 0's.
    const handled = (gate: number) =>
      calls
        .slice(1)
        .flat()
        .filter((r) => gateOf(r.conversationId) === gate).length;
    await until(() => handled(1) === 3 * PARTITIONS);
    expect(handled(1)).toBe(3 * PARTITIONS);
    expect(handled(0)).toBe(0);
    release();
    await until(() => handled(0) === 3 * PARTITIONS);
    await sub.stop();
    await log.close();
    expect(handled(0)).toBe(3 * PARTITIONS);
    // Two calls overlapped (one per gate), never two of one gate.
    expect(most).toBe(2);
    expect(sameGate).toBe(false);
    for (const conversationId of chats) {
      const positions = calls
        .flat()
        .filter((r) => r.conversationId === conversationId)
        .map((r) => r.pos);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    }
  });
});

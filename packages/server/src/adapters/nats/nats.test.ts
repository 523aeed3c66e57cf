// JetStreamEventLog and NatsGatewayBus against the NATS server at NATS_TEST_URL (127.0.0.1:4222, JetStream on).
import net from 'node:net';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { draftMessage, eventLogContract } from '../../core/messages/event-log.contract.js';
import { gatewayBusContract } from '../../core/routing/gateway-bus.contract.js';
import type { LogRecord } from '../../core/log-entries.js';
import type { Delivery } from '../../core/routing/gateway-bus.js';
import type { ServerEvent } from '@messenger/protocol';
import { AppError } from '../../domain/errors.js';
import { RESYNC_REQUESTED } from '../../core/routing/gateway-bus.js';
import { JetStreamEventLog } from './event-log.js';
import { decodeBusMessage } from './bus-codec.js';
import { BUS_GAP, NatsGatewayBus } from './gateway-bus.js';
import { gatewaySubject, logStream, partitionOf, resyncSubject, token } from './subjects.js';

const SERVERS = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
const PARTITIONS = 4;
const logger = pino({ level: 'silent' });
const places: string[] = [];

function place(): string {
  const prefix = `t${Math.random().toString(36).slice(2, 10)}`;
  places.push(prefix);
  return prefix;
}

const openLog = (prefix: string, extra: Partial<Parameters<typeof JetStreamEventLog.open>[0]> = {}) =>
  JetStreamEventLog.open({ servers: SERVERS, streamPrefix: prefix, partitions: PARTITIONS, logger, ...extra });

afterAll(async () => {
  const nc = await connect({ servers: SERVERS });
  const jsm = await jetstreamManager(nc);
  for (const prefix of places) {
    for (let p = 0; p < PARTITIONS; p++) await jsm.streams.delete(logStream(prefix, p)).catch(() => false);
  }
  await nc.close();
});

eventLogContract('JetStreamEventLog', { place, open: (prefix) => openLog(prefix) });

gatewayBusContract('NatsGatewayBus', () => NatsGatewayBus.open({ servers: SERVERS, logger, scope: place() }));

describe('NatsGatewayBus beyond the contract', () => {
  /** A bus and a plain NATS connection (to publish or listen by hand) on a scope of their own, closed after `test`. */
  async function withBus(
    test: (bus: NatsGatewayBus, nc: NatsConnection, scope: string) => Promise<void>,
  ): Promise<void> {
    const scope = place();
    const bus = await NatsGatewayBus.open({ servers: SERVERS, logger, scope });
    const nc = await connect({ servers: SERVERS });
    try {
      await test(bus, nc, scope);
    } finally {
      await nc.close();
      await bus.close();
    }
  }
  const typing = { type: 'typing', conversationId: 'c_1', userId: 'u_2' } as const;

  it("has the gateway's clients resync when a message for it cannot be read (its deliveries are lost), and reads the next one", () =>
    withBus(async (bus, nc) => {
      const got: unknown[] = [];
      const why: string[] = [];
      const gw = `g_${Math.random()}`;
      await bus.subscribe(
        gw,
        (d) => got.push(d.event),
        (reason) => why.push(reason),
      );
      nc.publish(gatewaySubject(gw), 'not a bus message\n');
      await bus.publish(gw, [{ userIds: ['u_1'], event: typing }]);
      for (let waited = 0; got.length === 0 && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      expect(why).toEqual(['an undecodable gateway bus message']);
      expect(got).toEqual([typing]);
    }));

  it('numbers its messages to each gateway from 1, with no gaps, under one sender name per bus', () =>
    withBus(async (bus, nc) => {
      const heard: { gw: string; from: unknown }[] = [];
      const [g1, g2] = [`g1_${Math.random()}`, `g2_${Math.random()}`];
      const raw: string[] = [];
      for (const gw of [g1, g2])
        nc.subscribe(gatewaySubject(gw), {
          callback: (_e, msg) => {
            raw.push(msg.string());
            heard.push({ gw, from: decodeBusMessage(msg.data).header });
          },
        });
      await nc.flush();
      for (const gw of [g1, g1, g2, g1, g2]) await bus.publish(gw, [{ userIds: ['u_1'], event: typing }]);
      await bus.publish(g1, []);
      for (let waited = 0; heard.length < 5 && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      const sender = (heard[0]!.from as { sender: string }).sender;
      expect(sender).toMatch(/^[0-9a-f]{12}$/u);
      expect(heard).toEqual([1, 2, 1, 3, 2].map((n, i) => ({ gw: [g1, g1, g2, g1, g2][i], from: { sender, n } })));
      expect(raw[0]!.split('\n')).toEqual([
        JSON.stringify({ bus: sender, n: 1 }),
        '["u_1"]',
        JSON.stringify(typing),
        '',
      ]);
    }));

  it("has the gateway's clients resync when a sender's numbering skips (a message was lost in transit), and drops the message after the gap", () =>
    withBus(async (bus, nc, scope) => {
      const got: string[] = [];
      const why: string[] = [];
      const gw = `g_${Math.random()}`;
      await bus.subscribe(
        gw,
        (d) => got.push((d.event as { conversationId: string }).conversationId),
        (reason) => why.push(reason),
      );
      const send = (sender: string, n: number) =>
        nc.publish(
          gatewaySubject(gw),
          `{"bus":"${sender}","n":${n}}\n["u_1"]\n${JSON.stringify({ ...typing, conversationId: `${sender}${n}` })}\n`,
        );
      send('a', 1);
      send('a', 2);
      send('b', 7); // a sender first heard of mid-count (this gateway is newer than its count)
      send('a', 4); // a 3 was lost: resync, and 4 is not handed over (it would run ahead of 3)
      send('a', 5);
      send('b', 8);
      send('a', 1); // a sender that forgot this gateway (idle) starts again
      await nc.flush();
      for (let waited = 0; got.length < 6 && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual(['a1', 'a2', 'b7', 'a5', 'b8', 'a1']);
      expect(why).toEqual([BUS_GAP]);
      // A resync request from a sender covers its gap: the next message after it is handed over.
      nc.publish(resyncSubject(scope), 'b');
      send('b', 12);
      send('b', 14);
      await nc.flush();
      for (let waited = 0; why.length < 3 && waited < 3000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      expect(got.slice(6)).toEqual(['b12']);
      expect(why.slice(1)).toEqual([RESYNC_REQUESTED, BUS_GAP]);
    }));

  it('splits deliveries too big for one NATS message (max_payload) into several, in order, and a delivery too big alone by users', () =>
    withBus(async (bus, nc) => {
      const got: { userIds: string[]; conversationId: string }[] = [];
      const why: string[] = [];
      let messages = 0;
      const gw = `g_${Math.random()}`;
      await bus.subscribe(
        gw,
        (d) => got.push({ userIds: d.userIds, conversationId: (d.event as { conversationId: string }).conversationId }),
        (reason) => why.push(reason),
      );
      nc.subscribe(gatewaySubject(gw), {
        callback: () => {
          messages++;
        },
      });
      await nc.flush();
      // 400 long messages (a coalesced fan-out batch) for 3 users here: about 2 MB of deliveries.
      const long = 'é'.repeat(2000) + '東'.repeat(200);
      const batch: Delivery[] = Array.from({ length: 400 }, (_, i) => ({
        userIds: ['u_1', 'u_2', 'u_3'],
        event: {
          type: 'message.created',
          conversationId: `c_${i}`,
          message: { ...draftMessage(`c_${i}`, 'u_1', `m${i}`), seq: i + 1, body: long },
        } as ServerEvent,
      }));
      // And one delivery too big alone: 60,000 users (about 1.7 MB of ids).
      const crowd = Array.from({ length: 60_000 }, (_, i) => `u_01jx8k2m4n5p6q7r8s9t${String(i).padStart(6, '0')}`);
      batch.push({ userIds: crowd, event: { ...typing, conversationId: 'c_crowd' } });
      await bus.publish(gw, batch);
      for (
        let waited = 0;
        got.filter((d) => d.conversationId === 'c_crowd').flatMap((d) => d.userIds).length < crowd.length &&
        waited < 5000;
        waited += 10
      )
        await new Promise((r) => setTimeout(r, 10));
      expect(why).toEqual([]);
      await nc.flush();
      expect(messages).toBeGreaterThanOrEqual(4); // NATS's default max_payload is 1 MB
      const ordered = got.map((d) => d.conversationId).filter((c, i, all) => all.indexOf(c) === i);
      expect(ordered).toEqual([...Array.from({ length: 400 }, (_, i) => `c_${i}`), 'c_crowd']);
      expect(got.filter((d) => d.conversationId !== 'c_crowd').every((d) => d.userIds.join() === 'u_1,u_2,u_3')).toBe(
        true,
      );
      expect(got.filter((d) => d.conversationId === 'c_crowd').flatMap((d) => d.userIds)).toEqual(crowd);
    }));
});

const created = (conversationId: string, clientMsgId: string, senderId = 'u_1') =>
  ({ type: 'message.created', conversationId, message: draftMessage(conversationId, senderId, clientMsgId) }) as const;

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function expectUnavailable(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('unavailable');
}

describe('JetStreamEventLog beyond the contract', () => {
  it('rejects with unavailable, quickly, when NATS cannot be reached', async () => {
    const started = Date.now();
    await expectUnavailable(JetStreamEventLog.open({ servers: `nats://127.0.0.1:${await closedPort()}`, logger }));
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('rejects appends with unavailable, quickly, once its connection is gone', async () => {
    const nc = await connect({ servers: SERVERS });
    const log = await openLog(place(), { connection: nc });
    await log.append(created('c_1', 'before'));
    await nc.close();
    const started = Date.now();
    await expectUnavailable(log.append(created('c_1', 'after')));
    expect(Date.now() - started).toBeLessThan(1_000);
    await log.close();
  });

  it('answers a duplicate from lookupDuplicate (the lasting authority) without publishing', async () => {
    const asked: string[] = [];
    const log = await openLog(place(), {
      lookupDuplicate: async (senderId, clientMsgId) => {
        asked.push(`${senderId}:${clientMsgId}`);
        return clientMsgId === 'old' ? { seq: 42, messageId: 'm_old' } : null;
      },
    });
    expect(await log.append(created('c_1', 'old'))).toEqual({ duplicate: true, seq: 42, messageId: 'm_old' });
    const fresh = await log.append(created('c_1', 'new'));
    expect(fresh.duplicate).toBe(false);
    if (fresh.duplicate || fresh.record.type !== 'message.created') throw new Error('expected a record');
    expect(fresh.record.message.seq).toBe(1); // nothing was published for 'old'
    expect(fresh.record.pos).toBe(1);
    expect(asked).toEqual(['u_1:old', 'u_1:new']);
    await log.close();
  });

  it('spreads conversations over partitions and reads each one in order', async () => {
    const conversations = Array.from({ length: 12 }, (_, i) => `c_${i}`);
    expect(new Set(conversations.map((c) => partitionOf(c, PARTITIONS))).size).toBeGreaterThan(1);
    const log = await openLog(place());
    const appended = await Promise.all(
      Array.from({ length: 120 }, (_, i) => log.append(created(conversations[i % 12]!, `k${i}`))),
    );
    const seen: LogRecord[] = [];
    const sub = await log.subscribe('ordered', (records) => void seen.push(...records));
    const deadline = Date.now() + 5_000;
    while (seen.length < 120 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toHaveLength(120);
    for (const conversationId of conversations) {
      const mine = seen.filter((r) => r.conversationId === conversationId);
      const seqs = mine.map((r) => (r.type === 'message.created' ? r.message.seq : -1));
      expect(seqs).toEqual(mine.map((r) => r.pos));
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      const keys = mine.map((r) => (r.type === 'message.created' ? r.message.clientMsgId : ''));
      expect(keys).toEqual(
        appended.flatMap((a, i) => (i % 12 === conversations.indexOf(conversationId) && !a.duplicate ? [`k${i}`] : [])),
      );
    }
    await sub.stop();
    await log.close();
  });

  it('hands a busy durable consumer the batches of every partition that came in meanwhile in one call, never two calls at once', async () => {
    const conversations = Array.from({ length: 8 }, (_, i) => `c_${i}`);
    expect(new Set(conversations.map((c) => partitionOf(c, PARTITIONS))).size).toBe(PARTITIONS);
    const prefix = place();
    const log = await openLog(prefix);
    const calls: LogRecord[][] = [];
    let inside = 0;
    let overlapped = false;
    let seen = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const sub = await log.subscribe('slow', async (records) => {
      overlapped ||= inside > 0;
      inside += 1;
      calls.push(records);
      if (calls.length === 1) await held; // a slow store transaction
      seen += records.length;
      inside -= 1;
    });
    await log.append(created('c_0', 'first'));
    const deadline = Date.now() + 10_000;
    while (calls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // While the first call runs, every partition gets entries, and every partition's reader is handed
    // them (JetStream counts them as delivered, not acknowledged) before the first call ends.
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(created(conversations[i % 8]!, `k${i}`))));
    const nc = await connect({ servers: SERVERS });
    const jsm = await jetstreamManager(nc);
    const handed = async () =>
      (
        await Promise.all(
          Array.from({ length: PARTITIONS }, (_, p) => jsm.consumers.info(logStream(prefix, p), token('slow'))),
        )
      ).map((c) => c.num_ack_pending);
    while ((await handed()).some((n) => n === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await nc.close();
    await new Promise((r) => setTimeout(r, 100));
    release();
    while (seen < 41 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await sub.stop();
    await log.close();
    expect(seen).toBe(41);
    expect(overlapped).toBe(false);
    // The other partitions' batches, which queued up behind the first call, came in one call (the
    // first partition's reader was waiting for that call, so its next batch came after).
    const merged = new Set(calls[1]!.map((r) => partitionOf(r.conversationId, PARTITIONS)));
    expect(merged.size).toBe(PARTITIONS - 1);
    expect(merged.has(partitionOf('c_0', PARTITIONS))).toBe(false);
    for (const conversationId of conversations) {
      const positions = calls
        .flat()
        .filter((r) => r.conversationId === conversationId)
        .map((r) => r.pos);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    }
  });

  it('never acknowledges entries it was not handed: entries taken by another pull (a pull that broke) are read before newer ones', async () => {
    const prefix = place();
    const log = await openLog(prefix, { batchSize: 2 });
    const conversationId = 'c_thief';
    const stream = logStream(prefix, partitionOf(conversationId, PARTITIONS));
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const seen: number[] = [];
    const sub = await log.subscribe('thief-test', async (records) => {
      seen.push(...records.map((r) => r.pos));
      if (seen.length <= 2) await blocked;
    });
    await log.append(created(conversationId, 'k1'));
    await log.append(created(conversationId, 'k2'));
    await eventuallyTrue(() => seen.length >= 1);
    // The reader sits on its first batch. Another pull on the same durable consumer (a fetch of a
    // process or a connection that then died) is handed the next entries and never acknowledges them.
    const nc = await connect({ servers: SERVERS });
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.update(stream, token('thief-test'), { max_ack_pending: 100 });
    for (let i = 3; i <= 6; i++) await log.append(created(conversationId, `k${i}`));
    const thief = await jetstream(nc).consumers.get(stream, token('thief-test'));
    const stolen: number[] = [];
    for await (const m of await thief.fetch({ max_messages: 2, expires: 2_000 })) stolen.push(m.seq);
    expect(stolen.length).toBeGreaterThan(0);
    release();
    // Without the check the reader would be handed the entries after the stolen ones and, acknowledging
    // them (AckPolicy.All), acknowledge the stolen ones unhandled: they would never be read.
    await eventuallyTrue(() => [1, 2, 3, 4, 5, 6].every((pos) => seen.includes(pos)));
    const firstSeen = [...new Set(seen)];
    expect(firstSeen).toEqual([1, 2, 3, 4, 5, 6]);
    await sub.stop();
    await nc.close();
    await log.close();
  });
});

async function eventuallyTrue(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

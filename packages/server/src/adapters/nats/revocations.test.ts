// NatsRevocations against the NATS server at 127.0.0.1:4222: the Revocations contract over two
// connections (two processes) on a scope of their own, and what only a shared bus has.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { revocationsContract } from '../../core/users/revocations.contract.js';
import { NatsRevocations } from './revocations.js';
import { revocationSubject } from './subjects.js';

const SERVERS = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
const logger = pino({ level: 'silent' });
const connections: NatsConnection[] = [];
const scope = () => `t${Math.random().toString(36).slice(2, 10)}`;

async function pair(s = scope()): Promise<[NatsRevocations, NatsRevocations]> {
  const [a, b] = await Promise.all([connect({ servers: SERVERS }), connect({ servers: SERVERS })]);
  connections.push(a, b);
  return [
    new NatsRevocations({ connection: a, logger, scope: s }),
    new NatsRevocations({ connection: b, logger, scope: s }),
  ];
}

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
});

revocationsContract('NatsRevocations', { open: () => pair() });

describe('NatsRevocations beyond the contract', () => {
  it('keeps deployments apart and survives an undecodable message', async () => {
    const mine = scope();
    const [a] = await pair(mine);
    const [other] = await pair();
    const heard: string[][] = [];
    const heardOther: string[][] = [];
    await a.subscribe((ids) => heard.push(ids));
    await other.subscribe((ids) => heardOther.push(ids));
    const raw = connections[0]!;
    raw.publish(revocationSubject(mine), 'garbage');
    await a.publish(['d_x']);
    const deadline = Date.now() + 2000;
    while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(heard).toEqual([['d_x']]);
    expect(heardOther).toEqual([]);
  });

  it('resolves a publish once the other processes have handled it, and with nobody subscribed', async () => {
    const [a, b] = await pair();
    const heardByB: string[][] = [];
    await b.subscribe((ids) => heardByB.push(ids));
    await a.publish(['k_1']);
    // No wait: the other process answered after its handler ran, before publish resolved.
    expect(heardByB).toEqual([['k_1']]);
    const [lonely] = await pair();
    await lonely.publish(['k_2']);
  });
});

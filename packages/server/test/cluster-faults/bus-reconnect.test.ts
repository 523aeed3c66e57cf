// Cluster fault, at the gateway bus alone: its private nats-server is killed with kill -9 and
// restarted on the same port. Deliveries must not be sent after the reconnect ahead of the resync
// request that the reconnect triggers: nats.js would hold them while disconnected and send them
// first, and a client handed a newer event before its socket is closed for the resync would catch up
// from after it, past the events the broken connection lost. So while the connection is down (and
// until the interruption listeners have run after it is back) the bus refuses deliveries with
// `unavailable`, which pauses the fan-out, and the resync goes out before any delivery.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { NatsGatewayBus } from '../../src/adapters/nats/gateway-bus.js';
import { waitFor } from '../harness/wait.js';
import { freePort } from '../process.js';
import { NatsService } from '../services/nats.js';

describe('cluster: the gateway bus across a NATS restart', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-bus-'));
  let nats: NatsService | null = null;
  afterAll(async () => {
    await nats?.kill9().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses deliveries while reconnecting, and sends the resync request before any delivery after it', async () => {
    nats = new NatsService(await freePort(), await freePort(), dir);
    await nats.start();
    const logger = pino({ level: 'silent' });
    // The fan-out's side (it asks for the resync when its connection was interrupted) and a gateway's.
    const fanout = await NatsGatewayBus.open({ servers: nats.urlAs('worker'), logger, scope: 'bus-test' });
    const gateway = await NatsGatewayBus.open({ servers: nats.urlAs('gateway'), logger, scope: 'bus-test' });
    const seen: string[] = [];
    const fanoutSide: string[] = [];
    fanout.onInterrupted(() => {
      fanoutSide.push('interrupted');
      void fanout.requestResync();
    });
    // Both sit on the one server here, so the gateway's own connection breaks too: it resyncs its
    // clients itself on its reconnect (and may miss the fan-out's request if that came first).
    gateway.onInterrupted(() => seen.push('gateway reconnected'));
    await gateway.subscribe(
      'g1',
      (d) => seen.push(`delivery ${(d.event as { conversationId: string }).conversationId}`),
      () => seen.push('resync requested'),
    );
    const typing = (n: number) => [
      { userIds: ['u_1'], event: { type: 'typing' as const, conversationId: `c_${n}`, userId: 'u_2' } },
    ];
    await fanout.publish('g1', typing(1));
    await waitFor('the first delivery', async () => seen.length === 1, 5_000, 10);

    await nats.kill9();
    const refused = await waitFor(
      'a delivery refused while NATS is down',
      async () => {
        const error = await fanout.publish('g1', typing(2)).then(
          () => null,
          (e: unknown) => e,
        );
        return error instanceof AppError ? error : null;
      },
      10_000,
      20,
    );
    expect(refused.code).toBe('unavailable');

    await nats.start();
    await waitFor('the gateway back on the bus', async () => seen.includes('gateway reconnected'), 30_000, 20);
    // The fan-out retries its delivery until the bus takes it, as a durable reader retries a batch.
    await waitFor(
      'a delivery accepted after the reconnect',
      async () =>
        fanout.publish('g1', typing(3)).then(
          () => fanoutSide.push('accepted') > 0,
          () => false,
        ),
      30_000,
      50,
    );
    await waitFor('the delivery at the gateway', async () => seen.includes('delivery c_3'), 15_000, 20);
    // Nothing refused was sent later behind the clients' backs, and the fan-out asked for the resync
    // before its bus took a delivery again.
    expect(seen[0]).toBe('delivery c_1');
    expect(seen).not.toContain('delivery c_2');
    expect(fanoutSide).toEqual(['interrupted', 'accepted']);
    await Promise.all([fanout.close(), gateway.close()]);
  }, 90_000);
});

// Cluster mode, over the real wire: a gateway bus message lost in transit (core NATS is at most once)
// shows as a skipped number in its sender's count. The gateway then hands over nothing after the gap
// and closes its sockets with 4503, so its clients reconnect and catch up. The loss is made here by
// publishing numbered bus messages by hand, with one number left out.
import { CLOSE_CODES } from '@messenger/protocol';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyLimit, encodeBodies, encodeBusMessage } from '../src/adapters/nats/bus-codec.js';
import { gatewaySubject } from '../src/adapters/nats/subjects.js';
import { CLUSTER, deploymentOf, NATS_URL, REDIS_URL } from './deployment.mjs';
import { directChat, RawSocket, sendHttp, serverForFile, signUpMany, sleep, type TestUser } from './harness.js';

describe.runIf(CLUSTER)('cluster: a gateway bus message lost in transit', () => {
  const server = serverForFile();
  let nc: NatsConnection;
  let redis: Redis;
  let ann: TestUser;
  let bob: TestUser;
  let conv: string;

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    redis = new Redis(REDIS_URL);
    [ann, bob] = await signUpMany(server, 2);
    conv = await directChat(ann, bob);
  });
  afterAll(async () => {
    await nc?.close();
    redis?.disconnect();
  });

  it("hands over nothing after the gap, closes the gateway's sockets with 4503, and the client catches up", async () => {
    const socket = await RawSocket.open(server.url, bob.apiKey);
    // The gateway holding bob's socket, from the route registry.
    const [gatewayId] = await redis.zrange(`${deploymentOf(server.dataDir).keyPrefix}routes:{${bob.id}}`, '0', '-1');
    expect(gatewayId).toBeDefined();
    const publish = (n: number) => {
      const typing = { type: 'typing', conversationId: conv, userId: `u_hand${n}` } as const;
      for (const body of encodeBodies([{ userIds: [bob.id], event: typing }], bodyLimit(undefined)))
        nc.publish(gatewaySubject(gatewayId!), encodeBusMessage({ sender: 'by-hand', n }, body));
    };

    publish(1);
    publish(2);
    await socket.waitForEvent('typing', (e) => e.userId === 'u_hand2');
    publish(4); // 3 never arrives
    const deadline = Date.now() + 5_000;
    while (socket.closeCode === null && Date.now() < deadline) await sleep(10);
    expect(socket.closeCode).toBe(CLOSE_CODES.goingAway);
    const handed = socket.frames
      .filter((f) => f.type === 'event' && f.event.type === 'typing')
      .map((f) => (f as { event: { userId: string } }).event.userId);
    expect(handed).toEqual(['u_hand1', 'u_hand2']);

    // The client reconnects and catches up: what was sent meanwhile is in its history and arrives live again.
    const missed = await sendHttp(ann, conv, 'sent while bob was reconnecting');
    const again = await RawSocket.open(server.url, bob.apiKey);
    const page = await bob.call('GET', `/v1/conversations/${conv}/messages?afterSeq=0`);
    expect(page.body.messages.map((m: { id: string }) => m.id)).toContain(missed.id);
    const live = await sendHttp(ann, conv, 'live again');
    expect((await again.waitForEvent('message.created', (e) => e.message.id === live.id)).message.body).toBe(
      'live again',
    );
    again.close();
  });
});

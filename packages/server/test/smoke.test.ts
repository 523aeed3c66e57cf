import { describe, expect, it } from 'vitest';
import { CLUSTER, friends, online, serverForFile } from './harness.js';

describe('smoke: send over WebSocket reaches the other member', () => {
  const server = serverForFile();

  it('delivers message.created to the recipient and acks the sender', async () => {
    const [conversationId, alice, bob] = await friends(server);
    const [a, b] = await online(server, alice, bob);
    const reply = await a.request('send', { conversationId, clientMsgId: 'c1', body: 'hi bob' });
    expect(reply.ok).toBe(true);
    const event = await b.waitForEvent('message.created');
    expect(event.message.body).toBe('hi bob');
    // Seqs are per conversation in embedded mode; in a cluster, log positions of the partition (gaps allowed).
    expect(event.message).toEqual((reply as any).result.message);
    expect(event.message.seq).toBe(CLUSTER ? (reply as any).result.message.seq : 1);
    a.close();
    b.close();
  });
});

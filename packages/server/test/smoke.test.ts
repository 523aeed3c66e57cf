import { describe, expect, it } from 'vitest';
import { CLUSTER, directChat, RawSocket, serverForFile, signUpMany } from './harness.js';

describe('smoke: send over WebSocket reaches the other member', () => {
  const server = serverForFile();

  it('delivers message.created to the recipient and acks the sender', async () => {
    const [alice, bob] = await signUpMany(server, 2);
    const conversationId = await directChat(alice, bob);
    const a = await RawSocket.open(server.url, alice.apiKey);
    const b = await RawSocket.open(server.url, bob.apiKey);
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

// A client that stops reading must not slow anyone else: its bounded send buffer overflows, the
// server closes it (4408, "reconnect and catch up"), and the other members keep receiving.
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CLOSE_CODES } from '@messenger/protocol';
import { metricsText, RawSocket, serverForFile, signUp } from './harness.js';

describe('slow consumers', () => {
  // Back-pressure off (cluster): 2,500 sends of 4 KB in bursts of 100 put the store more than half its
  // bound behind, and the refused sends (503, which this raw client does not retry) would be
  // missing from the order checked here; store-backpressure.test.ts covers the refusals.
  const server = serverForFile({ maxSocketBufferBytes: 64 * 1024, storeLagBoundMs: 0 });

  it('closes a socket that stops reading and keeps delivering to the others', async () => {
    const [alice, bob, carol] = await Promise.all([signUp(server.url), signUp(server.url), signUp(server.url)]);
    const group = await alice.call('POST', '/v1/conversations', { memberIds: [bob.id, carol.id], title: 'load' });
    const conversationId = group.body.conversation.id;

    // Bob's socket: authenticated, then its TCP stream is paused so nothing more is read.
    const stalled = new WebSocket(`${server.url.replace('http', 'ws')}/v1/ws`);
    await new Promise((r) => stalled.once('open', r));
    stalled.send(JSON.stringify({ type: 'auth', token: bob.apiKey }));
    await new Promise((r) => stalled.once('message', r));
    let closeCode: number | null = null;
    stalled.on('close', (code) => (closeCode = code));
    (stalled as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    const healthy = await RawSocket.open(server.url, carol.apiKey);
    const sender = await RawSocket.open(server.url, alice.apiKey);
    const body = 'x'.repeat(4000);
    const total = 2500; // ~10 MB of events: more than the kernel's loopback buffers hold
    for (let i = 0; i < total; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, total - i) }, (_, k) =>
          sender.request('send', { conversationId, clientMsgId: `m${i + k}`, body }),
        ),
      );
    }
    await healthy.waitFor(() => healthy.events('message.created').length === total, 20_000);
    // Every message once, in send order, seqs increasing (a cluster's seqs may have gaps: the contract allows them).
    const delivered = healthy.events('message.created').map((e) => e.message);
    expect(delivered.map((m) => m.clientMsgId)).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
    expect(delivered.every((m, i) => i === 0 || m.seq > delivered[i - 1]!.seq)).toBe(true);

    (stalled as unknown as { _socket: { resume(): void } })._socket.resume();
    const deadline = Date.now() + 10_000;
    while (closeCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect([CLOSE_CODES.slowConsumer, 1006]).toContain(closeCode);
    const metrics = await metricsText(server);
    expect(metrics).toMatch(/messenger_slow_consumer_closes_total 1/);
    healthy.close();
    sender.close();
  }, 60_000);
});

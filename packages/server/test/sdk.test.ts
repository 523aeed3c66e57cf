// The SDK against the real server: connect, typed requests, outbox sends, reconnect catch-up across
// a restart, outbox retries with the same clientMsgId, automatic delivered receipts.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MemoryOutboxStore, MessengerClient, MessengerError, type WebSocketCtor } from '@messenger/sdk';
import type { Message } from '@messenger/protocol';
import { CLUSTER, friends, http, online, sendHttp, sleep, startTestServer, storeCaughtUp } from './harness.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
});

async function server(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<Server> {
  const s = await startTestServer(overrides);
  cleanup.push(() => s.close());
  return s;
}

/**
 * A server that the test closes and starts again on the same data directory and `port` (the first
 * gateway's), closed at the end if still up; Ann and Bob share a direct chat on it.
 */
async function toRestart() {
  const first = await startTestServer();
  cleanup.push(() => first.close());
  const [conv, ann, bob] = await friends(first);
  return { first, dataDir: first.dataDir, port: first.port, conv, ann, bob };
}

function client(
  url: string,
  apiKey: string,
  extra: Partial<ConstructorParameters<typeof MessengerClient>[0]> = {},
): MessengerClient {
  const c = new MessengerClient({
    baseUrl: url,
    apiKey,
    WebSocket: WebSocket as unknown as WebSocketCtor,
    reconnect: { minDelayMs: 50, maxDelayMs: 300 },
    deliveredDelayMs: 30,
    ...extra,
  });
  cleanup.push(() => c.close());
  return c;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

describe('SDK against the real server', () => {
  it('connects, authenticates, makes typed requests and sends through the outbox', async () => {
    const s = await server();
    const [conv, ann, bob] = await friends(s);
    const c = client(s.url, ann.apiKey);
    const states: string[] = [];
    c.on('state', (st) => states.push(st));
    await c.connect();
    expect(c.state).toBe('open');
    expect(c.userId).toBe(ann.id);
    expect(states).toEqual(['connecting', 'open']);
    expect(await c.request('ping', {})).toEqual({});
    expect((await c.api.me()).id).toBe(ann.id);
    expect((await c.api.lookupUser(bob.username)).id).toBe(bob.id);

    const [bobWs] = await online(s, bob);
    const sent = await c.send(conv, 'hello from the sdk');
    expect(sent).toMatchObject({ conversationId: conv, senderId: ann.id, body: 'hello from the sdk' });
    // Per-conversation seqs start at 1 embedded; a cluster's are log positions (gaps allowed).
    if (!CLUSTER) expect(sent.seq).toBe(1);
    expect((await bobWs.waitForEvent('message.created')).message).toEqual(sent);
    expect(c.pending()).toEqual([]);
    // A refusal rejects with the contract code and leaves a failed item.
    const refused = c.send(conv, 'x'.repeat(5000));
    await expect(refused).rejects.toBeInstanceOf(MessengerError);
    await expect(refused).rejects.toMatchObject({ code: 'message_too_big' });
    await expect(c.send(conv, 'nul \u0000 inside')).rejects.toMatchObject({ code: 'invalid_request' });
    expect(
      c
        .pending()
        .filter((p) => p.state === 'failed')
        .map((p) => p.body),
    ).toEqual(['x'.repeat(5000), 'nul \u0000 inside']);
    await expect(c.request('read', { conversationId: 'c_nope', seq: 1 })).rejects.toMatchObject({ code: 'not_found' });
    bobWs.close();
  });

  it('after a restart catches up: every message exactly once, in seq order, none lost while away', async () => {
    const { first, dataDir, port, conv, ann, bob } = await toRestart();
    // The first gateway is the one that comes back on `port` (cluster mode has two).
    const c = client(first.urls[0]!, ann.apiKey);
    const seen: number[] = [];
    const acked: number[] = [];
    c.on('message.created', (e) => {
      if (e.conversationId === conv) seen.push(e.message.seq);
    });
    await c.connect();
    c.trackConversation(conv, 0);
    for (let i = 1; i <= 3; i++) acked.push((await sendHttp(bob, conv, `live ${i}`)).seq);
    await until(() => seen.length === 3);

    // The server goes away; meanwhile messages arrive through another instance on the same data.
    await first.close();
    await until(() => c.state === 'reconnecting');
    const meanwhile = await startTestServer({ dataDir });
    const bobMeanwhile = http(meanwhile.url, bob.apiKey);
    for (let i = 1; i <= 5; i++) {
      const res = await bobMeanwhile('POST', `/v1/conversations/${conv}/messages`, {
        clientMsgId: `away-${i}`,
        body: `away ${i}`,
      });
      expect(res.status).toBe(201);
      acked.push(res.body.message.seq);
    }
    await meanwhile.close();

    // Back on the same port: the client reconnects by itself while more messages keep coming.
    const back = await server({ dataDir, port });
    const bobBack = http(back.url, bob.apiKey);
    const racing = (async () => {
      for (let i = 1; i <= 5; i++) {
        acked.push(
          (await bobBack('POST', `/v1/conversations/${conv}/messages`, { clientMsgId: `back-${i}`, body: `back ${i}` }))
            .body.message.seq,
        );
        await sleep(15);
      }
    })();
    await until(() => c.state === 'open', 10_000);
    await racing;
    await until(() => seen.length >= 13, 10_000);
    await sleep(200);
    expect(seen).toEqual(acked);
    if (!CLUSTER) expect(seen).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });

  it('outbox retries keep the clientMsgId across a restart: no duplicate', async () => {
    const { first, dataDir, port, conv, ann } = await toRestart();
    const c = client(first.urls[0]!, ann.apiKey, { outboxStore: new MemoryOutboxStore() });
    const created: Message[] = [];
    c.on('message.created', (e) => created.push(e.message));
    await c.connect();
    c.trackConversation(conv, 0);
    const before = await c.send(conv, 'before the restart');

    await first.close();
    await until(() => c.state === 'reconnecting');
    // Queued while down; one of them reached the server before the ack got lost (stored via another instance).
    const lost = c.send(conv, 'ack was lost', { clientMsgId: 'lost-ack-1' });
    const queued = c.send(conv, 'queued while down', { clientMsgId: 'queued-1' });
    expect(c.pending().map((p) => p.clientMsgId)).toEqual(['lost-ack-1', 'queued-1']);
    const meanwhile = await startTestServer({ dataDir });
    const stored = (
      await http(meanwhile.url, ann.apiKey)('POST', `/v1/conversations/${conv}/messages`, {
        clientMsgId: 'lost-ack-1',
        body: 'ack was lost',
      })
    ).body.message;
    await meanwhile.close();

    const back = await server({ dataDir, port });
    const [lostResult, queuedResult] = await Promise.all([lost, queued]);
    expect(lostResult).toMatchObject({ id: stored.id, seq: stored.seq });
    expect(queuedResult.seq).toBeGreaterThan(stored.seq);
    if (!CLUSTER) expect(queuedResult.seq).toBe(stored.seq + 1);
    expect(c.pending()).toEqual([]);
    await storeCaughtUp(back.urls[0]!); // the SDK's own fetch: wait for the cluster's store
    const history = await c.api.getMessages(conv);
    expect(history.map((m) => m.clientMsgId)).toEqual([before.clientMsgId, 'lost-ack-1', 'queued-1']);
    await sleep(200);
    // The app saw each of its own messages once.
    expect(created.map((m) => m.seq)).toEqual([before.seq, lostResult.seq, queuedResult.seq]);
    if (!CLUSTER) expect(created.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('sends delivered receipts automatically', async () => {
    const s = await server();
    const [conv, ann, bob] = await friends(s);
    const bobClient = client(s.url, bob.apiKey);
    await bobClient.connect();
    const [annWs] = await online(s, ann);
    const reply = await annWs.request('send', { conversationId: conv, clientMsgId: 'd1', body: 'did you get it?' });
    const seq = (reply as any).result.message.seq;
    expect(await annWs.waitForEvent('receipt.delivered')).toEqual({
      type: 'receipt.delivered',
      conversationId: conv,
      userId: bob.id,
      seq,
    });
    const view = (await ann.call('GET', `/v1/conversations/${conv}`)).body.conversation;
    expect(view.members.find((m: any) => m.userId === bob.id).deliveredSeq).toBe(seq);
    // Not for its own messages.
    await bobClient.send(conv, 'yes');
    await sleep(150);
    expect(annWs.events('receipt.delivered').filter((e) => e.userId === ann.id)).toEqual([]);
    annWs.close();
  });

  it('a wrong key closes the client for good', async () => {
    const s = await server();
    const c = client(s.url, 'mk_wrong');
    await expect(c.connect()).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(c.state).toBe('closed');
  });
});

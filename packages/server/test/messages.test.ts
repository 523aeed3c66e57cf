// Messages: send over HTTP and WS, clientMsgId idempotency (also across a restart), history paging,
// size limits and the per-user send rate limit.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  directChat,
  expectError,
  friends,
  http,
  online,
  sendHttp,
  serverForFile,
  startTestServer,
  type TestUser,
  usersForFile,
} from './harness.js';

const server = serverForFile();
const [ann, bob] = usersForFile(server, 2);
let conv: string;
beforeAll(async () => {
  conv = await directChat(ann, bob);
});

const MESSAGE_KEYS = [
  'attachments',
  'body',
  'clientMsgId',
  'conversationId',
  'createdAt',
  'deletedAt',
  'editedAt',
  'id',
  'reactions',
  'replyToId',
  'senderId',
  'seq',
];

describe('send', () => {
  it('over HTTP answers 201 with the full message', async () => {
    const res = await ann.call('POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'h-1', body: 'hello' });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body.message).sort()).toEqual(MESSAGE_KEYS);
    expect(res.body.message).toMatchObject({
      conversationId: conv,
      senderId: ann.id,
      clientMsgId: 'h-1',
      body: 'hello',
      editedAt: null,
      deletedAt: null,
      replyToId: null,
      reactions: [],
    });
    expect(res.body.message.seq).toBeGreaterThanOrEqual(1);
  });

  it('over WS replies {message}', async () => {
    const [ws] = await online(server, bob);
    const reply = await ws.request('send', { conversationId: conv, clientMsgId: 'w-1', body: 'from ws' });
    expect(reply.ok).toBe(true);
    const message = (reply as any).result.message;
    expect(Object.keys((reply as any).result)).toEqual(['message']);
    expect(message).toMatchObject({ conversationId: conv, senderId: bob.id, clientMsgId: 'w-1', body: 'from ws' });
    ws.close();
  });

  it('accepts replyToId of a message of the same conversation only', async () => {
    const first = await sendHttp(ann, conv, 'original');
    const reply = await ann.call('POST', `/v1/conversations/${conv}/messages`, {
      clientMsgId: 'reply-1',
      body: 'answer',
      replyToId: first.id,
    });
    expect(reply.status).toBe(201);
    expect(reply.body.message.replyToId).toBe(first.id);
    expectError(
      await ann.call('POST', `/v1/conversations/${conv}/messages`, {
        clientMsgId: 'reply-2',
        body: 'x',
        replyToId: 'm_nope',
      }),
      400,
      'invalid_request',
    );
  });
});

describe('clientMsgId idempotency', () => {
  it('HTTP retry answers 200 with the same id and seq, once in history', async () => {
    const a = await ann.call('POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'idem-h', body: 'once' });
    const b = await ann.call('POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'idem-h', body: 'once' });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.body.message).toEqual(a.body.message);
    const history = (await ann.call('GET', `/v1/conversations/${conv}/messages?limit=200`)).body.messages;
    expect(history.filter((m: any) => m.clientMsgId === 'idem-h')).toHaveLength(1);
  });

  it('tells apart ids that differ only in spaces or line breaks, each idempotent (no id breaks the send path)', async () => {
    const ids = ['sp', 'sp ', ' sp', 'line\nbreak', 'line\r\nbreak', 'tab\tend', '~sp'];
    const first = [];
    for (const [i, clientMsgId] of ids.entries()) {
      const res = await ann.call('POST', `/v1/conversations/${conv}/messages`, { clientMsgId, body: `odd id ${i}` });
      expect(res.status, JSON.stringify(clientMsgId)).toBe(201);
      expect(res.body.message).toMatchObject({ clientMsgId, body: `odd id ${i}` });
      first.push(res.body.message);
    }
    expect(new Set(first.map((m) => m.id)).size).toBe(ids.length);
    for (const [i, clientMsgId] of ids.entries()) {
      const again = await ann.call('POST', `/v1/conversations/${conv}/messages`, { clientMsgId, body: `odd id ${i}` });
      expect(again.status, JSON.stringify(clientMsgId)).toBe(200);
      expect(again.body.message).toEqual(first[i]);
    }
  });

  it('WS retries and mixed WS/HTTP retries return the original', async () => {
    const [ws] = await online(server, ann);
    const [r1, r2] = await Promise.all([
      ws.request('send', { conversationId: conv, clientMsgId: 'idem-w', body: 'ws once' }),
      ws.request('send', { conversationId: conv, clientMsgId: 'idem-w', body: 'ws once' }),
    ]);
    expect((r1 as any).result.message).toEqual((r2 as any).result.message);
    const http = await ann.call('POST', `/v1/conversations/${conv}/messages`, {
      clientMsgId: 'idem-w',
      body: 'ws once',
    });
    expect(http.status).toBe(200);
    expect(http.body.message.id).toBe((r1 as any).result.message.id);
    expect(http.body.message.seq).toBe((r1 as any).result.message.seq);
    const viaHttp = await sendHttp(ann, conv, 'http first', 'idem-m');
    const viaWs = await ws.request('send', { conversationId: conv, clientMsgId: 'idem-m', body: 'http first' });
    expect((viaWs as any).result.message).toMatchObject({ id: viaHttp.id, seq: viaHttp.seq });
    // Another sender may use the same clientMsgId: a different message.
    const bobs = await bob.call('POST', `/v1/conversations/${conv}/messages`, {
      clientMsgId: 'idem-m',
      body: 'bob too',
    });
    expect(bobs.status).toBe(201);
    expect(bobs.body.message.id).not.toBe(viaHttp.id);
    ws.close();
  });

  it('survives a server restart on the same data directory', async () => {
    const dir = await startTestServer();
    const [c, u1] = await friends(dir);
    const original = await sendHttp(u1, c, 'durable', 'restart-1');
    const { dataDir } = dir;
    await dir.close();
    const again = await startTestServer({ dataDir });
    try {
      const call = http(again.url, u1.apiKey);
      const retry = await call('POST', `/v1/conversations/${c}/messages`, {
        clientMsgId: 'restart-1',
        body: 'durable',
      });
      expect(retry.status).toBe(200);
      expect(retry.body.message).toEqual(original);
      const [ws] = await online(again, u1);
      const wsRetry = await ws.request('send', { conversationId: c, clientMsgId: 'restart-1', body: 'durable' });
      expect((wsRetry as any).result.message).toEqual(original);
      const next = await call('POST', `/v1/conversations/${c}/messages`, { clientMsgId: 'restart-2', body: 'next' });
      expect(next.status).toBe(201);
      expect(next.body.message.seq).toBeGreaterThan(original.seq);
      const history = (await call('GET', `/v1/conversations/${c}/messages`)).body.messages;
      expect(history.map((m: any) => m.clientMsgId)).toEqual(['restart-1', 'restart-2']);
      ws.close();
    } finally {
      await again.close();
    }
  });
});

describe('history', () => {
  let hc: string;
  let x: TestUser;
  let y: TestUser;
  // The seqs of the 60 messages in send order: 1..60 embedded; increasing with gaps in a cluster.
  const sent: number[] = [];
  beforeAll(async () => {
    [hc, x, y] = await friends(server);
    for (let i = 1; i <= 60; i++) sent.push((await sendHttp(i % 2 ? x : y, hc, `m${i}`, `hist-${i}`)).seq);
  });
  const h = (query = '') => x.call('GET', `/v1/conversations/${hc}/messages${query}`);
  const seqs = (res: any) => res.body.messages.map((m: any) => m.seq);
  /** The seqs of the from-th to the to-th message (1-based, inclusive). */
  const range = (from: number, to: number) => sent.slice(from - 1, to);
  const nth = (n: number) => sent[n - 1];

  it('defaults to the newest 50 in ascending seq', async () => {
    const res = await h();
    expect(res.status).toBe(200);
    expect(seqs(res)).toEqual(range(11, 60));
    expect(res.body.messages[0].body).toBe('m11');
  });

  it('pages with afterSeq, beforeSeq and limit', async () => {
    expect(seqs(await h(`?afterSeq=${nth(55)}`))).toEqual(range(56, 60));
    expect(seqs(await h('?afterSeq=0&limit=3'))).toEqual(range(1, 3));
    expect(seqs(await h(`?beforeSeq=${nth(11)}&limit=5`))).toEqual(range(6, 10));
    expect(seqs(await h(`?beforeSeq=${nth(4)}`))).toEqual(range(1, 3));
    expect(seqs(await h(`?afterSeq=${nth(10)}&beforeSeq=${nth(14)}`))).toEqual(range(11, 13));
    expect(seqs(await h(`?afterSeq=${nth(60)}`))).toEqual([]);
    expect(seqs(await h('?limit=200'))).toEqual(range(1, 60));
    // Walking forward by afterSeq never skips or repeats.
    const walked: number[] = [];
    let after = 0;
    for (;;) {
      const page = seqs(await h(`?afterSeq=${after}&limit=7`));
      if (page.length === 0) break;
      walked.push(...page);
      after = page[page.length - 1];
    }
    expect(walked).toEqual(range(1, 60));
  });

  it('refuses limits over 200 and malformed numbers', async () => {
    expectError(await h('?limit=201'), 400, 'invalid_request');
    expectError(await h('?limit=0'), 400, 'invalid_request');
    expectError(await h('?afterSeq=-1'), 400, 'invalid_request');
    expectError(await h('?beforeSeq=1.5'), 400, 'invalid_request');
    expectError(await h('?afterSeq=abc'), 400, 'invalid_request');
  });
});

describe('limits', () => {
  const post = (body: unknown, user = bob) => user.call('POST', `/v1/conversations/${conv}/messages`, body);

  it('takes exactly 4096 UTF-8 bytes of multibyte text and refuses one byte more with 413', async () => {
    const emoji = '😀'.repeat(1024); // 4 bytes each
    const accents = 'é'.repeat(2048); // 2 bytes each
    const cjk = `${'東'.repeat(1365)}a`; // 3 bytes each + 1
    for (const [i, text] of [emoji, accents, cjk].entries()) {
      const ok = await post({ clientMsgId: `at-${i}`, body: text });
      expect(ok.status).toBe(201);
      expect(ok.body.message.body).toBe(text);
      expectError(await post({ clientMsgId: `over-${i}`, body: `${text}x` }), 413, 'message_too_big');
    }
    expectError(await post({ clientMsgId: 'over-emoji', body: '😀'.repeat(1025) }), 413, 'message_too_big');
    const [ws] = await online(server, bob);
    const okWs = await ws.request('send', { conversationId: conv, clientMsgId: 'ws-at', body: emoji });
    expect(okWs.ok).toBe(true);
    const tooBig = await ws.request('send', { conversationId: conv, clientMsgId: 'ws-over', body: `${emoji}x` });
    expect(tooBig).toMatchObject({ ok: false, error: { code: 'message_too_big' } });
    ws.close();
    const history = (await bob.call('GET', `/v1/conversations/${conv}/messages?limit=200`)).body.messages;
    expect(history.some((m: any) => m.clientMsgId.startsWith('over') || m.clientMsgId === 'ws-over')).toBe(false);
  });

  it('refuses a request body over 64 KiB with 413', async () => {
    const res = await post({ clientMsgId: 'huge', body: 'a'.repeat(70 * 1024) });
    expectError(res, 413, 'message_too_big');
    const padded = await bob.call('PUT', `/v1/conversations/${conv}/settings`, {
      muted: false,
      pad: 'p'.repeat(65 * 1024),
    });
    expectError(padded, 413, 'message_too_big');
  });

  it('refuses empty and blank text with 400', async () => {
    expectError(await post({ clientMsgId: 'empty', body: '' }), 400, 'invalid_request');
    expectError(await post({ clientMsgId: 'blank', body: '  \n\t ' }), 400, 'invalid_request');
    expectError(await post({ clientMsgId: '', body: 'x' }), 400, 'invalid_request');
    expectError(await post({ clientMsgId: 'c'.repeat(129), body: 'x' }), 400, 'invalid_request');
  });
});

describe('send rate limit', () => {
  it('allows RATE_LIMIT_MESSAGES, then 429 + Retry-After over HTTP and rate_limited over WS', async () => {
    const limited = await startTestServer({}, { RATE_LIMIT_MESSAGES: '3' });
    try {
      const [c, u1, u2] = await friends(limited);
      const first = await sendHttp(u1, c, 'ok 0');
      for (let i = 1; i < 3; i++) await sendHttp(u1, c, `ok ${i}`);
      const over = await u1.call('POST', `/v1/conversations/${c}/messages`, { clientMsgId: 'over', body: 'too fast' });
      expectError(over, 429, 'rate_limited');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(10);
      const [ws] = await online(limited, u1);
      const reply = await ws.request('send', { conversationId: c, clientMsgId: 'over-ws', body: 'too fast' });
      expect(reply.ok).toBe(false);
      expect((reply as any).error.code).toBe('rate_limited');
      expect((reply as any).error.retryAfterMs).toBeGreaterThanOrEqual(1000);
      // A retry of a message already stored is answered with the original, not limited.
      const retry = await u1.call('POST', `/v1/conversations/${c}/messages`, {
        clientMsgId: first.clientMsgId,
        body: first.body,
      });
      expect(retry.status).toBe(200);
      expect(retry.body.message).toEqual(first);
      const wsRetry = await ws.request('send', { conversationId: c, clientMsgId: first.clientMsgId, body: first.body });
      expect((wsRetry as any).result.message).toEqual(first);
      // The limit is per user: the other member still sends.
      expect(
        (await u2.call('POST', `/v1/conversations/${c}/messages`, { clientMsgId: 'u2', body: 'fine' })).status,
      ).toBe(201);
      const history = (await u1.call('GET', `/v1/conversations/${c}/messages`)).body.messages;
      expect(history).toHaveLength(4);
      ws.close();
    } finally {
      await limited.close();
    }
  });
});

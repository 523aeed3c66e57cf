// The limits, each a setting: sockets per user and unauthenticated sockets per address (per
// gateway), frames per second per socket, conversations and searches per user. Past each: a 429,
// a rate_limited reply or a 4429 close, never a crash, and a count in /metrics. Both modes.
import { CLOSE_CODES } from '@messenger/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectError,
  metricsText,
  RawSocket,
  serverForFile,
  signUp,
  signUpMany,
  upgradeStatus,
  waitFor,
} from './harness.js';

const server = serverForFile(
  {},
  {
    MAX_SOCKETS_PER_USER: '2',
    MAX_UNAUTHENTICATED_SOCKETS_PER_IP: '2',
    RATE_LIMIT_FRAMES: '2',
    RATE_LIMIT_CONVERSATIONS: '1',
    RATE_LIMIT_SEARCHES: '1',
  },
);
let gateway: string;
beforeAll(async () => {
  // The socket limits are per gateway: every socket of a test goes to the same one.
  gateway = server.urls[0]!;
});

async function refusals(limit: string): Promise<number> {
  const line = (await metricsText(server))
    .split('\n')
    .find((l) => l.startsWith(`messenger_limit_refusals_total{limit="${limit}"}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('limits', () => {
  it('sockets per user: one past the limit closes with 4429 before ready; closing one makes room', async () => {
    const ann = await signUp(gateway);
    const [a, b] = [await RawSocket.open(gateway, ann.apiKey), await RawSocket.open(gateway, ann.apiKey)];
    const third = new RawSocket(gateway);
    await third.opened();
    third.sendJson({ type: 'auth', token: ann.apiKey });
    expect(await third.waitClosed()).toBe(CLOSE_CODES.rateLimited);
    expect(third.frames.some((f) => f.type === 'ready')).toBe(false);
    expect(await refusals('sockets_per_user')).toBeGreaterThanOrEqual(1);
    // Another user is not affected, and the two open sockets still work.
    const bob = await signUp(gateway);
    (await RawSocket.open(gateway, bob.apiKey)).close();
    expect(await a.request('ping')).toMatchObject({ ok: true });
    await a.closeAndWait();
    const again = await waitFor(() => RawSocket.open(gateway, ann.apiKey).catch(() => null));
    expect(await again.request('ping')).toMatchObject({ ok: true });
    again.close();
    b.close();
  });

  it('unauthenticated sockets per address: 429 on the upgrade past the limit; authenticating frees a place', async () => {
    const ann = await signUp(gateway);
    const waiting = [new RawSocket(gateway), new RawSocket(gateway)];
    await Promise.all(waiting.map((s) => s.opened()));
    expect(await upgradeStatus(gateway)).toBe(429);
    expect(await refusals('unauthenticated_sockets_per_ip')).toBeGreaterThanOrEqual(1);
    waiting[0]!.sendJson({ type: 'auth', token: ann.apiKey });
    await waiting[0]!.waitFor((f) => f.type === 'ready');
    expect(await upgradeStatus(gateway)).toBe(101);
    waiting[1]!.close();
    await waiting[1]!.waitClosed();
    // A wrong token frees its place too.
    const wrong = new RawSocket(gateway);
    await wrong.opened();
    wrong.sendJson({ type: 'auth', token: 'nope' });
    expect(await wrong.waitClosed()).toBe(CLOSE_CODES.unauthenticated);
    await waitFor(async () => (await upgradeStatus(gateway)) === 101);
    waiting[0]!.close();
  });

  it('frames per second: a flood of typing or pings is answered rate_limited, then closed with 4429', async () => {
    const ann = await signUp(gateway);
    const ws = await RawSocket.open(gateway, ann.apiKey);
    for (let i = 0; i < 200 && ws.closeCode === null; i++)
      ws.sendJson({ type: i % 2 ? 'ping' : 'typing', id: i, conversationId: 'c_x' });
    expect(await ws.waitClosed()).toBe(CLOSE_CODES.rateLimited);
    const replies = ws.frames.filter((f) => f.type === 'reply') as any[];
    const limited = replies.filter((r) => r.error?.code === 'rate_limited');
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0].error.retryAfterMs).toBeGreaterThanOrEqual(1000);
    // The burst (ten seconds' worth) passed: the first refused frame came after it.
    expect(Math.min(...limited.map((r) => r.id))).toBeGreaterThanOrEqual(20);
    expect(await refusals('frames')).toBeGreaterThanOrEqual(limited.length);
    // The server is fine, and a new socket of the same user starts with a fresh budget.
    const next = await RawSocket.open(gateway, ann.apiKey);
    expect(await next.request('ping')).toMatchObject({ ok: true });
    next.close();
  });

  it('conversations and searches per user: 429 with Retry-After, counted', async () => {
    const [ann, bob, cat] = await signUpMany(gateway, 3);
    const call = (method: string, url: string, body?: unknown) => ann.call(method, url, body);
    expect((await call('POST', '/v1/conversations', { memberIds: [bob.id] })).status).toBe(201);
    const refused = await call('POST', '/v1/conversations', { memberIds: [cat.id] });
    expectError(refused, 429, 'rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call('GET', '/v1/search?q=hello')).status).toBe(200);
    expectError(await call('GET', '/v1/search?q=hello'), 429, 'rate_limited');
    expect(await refusals('conversations')).toBeGreaterThanOrEqual(1);
    expect(await refusals('searches')).toBeGreaterThanOrEqual(1);
  });
});

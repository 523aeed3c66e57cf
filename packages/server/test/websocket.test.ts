// The WebSocket edge: auth handshake and its deadline, bad frames answered without losing the
// socket, request ids, and the Origin check on upgrade.
import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { friends, online, RawSocket, serverForFile, startTestServer, type TestUser, upgradeStatus } from './harness.js';

const server = serverForFile({ authTimeoutMs: 300 });
let ann: TestUser;
let conv: string;
beforeAll(async () => {
  [conv, ann] = await friends(server);
});

describe('auth', () => {
  it('answers a good token with ready {userId, sessionId}', async () => {
    const s = new RawSocket(server.url);
    await s.opened();
    s.sendJson({ type: 'auth', token: ann.apiKey });
    const ready = await s.waitFor((f) => f.type === 'ready');
    expect(ready).toEqual({ type: 'ready', userId: ann.id, sessionId: expect.any(String) });
    s.close();
  });

  it('closes with 4401 on a wrong token, a non-auth first frame, or a non-JSON first frame', async () => {
    for (const first of [
      JSON.stringify({ type: 'auth', token: 'mk_wrong' }),
      JSON.stringify({ type: 'ping', id: 1 }),
      'not json',
      JSON.stringify({ type: 'auth' }),
    ]) {
      const s = new RawSocket(server.url);
      await s.opened();
      s.sendText(first);
      expect(await s.waitClosed(3000)).toBe(4401);
      expect(s.frames.filter((f) => f.type === 'ready')).toEqual([]);
    }
  });

  it('closes with 4401 when no auth frame comes within the deadline', async () => {
    const s = new RawSocket(server.url);
    await s.opened();
    const started = Date.now();
    expect(await s.waitClosed(3000)).toBe(4401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('does not close an authenticated socket at the auth deadline', async () => {
    const [s] = await online(server, ann);
    await new Promise((r) => setTimeout(r, 500));
    expect(s.closeCode).toBeNull();
    expect((await s.request('ping')).ok).toBe(true);
    s.close();
  });
});

describe('bad frames', () => {
  it('get an error reply and the socket stays usable', async () => {
    const [s] = await online(server, ann);
    const errorReplies = () => s.frames.filter((f: any) => f.type === 'reply' && f.ok === false) as any[];

    s.sendText('this is not json');
    await s.waitFor(() => errorReplies().length === 1);
    expect(errorReplies()[0]).toEqual({
      type: 'reply',
      id: null,
      ok: false,
      error: { code: 'invalid_request', message: expect.any(String) },
    });

    const unknown = await s.request('launch_rockets', { target: 'moon' });
    expect(unknown).toEqual({
      type: 'reply',
      id: expect.any(String),
      ok: false,
      error: { code: 'invalid_request', message: expect.stringContaining('unknown') },
    });

    const bad: Record<string, unknown>[] = [
      { type: 'send', conversationId: conv, body: 'no clientMsgId' },
      { type: 'send', conversationId: conv, clientMsgId: 'x', body: 5 },
      { type: 'send', conversationId: conv, clientMsgId: 'x', body: '' },
      { type: 'send', conversationId: conv, clientMsgId: 'x', body: 'a\u0000b' }, // PostgreSQL text cannot hold U+0000
      { type: 'send', conversationId: conv, clientMsgId: 'x\u0000', body: 'x' },
      { type: 'send', conversationId: 'bad id', clientMsgId: 'x', body: 'x' },
      { type: 'read', conversationId: conv },
      { type: 'read', conversationId: conv, seq: 'one' },
      { type: 'delivered', conversationId: conv, seq: -3 },
      { type: 'typing' },
      { type: 'presence', status: 'invisible' },
    ];
    for (const fields of bad) {
      const { type, ...rest } = fields;
      const reply = await s.request(type as string, rest);
      expect(reply, JSON.stringify(fields)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    }
    // A frame without an id still gets its error, with id null.
    s.sendJson({ type: 'ping' });
    await s.waitFor(() => errorReplies().length === 1 + 1 + bad.length + 1);
    expect(errorReplies().at(-1).id).toBeNull();
    // JSON that is not an object.
    s.sendText('[1,2,3]');
    s.sendText('42');
    await s.waitFor(() => errorReplies().length === 1 + 1 + bad.length + 3);

    expect(s.closeCode).toBeNull();
    expect(await s.request('ping')).toEqual({ type: 'reply', id: expect.any(String), ok: true, result: {} });
    const sent = await s.request('send', { conversationId: conv, clientMsgId: 'after-bad', body: 'still works' });
    expect(sent.ok).toBe(true);
    s.close();
  });

  it('a binary frame gets an error reply, the socket stays usable', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/ws`);
    const frames: any[] = [];
    // Events (a contact's presence, say) may arrive in between: only the ready frame and replies count.
    ws.on('message', (d) => {
      const frame = JSON.parse(d.toString());
      if (frame.type !== 'event') frames.push(frame);
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'auth', token: ann.apiKey }));
    const until = async (n: number) => {
      for (let i = 0; i < 100 && frames.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    };
    await until(1);
    ws.send(Buffer.from(JSON.stringify({ type: 'ping', id: 'bin' })), { binary: true });
    await until(2);
    expect(frames[1]).toMatchObject({ type: 'reply', ok: false, error: { code: 'invalid_request' } });
    ws.send(JSON.stringify({ type: 'ping', id: 'txt' }));
    await until(3);
    expect(frames[2]).toEqual({ type: 'reply', id: 'txt', ok: true, result: {} });
    ws.close();
  });

  it('echoes numeric and string request ids', async () => {
    const [s] = await online(server, ann);
    s.sendJson({ type: 'ping', id: 7 });
    expect(await s.waitFor((f: any) => f.type === 'reply' && f.id === 7)).toEqual({
      type: 'reply',
      id: 7,
      ok: true,
      result: {},
    });
    s.sendJson({ type: 'ping', id: 'abc' });
    await s.waitFor((f: any) => f.type === 'reply' && f.id === 'abc');
    s.close();
  });
});

describe('Origin check on upgrade', () => {
  it('allows no Origin and the server’s own origin, refuses a foreign one', async () => {
    expect(await upgradeStatus(server.url)).toBe(101);
    const own = server.url;
    expect(await upgradeStatus(own, { origin: own })).toBe(101);
    expect(await upgradeStatus(server.url, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(server.url, { origin: 'null' })).toBe(403);
  });

  it('allows origins listed in ALLOWED_ORIGINS', async () => {
    const other = await startTestServer({}, { ALLOWED_ORIGINS: 'https://chat.example.org, https://app.example.org' });
    try {
      expect(await upgradeStatus(other.url, { origin: 'https://chat.example.org' })).toBe(101);
      expect(await upgradeStatus(other.url, { origin: 'https://app.example.org' })).toBe(101);
      expect(await upgradeStatus(other.url, { origin: 'https://evil.example' })).toBe(403);
      expect(await upgradeStatus(other.url, { origin: 'https://chat.example.org.evil.example' })).toBe(403);
      expect(await upgradeStatus(other.url)).toBe(101);
    } finally {
      await other.close();
    }
  });
});

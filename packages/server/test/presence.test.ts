// Presence (GetStatus, events, hiding, dead-connection detection) and typing.
import { describe, expect, it } from 'vitest';
import {
  createGroup,
  expectError,
  friends,
  online,
  RawSocket,
  serverForFile,
  signUp,
  sleep,
  type TestUser,
} from './harness.js';

const server = serverForFile({ presenceCoalesceMs: 50, pingIntervalMs: 200 });

const presenceOf = async (viewer: TestUser, ...users: TestUser[]) => {
  const res = await viewer.call('GET', `/v1/presence?userIds=${users.map((u) => u.id).join(',')}`);
  expect(res.status).toBe(200);
  return res.body.presence;
};

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await sleep(25);
  }
}

describe('GetStatus', () => {
  it('answers only for users who share a conversation; online while a socket is open, offline with lastSeenAt after a clean close', async () => {
    const [, ann, bob, stranger] = await friends(server, 3);
    expect(await presenceOf(ann, bob, stranger)).toEqual({ [bob.id]: { status: 'offline', lastSeenAt: null } });
    expect(await presenceOf(stranger, ann, bob)).toEqual({});

    const [b1, b2] = await online(server, bob, bob);
    expect(await presenceOf(ann, bob)).toEqual({ [bob.id]: { status: 'online', lastSeenAt: null } });
    await b1.closeAndWait();
    await sleep(100);
    expect((await presenceOf(ann, bob))[bob.id].status).toBe('online');
    // Away only when every device is away.
    await b2.request('presence', { status: 'away' });
    expect((await presenceOf(ann, bob))[bob.id]).toEqual({ status: 'away', lastSeenAt: null });
    const before = Date.now();
    await b2.closeAndWait();
    const after = await eventually(
      () => presenceOf(ann, bob),
      (p) => p[bob.id].status === 'offline',
    );
    expect(after[bob.id].status).toBe('offline');
    const seen = Date.parse(after[bob.id].lastSeenAt);
    expect(seen).toBeGreaterThanOrEqual(before - 1000);
    expect(seen).toBeLessThanOrEqual(Date.now());
  });
});

describe('presence events', () => {
  it('tell contacts about online, away and offline; strangers hear nothing', async () => {
    const [, ann, bob, stranger] = await friends(server, 3);
    const [annWs, strangerWs] = await online(server, ann, stranger);
    const about = (s: RawSocket) => s.events('presence').filter((e) => e.userId === bob.id);

    // Bob's two devices sit on different gateways in cluster mode (the last announced status is
    // shared by every gateway), on the one gateway in embedded mode.
    const [firstUrl, secondUrl] = [server.urls[0]!, server.urls.at(-1)!];
    const b1 = await RawSocket.open(firstUrl, bob.apiKey);
    expect(await annWs.waitForEvent('presence', (e) => e.userId === bob.id)).toEqual({
      type: 'presence',
      userId: bob.id,
      status: 'online',
      lastSeenAt: null,
    });
    // A second device changes nothing visible: no event.
    const b2 = await RawSocket.open(secondUrl, bob.apiKey);
    await b2.closeAndWait();
    await sleep(200);
    expect(about(annWs).map((e) => e.status)).toEqual(['online']);

    await b1.request('presence', { status: 'away' });
    await annWs.waitForEvent('presence', (e) => e.userId === bob.id && e.status === 'away');
    await b1.closeAndWait();
    const off = await annWs.waitForEvent('presence', (e) => e.userId === bob.id && e.status === 'offline');
    expect(off.lastSeenAt).toEqual(expect.any(String));
    expect(about(annWs).map((e) => e.status)).toEqual(['online', 'away', 'offline']);
    expect(about(strangerWs)).toEqual([]);
    annWs.close();
    strangerWs.close();
  });

  it('presenceVisible:false shows the user offline with lastSeenAt null and sends no presence events about them', async () => {
    const [, ann, bob] = await friends(server);
    const [annWs, b1] = await online(server, ann, bob);
    await annWs.waitForEvent('presence', (e) => e.userId === bob.id && e.status === 'online');
    const hide = await bob.call('PUT', '/v1/me/settings', { presenceVisible: false });
    expect(hide.status).toBe(200);
    expect(await presenceOf(ann, bob)).toEqual({ [bob.id]: { status: 'offline', lastSeenAt: null } });
    const mark = annWs.events('presence').length;
    // Activity while hidden: a new device, away, a close. Nothing about bob may go out.
    const b2 = await RawSocket.open(server.url, bob.apiKey);
    await b2.request('presence', { status: 'away' });
    await b1.closeAndWait();
    await b2.closeAndWait();
    await sleep(250);
    const sinceHide = annWs
      .events('presence')
      .slice(mark)
      .filter((e) => e.userId === bob.id);
    expect(sinceHide).toEqual([]);
    // Not even the hiding itself is announced: contacts just see offline from now on.
    expect(annWs.events('presence').filter((e) => e.userId === bob.id)).toEqual([
      { type: 'presence', userId: bob.id, status: 'online', lastSeenAt: null },
    ]);
    expect(await presenceOf(ann, bob)).toEqual({ [bob.id]: { status: 'offline', lastSeenAt: null } });

    // Visible again: real status comes back.
    expect((await bob.call('PUT', '/v1/me/settings', { presenceVisible: true })).status).toBe(200);
    const b3 = await RawSocket.open(server.url, bob.apiKey);
    await annWs.waitForEvent(
      'presence',
      (e) => e.userId === bob.id && e.status === 'online' && annWs.events('presence').indexOf(e) >= mark,
    );
    expect((await presenceOf(ann, bob))[bob.id].status).toBe('online');
    b3.close();
    annWs.close();
  });

  it('a socket that stops answering pings is closed and its user goes offline', async () => {
    const [, ann, bob] = await friends(server);
    const [annWs, healthy] = await online(server, ann, ann);
    const dead = await RawSocket.open(server.url, bob.apiKey, { autoPong: false });
    await annWs.waitForEvent('presence', (e) => e.userId === bob.id && e.status === 'online');
    const started = Date.now();
    await dead.waitClosed(3000);
    expect(Date.now() - started).toBeLessThan(2000);
    const off = await annWs.waitForEvent('presence', (e) => e.userId === bob.id && e.status === 'offline', 3000);
    expect(off.lastSeenAt).toEqual(expect.any(String));
    expect((await presenceOf(ann, bob))[bob.id]).toEqual({ status: 'offline', lastSeenAt: expect.any(String) });
    // Sockets that answer pings stay.
    expect(healthy.closeCode).toBeNull();
    expect((await healthy.request('ping')).ok).toBe(true);
    healthy.close();
    annWs.close();
  });
});

describe('typing', () => {
  it('reaches the other members only, over HTTP and WS, at most once per 2 s per user and conversation', async () => {
    const [other, ann, bob, cat] = await friends(server, 3);
    const g = await createGroup(ann, [bob, cat], 'typing');
    const [a1, a2, b, c] = await online(server, ann, ann, bob, cat);

    const res = await ann.call('POST', `/v1/conversations/${g}/typing`);
    expect(res.status).toBe(204);
    for (const s of [b, c])
      expect(await s.waitForEvent('typing')).toEqual({ type: 'typing', conversationId: g, userId: ann.id });
    // Throttled repeats still succeed but announce nothing.
    expect((await a2.request('typing', { conversationId: g })).ok).toBe(true);
    expect((await ann.call('POST', `/v1/conversations/${g}/typing`)).status).toBe(204);
    // Another conversation and another user are separate budgets.
    await a1.request('typing', { conversationId: other });
    await b.request('typing', { conversationId: g });
    await c.waitForEvent('typing', (e) => e.userId === bob.id);
    await sleep(150);
    expect(b.events('typing')).toEqual([
      { type: 'typing', conversationId: g, userId: ann.id },
      { type: 'typing', conversationId: other, userId: ann.id },
    ]);
    expect(c.events('typing').map((e) => e.userId)).toEqual([ann.id, bob.id]);
    // Never to the typist's own devices.
    expect(a1.events('typing').filter((e) => e.userId === ann.id)).toEqual([]);
    expect(a2.events('typing').filter((e) => e.userId === ann.id)).toEqual([]);

    await sleep(2050);
    await a1.request('typing', { conversationId: g });
    await c.waitForEvent('typing', () => c.events('typing').filter((e) => e.userId === ann.id).length === 2);
    for (const s of [a1, a2, b, c]) s.close();
  });

  it('validates the conversation', async () => {
    const ann = await signUp(server.url);
    expectError(await ann.call('POST', '/v1/conversations/c_nothere/typing'), 404, 'not_found');
  });
});

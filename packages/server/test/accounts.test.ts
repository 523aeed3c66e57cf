// Accounts and devices over the real wire, in both modes: passwords, device sessions, sign-in
// limits, signing out (its sockets close with 4401), changing the password, API keys, bad input,
// and that no password ever reaches the data files. Every client here comes from 127.0.0.1, whose
// per-IP limit (30 failures a minute) the whole file stays under.
import fs from 'node:fs';
import path from 'node:path';
import { CLOSE_CODES } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import {
  CLUSTER,
  expectError,
  http,
  RawSocket,
  signUp,
  sleep,
  serverForFile,
  storedRows,
  uniqueName,
} from './harness.js';

const server = serverForFile();

const PASSWORD = 'correct horse battery staple';

async function signUpWithPassword(password = PASSWORD, deviceName?: string) {
  const username = uniqueName('pw');
  const headers: Record<string, string> = deviceName ? { 'user-agent': deviceName } : {};
  const res = await http(server.url)('POST', '/v1/users', { username, password }, headers);
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { username, ...res.body, call: http(server.url, res.body.token) };
}

async function signIn(username: string, password = PASSWORD, deviceName = 'laptop') {
  return http(server.url)('POST', '/v1/sessions', { username, password, deviceName });
}

async function closedWithin(socket: RawSocket, ms: number): Promise<number | null> {
  const deadline = Date.now() + ms;
  while (socket.closeCode === null && Date.now() < deadline) await sleep(10);
  return socket.closeCode;
}

describe('sign-up and sign-in with a password', () => {
  it('signs up with a password: a device session and its token, no API key', async () => {
    const username = uniqueName('ann');
    const res = await http(server.url)('POST', '/v1/users', { username, password: PASSWORD, displayName: 'Ann' });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['session', 'token', 'user']);
    expect(res.body.user).toMatchObject({ username, displayName: 'Ann' });
    expect(res.body.session).toEqual({
      id: expect.any(String),
      deviceName: expect.any(String),
      createdAt: expect.any(String),
      lastActiveAt: expect.any(String),
      expiresAt: expect.any(String),
      current: true,
    });
    const days = (Date.parse(res.body.session.expiresAt) - Date.parse(res.body.session.createdAt)) / 86_400_000;
    expect(days).toBeCloseTo(30, 3);
    const me = await http(server.url, res.body.token)('GET', '/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(res.body.user.id);
    expect((await http(server.url, res.body.token)('GET', '/v1/me/api-keys')).body).toEqual({ apiKeys: [] });
    // The token works on the WebSocket too.
    const socket = await RawSocket.open(server.url, res.body.token);
    socket.close();
  });

  it('signs in per device; a wrong password and an unknown user get the same 401', async () => {
    const ann = await signUpWithPassword();
    const res = await signIn(ann.username, PASSWORD, 'phone');
    expect(res.status).toBe(201);
    expect(res.body.user.id).toBe(ann.user.id);
    expect(res.body.session).toMatchObject({ deviceName: 'phone', current: true });
    expect(res.body.token).not.toBe(ann.token);
    expect((await http(server.url, res.body.token)('GET', '/v1/me')).status).toBe(200);

    const wrong = await signIn(ann.username, 'not the password');
    const unknown = await signIn(uniqueName('nobody'), PASSWORD);
    expectError(wrong, 401, 'unauthenticated');
    expectError(unknown, 401, 'unauthenticated');
    expect(unknown.body).toEqual(wrong.body);
    // A key-only account has no password to sign in with.
    const keyOnly = await signUp(server.url);
    expectError(await signIn(keyOnly.username, PASSWORD), 401, 'unauthenticated');
  });

  it('answers 429 with Retry-After after 10 failures for a username, even for the right password', async () => {
    const bob = await signUpWithPassword();
    for (let i = 0; i < 10; i++) expectError(await signIn(bob.username, `wrong ${i}`), 401, 'unauthenticated');
    const locked = await signIn(bob.username, PASSWORD);
    expectError(locked, 429, 'rate_limited');
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // Through every gateway (cluster mode: the counts are shared in Redis).
    for (const url of server.urls)
      expectError(
        await http(url)('POST', '/v1/sessions', { username: bob.username, password: PASSWORD }),
        429,
        'rate_limited',
      );
    // Other usernames are not held back, and the existing session still works.
    const other = await signUpWithPassword();
    expect((await signIn(other.username)).status).toBe(201);
    expect((await bob.call('GET', '/v1/me')).status).toBe(200);
  });
});

describe('device sessions', () => {
  it('lists the caller’s sessions with current on the calling one', async () => {
    const cat = await signUpWithPassword(PASSWORD, 'first device');
    const second = await signIn(cat.username, PASSWORD, 'second device');
    const list = await cat.call('GET', '/v1/sessions');
    expect(list.status).toBe(200);
    expect(list.body.sessions).toHaveLength(2);
    const byId = new Map(list.body.sessions.map((s: { id: string }) => [s.id, s]));
    expect(byId.get(cat.session.id)).toMatchObject({ deviceName: 'first device', current: true });
    expect(byId.get(second.body.session.id)).toMatchObject({ deviceName: 'second device', current: false });
    // Someone else sees only their own.
    const dan = await signUpWithPassword();
    expect((await dan.call('GET', '/v1/sessions')).body.sessions.map((s: { id: string }) => s.id)).toEqual([
      dan.session.id,
    ]);
  });

  it('signs out: the token answers 401 and its sockets close with 4401; other devices stay', async () => {
    const eve = await signUpWithPassword();
    const other = await signIn(eve.username);
    const socket = await RawSocket.open(server.url, eve.token);
    const otherSocket = await RawSocket.open(server.url, other.body.token);
    expect((await eve.call('DELETE', '/v1/sessions/current')).status).toBe(204);
    expectError(await http(server.urls[0]!, eve.token)('GET', '/v1/me'), 401, 'unauthenticated');
    expect(await closedWithin(socket, 5000)).toBe(CLOSE_CODES.unauthenticated);
    // Every gateway stops answering to it within 5 s.
    for (const url of server.urls) {
      const deadline = Date.now() + 5000;
      while ((await http(url, eve.token)('GET', '/v1/me')).status !== 401 && Date.now() < deadline) await sleep(50);
      expectError(await http(url, eve.token)('GET', '/v1/me'), 401, 'unauthenticated');
    }
    const again = new RawSocket(server.url);
    await again.opened();
    again.sendJson({ type: 'auth', token: eve.token });
    expect(await again.waitClosed(5000)).toBe(CLOSE_CODES.unauthenticated);

    expect((await http(server.url, other.body.token)('GET', '/v1/me')).status).toBe(200);
    expect((await otherSocket.request('ping')).ok).toBe(true);
    otherSocket.close();
  });

  it('ends another device’s session by id, and only the caller’s own', async () => {
    const fay = await signUpWithPassword();
    const phone = await signIn(fay.username, PASSWORD, 'phone');
    const socket = await RawSocket.open(server.url, phone.body.token);
    const gus = await signUpWithPassword();
    expectError(await gus.call('DELETE', `/v1/sessions/${phone.body.session.id}`), 404, 'not_found');
    expect((await http(server.url, phone.body.token)('GET', '/v1/me')).status).toBe(200);

    expect((await fay.call('DELETE', `/v1/sessions/${phone.body.session.id}`)).status).toBe(204);
    expect(await closedWithin(socket, 5000)).toBe(CLOSE_CODES.unauthenticated);
    expectError(await fay.call('DELETE', `/v1/sessions/${phone.body.session.id}`), 404, 'not_found');
    expect((await fay.call('GET', '/v1/sessions')).body.sessions.map((s: { id: string }) => s.id)).toEqual([
      fay.session.id,
    ]);
    // An API key is no session: there is no current one to end.
    const keyOnly = await signUp(server.url);
    expectError(await keyOnly.call('DELETE', '/v1/sessions/current'), 404, 'not_found');
  });
});

describe('changing the password', () => {
  it('ends every other session; a wrong current password is 403', async () => {
    const hal = await signUpWithPassword();
    const other = await signIn(hal.username);
    const otherSocket = await RawSocket.open(server.url, other.body.token);
    const newPassword = 'a brand new passphrase';
    expectError(
      await hal.call('PUT', '/v1/me/password', { currentPassword: 'wrong one', newPassword }),
      403,
      'forbidden',
    );
    expectError(await hal.call('PUT', '/v1/me/password', { newPassword }), 403, 'forbidden');
    expect((await http(server.url, other.body.token)('GET', '/v1/me')).status).toBe(200);

    expect((await hal.call('PUT', '/v1/me/password', { currentPassword: PASSWORD, newPassword })).status).toBe(204);
    expect(await closedWithin(otherSocket, 5000)).toBe(CLOSE_CODES.unauthenticated);
    expectError(await http(server.urls[0]!, other.body.token)('GET', '/v1/me'), 401, 'unauthenticated');
    expect((await hal.call('GET', '/v1/me')).status).toBe(200);
    expect((await hal.call('GET', '/v1/sessions')).body.sessions).toHaveLength(1);
    expectError(await signIn(hal.username, PASSWORD), 401, 'unauthenticated');
    expect((await signIn(hal.username, newPassword)).status).toBe(201);
  });

  it('lets a key-only account set its first password without currentPassword', async () => {
    const ivy = await signUp(server.url);
    expect((await ivy.call('PUT', '/v1/me/password', { newPassword: PASSWORD })).status).toBe(204);
    const res = await signIn(ivy.username);
    expect(res.status).toBe(201);
    expect(res.body.user.id).toBe(ivy.id);
    // The key still works; from now on a change needs the current password.
    expect((await ivy.call('GET', '/v1/me')).status).toBe(200);
    expectError(await ivy.call('PUT', '/v1/me/password', { newPassword: 'another passphrase' }), 403, 'forbidden');
  });
});

describe('API keys', () => {
  it('creates, lists and revokes keys; the sign-up key is listed; a revoked key answers 401 and its sockets close', async () => {
    const jay = await signUp(server.url);
    const listed = await jay.call('GET', '/v1/me/api-keys');
    expect(listed.status).toBe(200);
    expect(listed.body.apiKeys).toHaveLength(1);
    expect(Object.keys(listed.body.apiKeys[0]).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name']);
    expect(listed.body.apiKeys[0].name).toBe('sign-up key');

    const created = await jay.call('POST', '/v1/me/api-keys', { name: 'deploy bot' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      apiKey: { id: expect.any(String), name: 'deploy bot', createdAt: expect.any(String), lastUsedAt: null },
      key: expect.stringMatching(/^\S{20,}$/),
    });
    const bot = http(server.url, created.body.key);
    expect((await bot('GET', '/v1/me')).body.user.id).toBe(jay.id);
    const socket = await RawSocket.open(server.url, created.body.key);
    const all = (await jay.call('GET', '/v1/me/api-keys')).body.apiKeys;
    expect(all.map((k: { name: string }) => k.name)).toEqual(['sign-up key', 'deploy bot']);
    expect(JSON.stringify(all)).not.toContain(created.body.key);

    const kim = await signUp(server.url);
    expectError(await kim.call('DELETE', `/v1/me/api-keys/${created.body.apiKey.id}`), 404, 'not_found');
    expect((await jay.call('DELETE', `/v1/me/api-keys/${created.body.apiKey.id}`)).status).toBe(204);
    expectError(await http(server.urls[0]!, created.body.key)('GET', '/v1/me'), 401, 'unauthenticated');
    expect(await closedWithin(socket, 5000)).toBe(CLOSE_CODES.unauthenticated);
    expectError(await jay.call('DELETE', `/v1/me/api-keys/${created.body.apiKey.id}`), 404, 'not_found');
    expect((await jay.call('GET', '/v1/me')).status).toBe(200);
  });
});

describe('bad input', () => {
  it('answers 400 for malformed, missing and extra-long fields, before any hashing', async () => {
    const call = http(server.url);
    const username = uniqueName('bad');
    for (const password of ['short', 'x'.repeat(257), 'x'.repeat(60_000), 42, null, 'nul\u0000in the middle'])
      expectError(await call('POST', '/v1/users', { username, password }), 400, 'invalid_request');
    expect((await call('GET', `/v1/users?username=${username}`)).status).toBe(401);
    for (const body of [
      {},
      { username },
      { password: PASSWORD },
      { username, password: 'x'.repeat(257) },
      { username, password: '' },
    ])
      expectError(await call('POST', '/v1/sessions', body), 400, 'invalid_request');
    expectError(await call('POST', '/v1/sessions', '{"username":'), 400, 'invalid_request');
    // A 1 MB password is over the 64 KiB request limit.
    expectError(
      await call('POST', '/v1/sessions', { username, password: 'x'.repeat(1 << 20) }),
      413,
      'message_too_big',
    );
    expectError(await call('POST', '/v1/users', { username, password: 'x'.repeat(1 << 20) }), 413, 'message_too_big');

    const lee = await signUpWithPassword();
    expectError(await lee.call('PUT', '/v1/me/password', { currentPassword: PASSWORD }), 400, 'invalid_request');
    expectError(
      await lee.call('PUT', '/v1/me/password', { currentPassword: PASSWORD, newPassword: 'y'.repeat(300) }),
      400,
      'invalid_request',
    );
    expectError(await lee.call('POST', '/v1/me/api-keys', {}), 400, 'invalid_request');
    expectError(await lee.call('POST', '/v1/me/api-keys', { name: 'n'.repeat(65) }), 400, 'invalid_request');
    expectError(await lee.call('POST', '/v1/me/api-keys', { name: '   ' }), 400, 'invalid_request');
    expectError(await lee.call('DELETE', '/v1/sessions/bad%20id'), 400, 'invalid_request');
    expectError(await lee.call('DELETE', '/v1/me/api-keys/bad%20id'), 400, 'invalid_request');
    expectError(await lee.call('DELETE', '/v1/sessions/d_unknown'), 404, 'not_found');
    expectError(await lee.call('DELETE', '/v1/me/api-keys/k_unknown'), 404, 'not_found');
    for (const [method, url] of [
      ['GET', '/v1/sessions'],
      ['DELETE', '/v1/sessions/current'],
      ['PUT', '/v1/me/password'],
      ['GET', '/v1/me/api-keys'],
      ['POST', '/v1/me/api-keys'],
      ['DELETE', '/v1/me/api-keys/k_x'],
    ] as const)
      expectError(
        await http(server.url, 'mt_wrong')(method, url, method === 'GET' ? undefined : {}),
        401,
        'unauthenticated',
      );
    // Nothing was half-written by the refused sign-ups.
    expect((await lee.call('GET', `/v1/users?username=${username}`)).status).toBe(404);
  });
});

describe('storage', () => {
  it('keeps no password in the data files, only an argon2id hash', async () => {
    const secret = `unmistakable-${Math.random().toString(36).slice(2)}`;
    const mia = await signUpWithPassword(secret);
    await mia.call('PUT', '/v1/me/password', { currentPassword: secret, newPassword: `${secret}-2` });
    if (CLUSTER) {
      const rows = JSON.stringify(await storedRows(server));
      expect(rows).not.toContain(secret);
      expect(rows).toContain('$argon2id$');
      return;
    }
    const files = fs.readdirSync(server.dataDir).filter((f) => f.startsWith('messenger.db'));
    expect(files).toContain('messenger.db');
    const bytes = Buffer.concat(files.map((f) => fs.readFileSync(path.join(server.dataDir, f))));
    expect(bytes.includes(secret)).toBe(false);
    expect(bytes.includes('$argon2id$')).toBe(true);
  });
});

describe.runIf(CLUSTER)('cluster: revocation across gateways', () => {
  it('a session ended through gateway A closes its socket on gateway B within 5 s', async () => {
    const [a, b] = server.urls as [string, string];
    const username = uniqueName('nat');
    const signedUp = await http(a)('POST', '/v1/users', { username, password: PASSWORD });
    const onB = await http(b)('POST', '/v1/sessions', { username, password: PASSWORD, deviceName: 'on b' });
    expect(onB.status).toBe(201);
    const socket = await RawSocket.open(b, onB.body.token);
    // Gateway B has the token cached from the socket's auth.
    expect((await http(b, onB.body.token)('GET', '/v1/me')).status).toBe(200);
    const started = Date.now();
    expect((await http(a, signedUp.body.token)('DELETE', `/v1/sessions/${onB.body.session.id}`)).status).toBe(204);
    expect(await closedWithin(socket, 5000)).toBe(CLOSE_CODES.unauthenticated);
    expect(Date.now() - started).toBeLessThan(5000);
    expectError(await http(b, onB.body.token)('GET', '/v1/me'), 401, 'unauthenticated');
  });
});

// The SDK's accounts and devices against the real server: password sign-up and sign-in, a token on
// the socket, the device list, ending another device (its client hears `unauthenticated` and stops
// reconnecting), the password change, sign-out and API keys.
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { HttpApi, MessengerClient, type UnauthenticatedEvent, type WebSocketCtor } from '@messenger/sdk';
import { serverForFile, sleep } from './harness.js';

const server = serverForFile();
const clients: MessengerClient[] = [];

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

function client(token: string): { c: MessengerClient; refused: UnauthenticatedEvent[] } {
  const c = new MessengerClient({
    baseUrl: server.url,
    token,
    WebSocket: WebSocket as unknown as WebSocketCtor,
    reconnect: { minDelayMs: 50, maxDelayMs: 300 },
  });
  clients.push(c);
  const refused: UnauthenticatedEvent[] = [];
  c.on('unauthenticated', (e) => refused.push(e));
  return { c, refused };
}

async function until(check: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

const PASSWORD = 'correct horse battery';

describe('SDK accounts and devices against the real server', () => {
  it('signs up with a password and signs in on a second device; both connect with their tokens', async () => {
    const up = await MessengerClient.signUp(server.url, {
      username: 'sdk_ann',
      displayName: 'Ann',
      password: PASSWORD,
    });
    expect(up).toMatchObject({ user: { username: 'sdk_ann' }, session: { current: true }, token: expect.any(String) });
    const wrong = await MessengerClient.signIn(server.url, { username: 'sdk_ann', password: 'not it at all' }).catch(
      (e: unknown) => e,
    );
    expect(wrong).toMatchObject({ code: 'unauthenticated', status: 401 });
    const second = await MessengerClient.signIn(server.url, {
      username: 'sdk_ann',
      password: PASSWORD,
      deviceName: 'Phone',
    });
    expect(second.session.deviceName).toBe('Phone');

    const laptop = client(up.token);
    const phone = client(second.token);
    await Promise.all([laptop.c.connect(), phone.c.connect()]);
    expect(laptop.c.userId).toBe(up.user.id);

    const sessions = await laptop.c.api.listSessions();
    expect(sessions).toHaveLength(2);
    expect(sessions.find((s) => s.current)?.id).toBe(up.session.id);

    // Ended from the laptop: the phone's socket closes with 4401 and its client says so, once, and stays closed.
    await laptop.c.api.endSession(second.session.id);
    await until(() => phone.refused.length === 1);
    expect(phone.refused[0]).toMatchObject({ source: 'socket', wasAccepted: true });
    expect(phone.c.state).toBe('closed');
    await sleep(500);
    expect(phone.c.state).toBe('closed');
    expect(phone.refused).toHaveLength(1);
    await expect(new HttpApi({ baseUrl: server.url, token: second.token }).me()).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    expect(laptop.c.state).toBe('open');
    expect(laptop.refused).toEqual([]);
  }, 30_000);

  it('changes the password (other sessions end), and signs out', async () => {
    const up = await MessengerClient.signUp(server.url, { username: 'sdk_bea', password: PASSWORD });
    const other = await MessengerClient.signIn(server.url, { username: 'sdk_bea', password: PASSWORD });
    const laptop = client(up.token);
    const phone = client(other.token);
    await Promise.all([laptop.c.connect(), phone.c.connect()]);
    await expect(
      laptop.c.api.changePassword({ currentPassword: 'wrong password', newPassword: 'x'.repeat(12) }),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
    await laptop.c.api.changePassword({ currentPassword: PASSWORD, newPassword: 'a new password' });
    await until(() => phone.refused.length === 1);
    expect(laptop.c.state).toBe('open');
    await MessengerClient.signIn(server.url, { username: 'sdk_bea', password: 'a new password' });

    await laptop.c.signOut();
    expect(laptop.c.state).toBe('closed');
    expect(laptop.refused).toEqual([]);
    await expect(new HttpApi({ baseUrl: server.url, token: up.token }).me()).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  }, 30_000);

  it('makes, lists and deletes API keys; a deleted key answers 401 at once', async () => {
    const up = await MessengerClient.signUp(server.url, { username: 'sdk_cy', password: PASSWORD });
    const api = new HttpApi({ baseUrl: server.url, token: up.token });
    const { apiKey, key } = await api.createApiKey('bot');
    expect(apiKey).toMatchObject({ name: 'bot', lastUsedAt: null });
    const bot = new HttpApi({ baseUrl: server.url, apiKey: key });
    expect((await bot.me()).id).toBe(up.user.id);
    expect((await api.listApiKeys()).map((k) => k.id)).toContain(apiKey.id);
    await api.deleteApiKey(apiKey.id);
    await expect(bot.me()).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('an account made with an API key sets its first password without a current one', async () => {
    const made = await HttpApi.createUser(server.url, { username: 'sdk_dee' });
    const api = new HttpApi({ baseUrl: server.url, apiKey: made.apiKey });
    await api.changePassword({ newPassword: 'first password' });
    const signedIn = await MessengerClient.signIn(server.url, { username: 'sdk_dee', password: 'first password' });
    expect(signedIn.user.id).toBe(made.user.id);
  });
});

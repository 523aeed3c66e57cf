// HttpApi against a scripted HTTP peer on 127.0.0.1 that records requests and plays back canned answers.
import { describe, expect, it } from 'vitest';
import { scriptedHttpPeer } from '../test/http-peer.js';
import { MessengerError } from './errors.js';
import { HttpApi } from './http-api.js';

const peer = scriptedHttpPeer();

/** With a trailing slash, as a configured base URL may have one. */
const base = () => `${peer.url}/`;
const api = () => new HttpApi({ baseUrl: base(), apiKey: 'k1' });

describe('HttpApi', () => {
  it('sends the key as a bearer token and the body as JSON, with ids escaped', async () => {
    peer.answer = () => ({ status: 200, body: { message: { id: 'm1' } } });
    const message = await api().editMessage('c/1', 'm 1', 'new text');
    expect(message).toEqual({ id: 'm1' });
    expect(peer.seen[0]).toEqual({
      method: 'PATCH',
      url: '/v1/conversations/c%2F1/messages/m%201',
      auth: 'Bearer k1',
      body: { body: 'new text' },
    });
  });

  it('signs up without a key', async () => {
    peer.answer = () => ({ status: 201, body: { user: { id: 'u1' }, apiKey: 'new' } });
    expect(await HttpApi.createUser(base(), { username: 'ann' })).toEqual({ user: { id: 'u1' }, apiKey: 'new' });
    expect(peer.seen[0]).toMatchObject({
      method: 'POST',
      url: '/v1/users',
      auth: undefined,
      body: { username: 'ann' },
    });
  });

  it('tells a created conversation (201) from an existing one (200)', async () => {
    peer.answer = () => ({ status: 201, body: { conversation: { id: 'c1' } } });
    expect(await api().createConversation({ memberIds: ['u2'] })).toEqual({
      conversation: { id: 'c1' },
      created: true,
    });
    peer.answer = () => ({ status: 200, body: { conversation: { id: 'c1' } } });
    expect((await api().createConversation({ memberIds: ['u2'] })).created).toBe(false);
  });

  it('follows nextCursor through every page', async () => {
    peer.answer = ({ url }) =>
      url.includes('cursor=p2')
        ? { status: 200, body: { conversations: [{ id: 'b' }, { id: 'a' }], nextCursor: null } }
        : { status: 200, body: { conversations: [{ id: 'a' }], nextCursor: 'p2' } };
    expect((await api().listAllConversations()).map((c) => c.id)).toEqual(['a', 'b']);
    expect(peer.seen.map((s) => s.url)).toEqual([
      '/v1/conversations?limit=200',
      '/v1/conversations?limit=200&cursor=p2',
    ]);
  });

  it('builds queries and unwraps answers', async () => {
    peer.answer = () => ({
      status: 200,
      body: { messages: [{ seq: 4 }], presence: { u2: { status: 'online' } }, results: [] },
    });
    expect(await api().getMessages('c1', { afterSeq: 3, limit: 10 })).toEqual([{ seq: 4 }]);
    expect(await api().getPresence(['u2', 'u3'])).toEqual({ u2: { status: 'online' } });
    await api().deleteMessage('c1', 'm1', 'me');
    await api().unsubscribePush('https://push.example/x?y=1');
    expect(peer.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /v1/conversations/c1/messages?afterSeq=3&limit=10',
      'GET /v1/presence?userIds=u2%2Cu3',
      'DELETE /v1/conversations/c1/messages/m1?for=me',
      'DELETE /v1/push/subscriptions?endpoint=https%3A%2F%2Fpush.example%2Fx%3Fy%3D1',
    ]);
    expect(await api().getPresence([])).toEqual({});
    expect(peer.seen).toHaveLength(4);
  });

  it('throws MessengerError from the error body, with Retry-After in milliseconds', async () => {
    peer.answer = () => ({
      status: 429,
      body: { error: { code: 'rate_limited', message: 'slow down' } },
      headers: { 'retry-after': '2' },
    });
    const error = await api()
      .sendMessage('c1', { clientMsgId: 'x', body: 'hi' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessengerError);
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryAfterMs: 2000, message: 'slow down' });
  });

  it('reports an unreachable server as unavailable', async () => {
    const dead = new HttpApi({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k' });
    await expect(dead.me()).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('signs up with a password and signs in, unauthenticated, answering a device session', async () => {
    const created = { user: { id: 'u1' }, session: { id: 's1', current: true }, token: 't1' };
    peer.answer = () => ({ status: 201, body: created });
    expect(await HttpApi.signUp(base(), { username: 'ann', password: 'correct horse' })).toEqual(created);
    expect(await HttpApi.signIn(base(), { username: 'ann', password: 'correct horse', deviceName: 'Phone' })).toEqual(
      created,
    );
    expect(peer.seen).toMatchObject([
      { method: 'POST', url: '/v1/users', auth: undefined, body: { username: 'ann', password: 'correct horse' } },
      { method: 'POST', url: '/v1/sessions', auth: undefined, body: { deviceName: 'Phone' } },
    ]);
  });

  it('calls the session, password and API-key routes with the token', async () => {
    peer.answer = ({ method, url }) =>
      method === 'GET'
        ? { status: 200, body: url.endsWith('sessions') ? { sessions: [{ id: 's1' }] } : { apiKeys: [{ id: 'k' }] } }
        : method === 'POST'
          ? { status: 201, body: { apiKey: { id: 'k2', name: 'bot' }, key: 'secret' } }
          : { status: 204 };
    const tokenApi = new HttpApi({ baseUrl: base(), token: 't1' });
    expect(await tokenApi.listSessions()).toEqual([{ id: 's1' }]);
    await tokenApi.endSession('s/2');
    await tokenApi.changePassword({ newPassword: 'a new password' });
    expect(await tokenApi.createApiKey('bot')).toEqual({ apiKey: { id: 'k2', name: 'bot' }, key: 'secret' });
    expect(await tokenApi.listApiKeys()).toEqual([{ id: 'k' }]);
    await tokenApi.deleteApiKey('k2');
    await tokenApi.signOut();
    expect(peer.seen.map((s) => `${s.method} ${s.url} ${s.auth}`)).toEqual([
      'GET /v1/sessions Bearer t1',
      'DELETE /v1/sessions/s%2F2 Bearer t1',
      'PUT /v1/me/password Bearer t1',
      'POST /v1/me/api-keys Bearer t1',
      'GET /v1/me/api-keys Bearer t1',
      'DELETE /v1/me/api-keys/k2 Bearer t1',
      'DELETE /v1/sessions/current Bearer t1',
    ]);
    expect(peer.seen[2]?.body).toEqual({ newPassword: 'a new password' });
  });

  it('reports a 401 of an authenticated call to onUnauthenticated, but not a failed sign-in or a repeated sign-out', async () => {
    const refused: string[] = [];
    peer.answer = () => ({ status: 401, body: { error: { code: 'unauthenticated', message: 'session ended' } } });
    const watched = new HttpApi({ baseUrl: base(), token: 't1', onUnauthenticated: (e) => refused.push(e.message) });
    await expect(watched.me()).rejects.toMatchObject({ code: 'unauthenticated', status: 401 });
    expect(refused).toEqual(['session ended']);
    await expect(HttpApi.signIn(base(), { username: 'ann', password: 'wrong one' })).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    await watched.signOut();
    expect(refused).toHaveLength(1);
  });
});

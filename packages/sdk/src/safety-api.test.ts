// HttpApi's people search and safety methods against a scripted HTTP peer: the method, path, query
// and body each sends, and what it makes of the answer.
import { describe, expect, it } from 'vitest';
import { scriptedHttpPeer } from '../test/http-peer.js';
import { MessengerError } from './errors.js';
import { HttpApi } from './http-api.js';

const peer = scriptedHttpPeer();

const api = () => new HttpApi({ baseUrl: peer.url, apiKey: 'k1' });
const conversation = { id: 'c1', request: false };

describe('HttpApi people search and settings', () => {
  it('searches people by prefix with an optional limit and reads whether the caller is an operator', async () => {
    peer.answer = (req) =>
      req.url.startsWith('/v1/me')
        ? { status: 200, body: { user: { id: 'u1' }, operator: true } }
        : { status: 200, body: { users: [{ id: 'u2' }] } };
    expect(await api().searchPeople('al ice', 5)).toEqual([{ id: 'u2' }]);
    await api().searchPeople('bo');
    expect(await api().whoAmI()).toEqual({ user: { id: 'u1' }, operator: true });
    expect(peer.seen.map((s) => s.url)).toEqual([
      '/v1/users/search?q=al+ice&limit=5',
      '/v1/users/search?q=bo',
      '/v1/me',
    ]);
  });

  it('sets discoverable alone', async () => {
    peer.answer = () => ({ status: 200, body: { settings: { discoverable: false } } });
    await api().setDiscoverable(false);
    expect(peer.seen).toMatchObject([{ method: 'PUT', url: '/v1/me/settings', body: { discoverable: false } }]);
  });

  it('rejects a rate-limited search with its retry delay', async () => {
    peer.answer = () => ({
      status: 429,
      body: { error: { code: 'rate_limited', message: 'slow down', retryAfter: 7 } },
    });
    const error = await api()
      .searchPeople('x')
      .catch((e) => e);
    expect(error).toBeInstanceOf(MessengerError);
    expect(error.code).toBe('rate_limited');
  });
});

describe('HttpApi.safety', () => {
  it('lists, accepts and declines message requests', async () => {
    peer.answer = (req) =>
      req.method === 'GET'
        ? { status: 200, body: { conversations: [{ ...conversation, request: true }], nextCursor: null } }
        : req.url.endsWith('/accept')
          ? { status: 200, body: { conversation } }
          : { status: 204 };
    const s = api().safety;
    expect((await s.listRequests({ limit: 10 })).conversations).toEqual([{ ...conversation, request: true }]);
    expect(await s.acceptRequest('c/1')).toEqual(conversation);
    await s.declineRequest('c2');
    expect(peer.seen.map((x) => `${x.method} ${x.url}`)).toEqual([
      'GET /v1/conversations?requests=true&limit=10',
      'POST /v1/conversations/c%2F1/accept',
      'POST /v1/conversations/c2/decline',
    ]);
  });

  it('administers a group: rename, members-can-add, roles and removal', async () => {
    peer.answer = (req) => (req.method === 'DELETE' ? { status: 204 } : { status: 200, body: { conversation } });
    const s = api().safety;
    expect(await s.updateConversation('c1', { title: 'New', membersCanAdd: false })).toEqual(conversation);
    expect(await s.setMemberRole('c1', 'u2', 'admin')).toEqual(conversation);
    await s.removeMember('c1', 'u3');
    expect(peer.seen).toMatchObject([
      { method: 'PATCH', url: '/v1/conversations/c1', body: { title: 'New', membersCanAdd: false } },
      { method: 'PUT', url: '/v1/conversations/c1/members/u2', body: { role: 'admin' } },
      { method: 'DELETE', url: '/v1/conversations/c1/members/u3', body: undefined },
    ]);
  });

  it('blocks, unblocks and lists the blocked', async () => {
    peer.answer = (req) => (req.method === 'GET' ? { status: 200, body: { users: [{ id: 'u2' }] } } : { status: 204 });
    const s = api().safety;
    await s.block('u2');
    await s.unblock('u2');
    expect(await s.listBlocked()).toEqual([{ id: 'u2' }]);
    expect(peer.seen.map((x) => `${x.method} ${x.url}`)).toEqual([
      'PUT /v1/blocks/u2',
      'DELETE /v1/blocks/u2',
      'GET /v1/blocks',
    ]);
  });

  it('reports, and lets an operator read reports and suspend or restore a user', async () => {
    const report = { id: 'r1', reason: 'spam' };
    peer.answer = (req) =>
      req.url === '/v1/reports'
        ? { status: 201, body: { report } }
        : req.url === '/v1/admin/reports'
          ? { status: 200, body: { reports: [report] } }
          : { status: 204 };
    const s = api().safety;
    expect(await s.report({ conversationId: 'c1', messageId: 'm1', reason: 'spam' })).toEqual(report);
    expect(await s.adminReports()).toEqual([report]);
    await s.suspendUser('u2', 'spam');
    await s.unsuspendUser('u2');
    expect(peer.seen).toMatchObject([
      { method: 'POST', url: '/v1/reports', body: { conversationId: 'c1', messageId: 'm1', reason: 'spam' } },
      { method: 'GET', url: '/v1/admin/reports', body: undefined },
      { method: 'POST', url: '/v1/admin/users/u2/suspend', body: { reason: 'spam' } },
      { method: 'DELETE', url: '/v1/admin/users/u2/suspend', body: undefined },
    ]);
  });

  it('turns a refusal into a MessengerError', async () => {
    peer.answer = () => ({
      status: 403,
      body: { error: { code: 'forbidden', message: 'only an operator can do this' } },
    });
    await expect(api().safety.adminReports()).rejects.toMatchObject({ code: 'forbidden' });
  });
});

// Reports and operators: a report keeps a copy of the message; operators (ADMIN_USERNAMES) read
// reports and suspend users, whose credentials answer 401 at once, whose sockets close on every
// gateway, and who cannot sign in (403) until the suspension is lifted. Both modes.
import { describe, expect, it } from 'vitest';
import { directChat, expectError, http, RawSocket, sendHttp, signUp, serverForFile, uniqueName } from './harness.js';

const OPERATOR = uniqueName('op');
const server = serverForFile({ adminUsernames: [OPERATOR] });

describe('reports and operators', () => {
  it('a report keeps the message as it was; only operators read reports', async () => {
    const [op, ann, bob, eve] = [
      await signUp(server.url, OPERATOR).then((u) => ((operatorKey = u.call), u)),
      await signUp(server.url),
      await signUp(server.url),
      await signUp(server.url),
    ];
    const id = await directChat(bob, ann);
    const m = await sendHttp(bob, id, 'something nasty');
    const res = await ann.call('POST', '/v1/reports', { conversationId: id, messageId: m.id, reason: 'abuse' });
    expect(res.status).toBe(201);
    expect(res.body.report).toMatchObject({
      reporterId: ann.id,
      conversationId: id,
      messageId: m.id,
      userId: bob.id,
      reason: 'abuse',
      message: { id: m.id, body: 'something nasty' },
    });
    await bob.call('DELETE', `/v1/conversations/${id}/messages/${m.id}?for=everyone`);
    expectError(await eve.call('POST', '/v1/reports', { conversationId: id, reason: 'x' }), 404, 'not_found');
    expectError(await ann.call('POST', '/v1/reports', { conversationId: id }), 400, 'invalid_request');
    expectError(await ann.call('GET', '/v1/admin/reports'), 403, 'forbidden');
    const list = await op.call('GET', '/v1/admin/reports');
    expect(list.status).toBe(200);
    expect(list.body.reports.find((r: any) => r.id === res.body.report.id).message.body).toBe('something nasty');
  });

  it('suspension: 401 at once, sockets closed on every gateway, sign-in 403; lifting it restores sign-in', async () => {
    // A name that merely starts like the operator's is no operator.
    const op = await signUp(server.url, `${OPERATOR}s`);
    const password = 'correct horse battery';
    const name = uniqueName('sus');
    const created = await http(server.url)('POST', '/v1/users', { username: name, password });
    expect(created.status).toBe(201);
    const { token, user } = created.body;
    const sockets = await Promise.all(server.urls.map((url) => RawSocket.open(url, token)));
    const someone = await signUp(server.url);
    expectError(await someone.call('POST', `/v1/admin/users/${user.id}/suspend`, { reason: 'spam' }), 403, 'forbidden');
    expectError(await op.call('POST', `/v1/admin/users/${user.id}/suspend`, { reason: 'spam' }), 403, 'forbidden');

    const root = await operatorCall();
    expect((await root('POST', `/v1/admin/users/${user.id}/suspend`, { reason: 'spam' })).status).toBe(204);
    expectError(await http(server.url, token)('GET', '/v1/me'), 401, 'unauthenticated');
    for (const socket of sockets) expect(await socket.waitClosed(8000)).toBe(4401);
    expectError(await http(server.url)('POST', '/v1/sessions', { username: name, password }), 403, 'forbidden');

    expect((await root('DELETE', `/v1/admin/users/${user.id}/suspend`)).status).toBe(204);
    expect((await http(server.url)('POST', '/v1/sessions', { username: name, password })).status).toBe(201);
  });
});

/** The operator named in ADMIN_USERNAMES, signed up by the first test (or here when run alone). */
async function operatorCall() {
  const found = await http(server.url)('POST', '/v1/users', { username: OPERATOR });
  if (found.status === 201) return http(server.url, found.body.apiKey);
  return operatorKey!;
}
let operatorKey: ReturnType<typeof http> | null = null;

// Blocks: the blocked user cannot send to the direct chat, add the blocker or open a new chat with
// them; neither sees the other's typing or presence. Unblocking restores all of it. Both modes.
import { describe, expect, it } from 'vitest';
import {
  createGroup,
  expectError,
  friends,
  online,
  sendHttp,
  serverForFile,
  signUp,
  sleep,
  type TestUser,
} from './harness.js';

const server = serverForFile({ presenceCoalesceMs: 50 });

const presenceOf = async (viewer: TestUser, user: TestUser) =>
  (await viewer.call('GET', `/v1/presence?userIds=${user.id}`)).body.presence[user.id];

describe('blocks', () => {
  it('stop sends, adds, new chats, typing and presence; unblocking restores them', async () => {
    const [id, ann, bob, cid] = await friends(server, 3);
    const group = await createGroup(bob, [cid]);
    const [annWs, bobWs] = await online(server, ann, bob);
    await sleep(200);
    expect(await presenceOf(bob, ann)).toMatchObject({ status: 'online' });

    expect((await ann.call('PUT', `/v1/blocks/${bob.id}`)).status).toBe(204);
    expect((await ann.call('PUT', `/v1/blocks/${bob.id}`)).status).toBe(204);
    expect((await ann.call('GET', '/v1/blocks')).body.users.map((u: any) => u.id)).toEqual([bob.id]);
    expect((await bob.call('GET', '/v1/blocks')).body.users).toEqual([]);

    expectError(
      await bob.call('POST', `/v1/conversations/${id}/messages`, { clientMsgId: 'x1', body: 'hi' }),
      403,
      'forbidden',
    );
    const viaWs = await bobWs.request('send', { conversationId: id, clientMsgId: 'x2', body: 'hi' });
    expect(viaWs).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expectError(await bob.call('POST', `/v1/conversations/${group}/members`, { userIds: [ann.id] }), 403, 'forbidden');
    expectError(await bob.call('POST', '/v1/conversations', { memberIds: [ann.id] }), 403, 'forbidden');
    expectError(
      await bob.call('POST', '/v1/conversations', { memberIds: [ann.id, cid.id], title: 't' }),
      403,
      'forbidden',
    );

    // Each sees the other offline with no last seen, and hears no typing or presence of the other.
    expect(await presenceOf(bob, ann)).toEqual({ status: 'offline', lastSeenAt: null });
    expect(await presenceOf(ann, bob)).toEqual({ status: 'offline', lastSeenAt: null });
    await bobWs.waitForEvent('presence', (e) => e.userId === ann.id && e.status === 'offline' && e.lastSeenAt === null);
    const typingBefore = annWs.events('typing').length;
    await bobWs.request('typing', { conversationId: id });
    await annWs.request('typing', { conversationId: id });
    await annWs.request('presence', { status: 'away' });
    await sleep(300);
    expect(annWs.events('typing').length).toBe(typingBefore);
    expect(bobWs.events('typing').filter((e) => e.userId === ann.id)).toEqual([]);
    expect(bobWs.events('presence').filter((e) => e.userId === ann.id && e.status === 'away')).toEqual([]);

    expect((await ann.call('DELETE', `/v1/blocks/${bob.id}`)).status).toBe(204);
    expect((await ann.call('GET', '/v1/blocks')).body.users).toEqual([]);
    await sendHttp(bob, id, 'back again');
    expect((await bob.call('POST', '/v1/conversations', { memberIds: [ann.id] })).status).toBe(200);
    expect(await presenceOf(bob, ann)).toMatchObject({ status: 'away' });
    await sleep(2100); // typing is throttled per user and conversation
    await bobWs.request('typing', { conversationId: id });
    await annWs.waitForEvent('typing', (e) => e.userId === bob.id);
    annWs.close();
    bobWs.close();
  });

  it('answers 404 for an unknown user and 400 for oneself', async () => {
    const ann = await signUp(server.url);
    expectError(await ann.call('PUT', '/v1/blocks/u_nobody'), 404, 'not_found');
    expectError(await ann.call('PUT', `/v1/blocks/${ann.id}`), 400, 'invalid_request');
  });
});

// Group roles: the creator is admin; only admins change the group, roles and remove members; a
// removed member is told once and then hears nothing more (over both gateways in cluster mode);
// the longest-standing member inherits the group when the last admin leaves.
import { describe, expect, it } from 'vitest';
import { createGroup, expectError, RawSocket, sendHttp, signUp, sleep, serverForFile, via } from './harness.js';

const server = serverForFile();

const roles = (c: any) => Object.fromEntries(c.members.map((m: any) => [m.userId, m.role]));

describe('group roles', () => {
  it('admins only: settings, roles and removal; membersCanAdd false keeps adding to admins', async () => {
    const [ann, bob, cid, dan] = await Promise.all([1, 2, 3, 4].map(() => signUp(server.url)));
    const group = await createGroup(ann!, [bob!, cid!]);
    const c = (await ann!.call('GET', `/v1/conversations/${group}`)).body.conversation;
    expect(roles(c)).toEqual({ [ann!.id]: 'admin', [bob!.id]: 'member', [cid!.id]: 'member' });
    expect(c.membersCanAdd).toBe(true);

    expectError(await bob!.call('PATCH', `/v1/conversations/${group}`, { title: 'mine' }), 403, 'forbidden');
    expectError(
      await bob!.call('PUT', `/v1/conversations/${group}/members/${cid!.id}`, { role: 'admin' }),
      403,
      'forbidden',
    );
    expectError(await bob!.call('DELETE', `/v1/conversations/${group}/members/${cid!.id}`), 403, 'forbidden');
    // An upload that is not the admin's own (attachments.test.ts sets a real one).
    expectError(await ann!.call('PATCH', `/v1/conversations/${group}`, { avatarUploadId: 'up_1' }), 404, 'not_found');

    const patched = await ann!.call('PATCH', `/v1/conversations/${group}`, {
      title: 'renamed',
      membersCanAdd: false,
      avatarUploadId: null,
    });
    expect(patched.status).toBe(200);
    expect(patched.body.conversation).toMatchObject({ title: 'renamed', membersCanAdd: false });
    expectError(
      await bob!.call('POST', `/v1/conversations/${group}/members`, { userIds: [dan!.id] }),
      403,
      'forbidden',
    );
    const promoted = await ann!.call('PUT', `/v1/conversations/${group}/members/${bob!.id}`, { role: 'admin' });
    expect(roles(promoted.body.conversation)[bob!.id]).toBe('admin');
    expect((await bob!.call('POST', `/v1/conversations/${group}/members`, { userIds: [dan!.id] })).status).toBe(200);
  });

  it('a removed member gets conversation.updated, then nothing more, and 404 on the group', async () => {
    const [ann, bob, cid] = await Promise.all([1, 2, 3].map(() => signUp(server.url)));
    const group = await createGroup(ann!, [bob!, cid!]);
    // In cluster mode each client sits on its own gateway.
    const [url0, url1] = [server.urls[0]!, server.urls.at(-1)!];
    const bobWs = await RawSocket.open(url1, bob!.apiKey);
    await sendHttp(via(ann!, url0), group, 'before');
    await bobWs.waitForEvent('message.created', (e) => e.message.body === 'before');
    // Events from before the removal (in cluster mode the fan-out may hand bob the group's earlier
    // conversation.updated, from its creation, after his socket opened) are not what is tested.
    const seen = bobWs.events().length;

    expect((await via(ann!, url0).call('DELETE', `/v1/conversations/${group}/members/${bob!.id}`)).status).toBe(204);
    // Right after the removal, from both gateways.
    await sendHttp(via(ann!, url0), group, 'after 1');
    await sendHttp(via(cid!, url1), group, 'after 2');
    const told = await bobWs.waitForEvent(
      'conversation.updated',
      (e) => e.conversation.id === group && bobWs.events().indexOf(e) >= seen,
    );
    expect(told.conversation.members.map((m: any) => m.userId)).not.toContain(bob!.id);
    await sleep(500);
    const after = bobWs
      .events()
      .slice(seen)
      .filter((e) => (e.conversationId ?? e.conversation?.id) === group);
    expect(after.filter((e) => e.type === 'message.created').map((e) => e.message.body)).toEqual([]);
    expect(after.filter((e) => e.type === 'conversation.updated')).toHaveLength(1);
    expectError(await bob!.call('GET', `/v1/conversations/${group}`), 404, 'not_found');
    expectError(await bob!.call('GET', `/v1/conversations/${group}/messages`), 404, 'not_found');
    expectError(
      await bob!.call('POST', `/v1/conversations/${group}/messages`, { clientMsgId: 'z', body: 'x' }),
      404,
      'not_found',
    );
    bobWs.close();
  });

  it('when the last admin leaves, the longest-standing member becomes admin', async () => {
    const [ann, bob, cid] = await Promise.all([1, 2, 3].map(() => signUp(server.url)));
    const group = await createGroup(ann!, [bob!]);
    await ann!.call('POST', `/v1/conversations/${group}/members`, { userIds: [cid!.id] });
    expect((await ann!.call('DELETE', `/v1/conversations/${group}/members/me`)).status).toBe(204);
    const c = (await cid!.call('GET', `/v1/conversations/${group}`)).body.conversation;
    expect(roles(c)).toEqual({ [bob!.id]: 'admin', [cid!.id]: 'member' });
  });
});

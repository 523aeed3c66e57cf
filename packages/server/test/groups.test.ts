// Group life: conversation.updated on create/add/leave, leavers cut off, late joiners see only what
// came after they joined, and every member's readSeq is visible to all.
import { describe, expect, it } from 'vitest';
import {
  createGroup,
  expectError,
  expectErrorOn,
  online,
  RawSocket,
  type Route,
  sendHttp,
  serverForFile,
  signUpMany,
} from './harness.js';

const server = serverForFile();

const ids = (c: any) => c.members.map((m: any) => m.userId).sort();

describe('group membership events', () => {
  it('conversation.updated reaches the members on create, add and leave, each with their own view', async () => {
    const [ann, bob, cat, dan] = await signUpMany(server, 4);
    const sockets = Object.fromEntries(
      await Promise.all(
        [ann, bob, cat, dan].map(async (u) => [u.id, await RawSocket.open(server.url, u.apiKey)] as const),
      ),
    );
    const updates = (u: { id: string }) => sockets[u.id]!.events('conversation.updated').map((e) => e.conversation);

    const g = await createGroup(ann, [bob, cat], 'Team');
    for (const u of [ann, bob, cat]) {
      const e = await sockets[u.id]!.waitForEvent('conversation.updated');
      expect(e.conversation).toMatchObject({ id: g, kind: 'group', title: 'Team', lastSeq: 0 });
      expect(ids(e.conversation)).toEqual([ann.id, bob.id, cat.id].sort());
    }
    await sendHttp(bob, g, 'hi team');
    const added = await cat.call('POST', `/v1/conversations/${g}/members`, { userIds: [dan.id] });
    expect(added.status).toBe(200);
    expect(ids(added.body.conversation)).toEqual([ann.id, bob.id, cat.id, dan.id].sort());
    for (const u of [ann, bob, cat, dan]) {
      await sockets[u.id]!.waitFor(() => updates(u).some((c) => c.members.length === 4));
    }
    // Each member's own view: unread counts differ.
    const viewOf = (u: { id: string }) => updates(u).find((c) => c.members.length === 4);
    expect(viewOf(ann).unreadCount).toBe(1);
    expect(viewOf(bob).unreadCount).toBe(0);
    expect(viewOf(dan).unreadCount).toBe(0);
    expect(viewOf(dan).lastMessage).toBeNull();

    expect((await bob.call('DELETE', `/v1/conversations/${g}/members/me`)).status).toBe(204);
    for (const u of [ann, cat, dan]) {
      await sockets[u.id]!.waitFor(() => ids(updates(u).at(-1)).join() === [ann.id, cat.id, dan.id].sort().join());
    }
    // The leaver hears nothing more about the group.
    const bobCount = sockets[bob.id]!.events().length;
    await sendHttp(ann, g, 'after bob left');
    await cat.call('PUT', `/v1/conversations/${g}/messages/${(await sendHttp(cat, g, 'react')).id}/reaction`, {
      emoji: '🎉',
    });
    await ann.call('POST', `/v1/conversations/${g}/typing`);
    await sockets[dan.id]!.waitForEvent('reaction.updated');
    await sockets[dan.id]!.waitForEvent('typing');
    expect((await sockets[bob.id]!.settle()).slice(bobCount)).toEqual([]);
    const gone: Route[] = [
      ['GET', `/v1/conversations/${g}`],
      ['GET', `/v1/conversations/${g}/messages`],
      ['POST', `/v1/conversations/${g}/messages`, { clientMsgId: 'x', body: 'back?' }],
    ];
    await expectErrorOn(bob, gone, 404, 'not_found');
    for (const s of Object.values(sockets)) s.close();
  });
});

describe('late joiners', () => {
  it('do not see messages from before they joined: history, unread, preview', async () => {
    const [ann, bob, late] = await signUpMany(server, 3);
    const g = await createGroup(ann, [bob], 'Old');
    const olds = [];
    for (let i = 1; i <= 3; i++) olds.push(await sendHttp(ann, g, `old ${i}`));
    await ann.call('POST', `/v1/conversations/${g}/members`, { userIds: [late.id] });
    let view = (await late.call('GET', `/v1/conversations/${g}`)).body.conversation;
    expect(view).toMatchObject({ lastSeq: olds[2].seq, lastMessage: null, unreadCount: 0 });
    expect((await late.call('GET', `/v1/conversations/${g}/messages`)).body.messages).toEqual([]);
    expect((await late.call('GET', `/v1/conversations/${g}/messages?afterSeq=0`)).body.messages).toEqual([]);
    expect((await late.call('GET', `/v1/conversations/${g}/messages?beforeSeq=${olds[2].seq}`)).body.messages).toEqual(
      [],
    );
    const [lateWs] = await online(server, late);
    const fresh = await sendHttp(bob, g, 'welcome');
    expect((await lateWs.waitForEvent('message.created')).message.id).toBe(fresh.id);
    const history = (await late.call('GET', `/v1/conversations/${g}/messages`)).body.messages;
    expect(history.map((m: any) => m.body)).toEqual(['welcome']);
    view = (await late.call('GET', `/v1/conversations/${g}`)).body.conversation;
    expect(view).toMatchObject({ lastSeq: fresh.seq, unreadCount: 1 });
    expect(view.lastMessage.id).toBe(fresh.id);
    // An old message is as if it did not exist, even when its id leaks through a reply.
    const old = (await ann.call('GET', `/v1/conversations/${g}/messages?limit=1&beforeSeq=${olds[1].seq}`)).body
      .messages[0];
    expect(old.seq).toBe(olds[0].seq);
    const quoted = await bob.call('POST', `/v1/conversations/${g}/messages`, {
      clientMsgId: 'quote',
      body: 'quote',
      replyToId: old.id,
    });
    expect(quoted.body.message.replyToId).toBe(old.id);
    const path = `/v1/conversations/${g}/messages/${old.id}`;
    expectError(await late.call('PUT', `${path}/reaction`, { emoji: '👀' }), 404, 'not_found');
    expectError(await late.call('DELETE', `${path}/reaction`), 404, 'not_found');
    expectError(await late.call('DELETE', `${path}?for=me`), 404, 'not_found');
    expectError(
      await late.call('POST', `/v1/conversations/${g}/messages`, { clientMsgId: 'q2', body: 'x', replyToId: old.id }),
      400,
      'invalid_request',
    );
    expect(
      (await ann.call('GET', `/v1/conversations/${g}/messages?limit=1&beforeSeq=${olds[1].seq}`)).body.messages[0]
        .reactions,
    ).toEqual([]);
    lateWs.close();
  });
});

describe('read positions', () => {
  it("every member's readSeq is visible to all members", async () => {
    const [ann, bob, cat] = await signUpMany(server, 3);
    const g = await createGroup(ann, [bob, cat], 'Reads');
    const seqs: number[] = [];
    for (let i = 1; i <= 4; i++) seqs.push((await sendHttp(ann, g, `m${i}`)).seq);
    const [, second, , fourth] = seqs as [number, number, number, number];
    await bob.call('POST', `/v1/conversations/${g}/read`, { seq: second });
    await cat.call('POST', `/v1/conversations/${g}/read`, { seq: fourth });
    for (const viewer of [ann, bob, cat]) {
      const c = (await viewer.call('GET', `/v1/conversations/${g}`)).body.conversation;
      const bySeq = Object.fromEntries(c.members.map((m: any) => [m.userId, m.readSeq]));
      expect(bySeq).toEqual({ [ann.id]: fourth, [bob.id]: second, [cat.id]: fourth });
    }
    const list = (await bob.call('GET', '/v1/conversations')).body.conversations.find((c: any) => c.id === g);
    expect(list.unreadCount).toBe(2);
    expect(list.members.find((m: any) => m.userId === cat.id).readSeq).toBe(fourth);
  });
});

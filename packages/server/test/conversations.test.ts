// Conversations: direct chats, groups and their cap, members, leaving, GetChats order and paging, detail, mute.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createGroup,
  expectError,
  sendHttp,
  serverForFile,
  signUp,
  signUpMany,
  sleep,
  type TestUser,
} from './harness.js';

const server = serverForFile({ maxGroupMembers: 3 });

describe('direct chats', () => {
  it('are idempotent: 201 then 200, the same id whoever asks', async () => {
    const [ann, bob] = await signUpMany(server, 2);
    const first = await ann.call('POST', '/v1/conversations', { memberIds: [bob.id] });
    expect(first.status).toBe(201);
    const c = first.body.conversation;
    expect(c).toMatchObject({
      kind: 'direct',
      title: null,
      lastSeq: 0,
      lastMessage: null,
      unreadCount: 0,
      muted: false,
    });
    expect(c.members.map((m: any) => m.userId).sort()).toEqual([ann.id, bob.id].sort());
    for (const m of c.members)
      expect(m).toEqual({
        userId: m.userId,
        username: expect.any(String),
        displayName: expect.any(String),
        readSeq: 0,
        deliveredSeq: 0,
        role: 'member',
        avatarUrl: null,
      });
    const again = await ann.call('POST', '/v1/conversations', { memberIds: [bob.id] });
    expect(again.status).toBe(200);
    expect(again.body.conversation.id).toBe(c.id);
    const reverse = await bob.call('POST', '/v1/conversations', { memberIds: [ann.id] });
    expect(reverse.status).toBe(200);
    expect(reverse.body.conversation.id).toBe(c.id);
  });

  it('concurrent creation from both sides yields one chat', async () => {
    const [ann, bob] = await signUpMany(server, 2);
    const answers = await Promise.all([
      ann.call('POST', '/v1/conversations', { memberIds: [bob.id] }),
      bob.call('POST', '/v1/conversations', { memberIds: [ann.id] }),
      ann.call('POST', '/v1/conversations', { memberIds: [bob.id, bob.id] }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.conversation.id)).size).toBe(1);
  });

  it('refuses a chat with nobody else or with unknown users', async () => {
    const ann = await signUp(server.url);
    expectError(await ann.call('POST', '/v1/conversations', { memberIds: [ann.id] }), 400, 'invalid_request');
    expectError(await ann.call('POST', '/v1/conversations', { memberIds: ['u_doesnotexist'] }), 400, 'invalid_request');
    expectError(await ann.call('POST', '/v1/conversations', { memberIds: [] }), 400, 'invalid_request');
  });
});

describe('groups', () => {
  it('are created with title and members (201), a new one every time', async () => {
    const [ann, bob, cat] = await signUpMany(server, 3);
    const res = await ann.call('POST', '/v1/conversations', { memberIds: [bob.id, cat.id], title: 'Trip' });
    expect(res.status).toBe(201);
    expect(res.body.conversation).toMatchObject({ kind: 'group', title: 'Trip', lastSeq: 0, unreadCount: 0 });
    expect(res.body.conversation.members.map((m: any) => m.userId).sort()).toEqual([ann.id, bob.id, cat.id].sort());
    // One other member plus a title is a group too, and a second call is another group.
    const g1 = await ann.call('POST', '/v1/conversations', { memberIds: [bob.id], title: 'Pair' });
    const g2 = await ann.call('POST', '/v1/conversations', { memberIds: [bob.id], title: 'Pair' });
    expect([g1.status, g2.status]).toEqual([201, 201]);
    expect(g1.body.conversation.kind).toBe('group');
    expect(g1.body.conversation.id).not.toBe(g2.body.conversation.id);
  });

  it('cannot exceed maxGroupMembers on create or add', async () => {
    const [ann, bob, cat, dan] = await signUpMany(server, 4);
    expectError(
      await ann.call('POST', '/v1/conversations', { memberIds: [bob.id, cat.id, dan.id], title: 'Too many' }),
      400,
      'invalid_request',
    );
    const id = await createGroup(ann, [bob], 'Small');
    const added = await ann.call('POST', `/v1/conversations/${id}/members`, { userIds: [cat.id] });
    expect(added.status).toBe(200);
    expect(added.body.conversation.members.map((m: any) => m.userId).sort()).toEqual([ann.id, bob.id, cat.id].sort());
    expectError(
      await ann.call('POST', `/v1/conversations/${id}/members`, { userIds: [dan.id] }),
      400,
      'invalid_request',
    );
    // Adding someone already in is not growth.
    expect((await ann.call('POST', `/v1/conversations/${id}/members`, { userIds: [bob.id] })).status).toBe(200);
    expect((await dan.call('GET', `/v1/conversations/${id}`)).status).toBe(404);
  });

  it('adding members to a direct chat is refused', async () => {
    const [ann, bob, cat] = await signUpMany(server, 3);
    const res = await ann.call('POST', '/v1/conversations', { memberIds: [bob.id] });
    expectError(
      await ann.call('POST', `/v1/conversations/${res.body.conversation.id}/members`, { userIds: [cat.id] }),
      400,
      'invalid_request',
    );
    expectError(
      await ann.call('DELETE', `/v1/conversations/${res.body.conversation.id}/members/me`),
      400,
      'invalid_request',
    );
  });

  it('leave answers 204, then the group is 404 to the leaver and the others see them gone', async () => {
    const [ann, bob, cat] = await signUpMany(server, 3);
    const id = await createGroup(ann, [bob, cat]);
    await sendHttp(ann, id, 'before leaving');
    const left = await bob.call('DELETE', `/v1/conversations/${id}/members/me`);
    expect(left.status).toBe(204);
    expect(left.body).toBeNull();
    expectError(await bob.call('GET', `/v1/conversations/${id}`), 404, 'not_found');
    expectError(await bob.call('GET', `/v1/conversations/${id}/messages`), 404, 'not_found');
    expectError(await bob.call('DELETE', `/v1/conversations/${id}/members/me`), 404, 'not_found');
    expect((await bob.call('GET', '/v1/conversations')).body.conversations.map((c: any) => c.id)).not.toContain(id);
    const view = await ann.call('GET', `/v1/conversations/${id}`);
    expect(view.body.conversation.members.map((m: any) => m.userId).sort()).toEqual([ann.id, cat.id].sort());
  });
});

describe('GetChats', () => {
  let me: TestUser;
  const ids: string[] = [];
  let lastOfThird = 0;
  beforeAll(async () => {
    me = await signUp(server.url);
    for (let i = 0; i < 7; i++) {
      const other = await signUp(server.url);
      const res = await me.call('POST', '/v1/conversations', { memberIds: [other.id] });
      ids.push(res.body.conversation.id);
      if (i === 2) {
        // The third chat gets messages from the other side: unread for me.
        await sendHttp(other, res.body.conversation.id, 'one');
        lastOfThird = (await sendHttp(other, res.body.conversation.id, 'two')).seq;
      }
      await sleep(3);
    }
  });

  it('lists newest activity first with lastMessage and unreadCount', async () => {
    const res = await me.call('GET', '/v1/conversations');
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.conversations.map((c: any) => c.id)).toEqual([...ids].reverse());
    const third = res.body.conversations.find((c: any) => c.id === ids[2]);
    expect(third.lastSeq).toBe(lastOfThird);
    expect(third.lastMessage).toMatchObject({ seq: lastOfThird, body: 'two' });
    expect(third.unreadCount).toBe(2);
    expect(res.body.conversations.find((c: any) => c.id === ids[0]).lastMessage).toBeNull();

    // Activity moves a chat to the top.
    await sleep(3);
    await sendHttp(me, ids[0]!, 'bump');
    const after = await me.call('GET', '/v1/conversations');
    expect(after.body.conversations[0].id).toBe(ids[0]);
    expect(after.body.conversations[0].lastMessage.body).toBe('bump');
    expect(after.body.conversations[0].unreadCount).toBe(0);
  });

  it('pages with limit and cursor through every chat once', async () => {
    const full = (await me.call('GET', '/v1/conversations')).body.conversations.map((c: any) => c.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await me.call(
        'GET',
        `/v1/conversations?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.conversations.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.conversations.map((c: any) => c.id));
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(pages).toBe(4);
    expect(seen).toEqual(full);
    expect(new Set(seen).size).toBe(7);
  });

  it('validates limit', async () => {
    expectError(await me.call('GET', '/v1/conversations?limit=0'), 400, 'invalid_request');
    expectError(await me.call('GET', '/v1/conversations?limit=201'), 400, 'invalid_request');
    expectError(await me.call('GET', '/v1/conversations?limit=abc'), 400, 'invalid_request');
  });
});

describe('detail and settings', () => {
  it('GET one conversation returns the caller view', async () => {
    const [ann, bob] = await signUpMany(server, 2);
    const id = await createGroup(ann, [bob], 'Detail');
    const { seq } = await sendHttp(bob, id, 'hello ann');
    const res = await ann.call('GET', `/v1/conversations/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.conversation).toMatchObject({
      id,
      kind: 'group',
      title: 'Detail',
      lastSeq: seq,
      unreadCount: 1,
      muted: false,
    });
    expect(res.body.conversation.lastMessage).toMatchObject({ seq, body: 'hello ann', senderId: bob.id });
    expect((await bob.call('GET', `/v1/conversations/${id}`)).body.conversation.unreadCount).toBe(0);
    expectError(await ann.call('GET', '/v1/conversations/c_nosuchthing'), 404, 'not_found');
  });

  it('mute is per member via PUT settings', async () => {
    const [ann, bob] = await signUpMany(server, 2);
    const id = (await ann.call('POST', '/v1/conversations', { memberIds: [bob.id] })).body.conversation.id;
    const res = await ann.call('PUT', `/v1/conversations/${id}/settings`, { muted: true });
    expect(res.status).toBe(200);
    expect(res.body.conversation.muted).toBe(true);
    expect((await ann.call('GET', `/v1/conversations/${id}`)).body.conversation.muted).toBe(true);
    expect((await bob.call('GET', `/v1/conversations/${id}`)).body.conversation.muted).toBe(false);
    expect((await ann.call('PUT', `/v1/conversations/${id}/settings`, { muted: false })).body.conversation.muted).toBe(
      false,
    );
    expectError(await ann.call('PUT', `/v1/conversations/${id}/settings`, { muted: 'yes' }), 400, 'invalid_request');
  });
});

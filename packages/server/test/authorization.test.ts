// A non-member can neither read nor write a conversation, nor learn that it exists: 404 everywhere.
// A blocked user, a member who is no admin and a user who is no operator each get 403 on what the
// safety rules keep from them; another user's sessions and keys are 404, as if missing.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createGroup,
  directChat,
  expectError,
  expectErrorOn,
  friends,
  online,
  type Route,
  sendHttp,
  serverForFile,
  signUpMany,
  signUpWithPassword,
  type TestUser,
  uniqueName,
} from './harness.js';

const server = serverForFile();
let ann: TestUser;
let bob: TestUser;
let eve: TestUser;
let group: string;
let direct: string;
let messageId: string;
let messageSeq: number;
beforeAll(async () => {
  [direct, ann, bob, eve] = await friends(server, 3);
  group = await createGroup(ann, [bob], 'secret');
  ({ id: messageId, seq: messageSeq } = await sendHttp(ann, group, 'secret words'));
  await sendHttp(ann, direct, 'direct secret words');
});

function routes(conv: string, msg: string): Route[] {
  return [
    ['GET', `/v1/conversations/${conv}`],
    ['POST', `/v1/conversations/${conv}/members`, { userIds: [eve.id] }],
    ['DELETE', `/v1/conversations/${conv}/members/me`],
    ['PUT', `/v1/conversations/${conv}/settings`, { muted: true }],
    ['POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'intrude', body: 'hi' }],
    ['GET', `/v1/conversations/${conv}/messages`],
    ['GET', `/v1/conversations/${conv}/messages?afterSeq=0`],
    ['PATCH', `/v1/conversations/${conv}/messages/${msg}`, { body: 'changed' }],
    ['DELETE', `/v1/conversations/${conv}/messages/${msg}?for=everyone`],
    ['DELETE', `/v1/conversations/${conv}/messages/${msg}?for=me`],
    ['PUT', `/v1/conversations/${conv}/messages/${msg}/reaction`, { emoji: '👍' }],
    ['DELETE', `/v1/conversations/${conv}/messages/${msg}/reaction`],
    ['POST', `/v1/conversations/${conv}/read`, { seq: 1 }],
    ['POST', `/v1/conversations/${conv}/typing`],
    ['GET', `/v1/search?q=secret&conversationId=${conv}`],
    ['POST', `/v1/conversations/${conv}/accept`],
    ['POST', `/v1/conversations/${conv}/decline`],
    ['PATCH', `/v1/conversations/${conv}`, { title: 'taken over' }],
    ['PUT', `/v1/conversations/${conv}/members/${bob.id}`, { role: 'admin' }],
    ['DELETE', `/v1/conversations/${conv}/members/${bob.id}`],
    ['POST', '/v1/reports', { conversationId: conv, reason: 'nosy' }],
    ['POST', '/v1/reports', { conversationId: conv, messageId: msg, reason: 'nosy' }],
  ];
}

describe('non-member over HTTP', () => {
  it('gets 404 not_found on every conversation route, the same as for a conversation that does not exist', async () => {
    for (const conv of [group, direct]) await expectErrorOn(eve, routes(conv, messageId), 404, 'not_found');
    // Indistinguishable from a missing conversation.
    await expectErrorOn(eve, routes('c_doesnotexist', 'm_doesnotexist'), 404, 'not_found');
  });

  it('changed nothing', async () => {
    const history = (await ann.call('GET', `/v1/conversations/${group}/messages`)).body.messages;
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      id: messageId,
      body: 'secret words',
      deletedAt: null,
      editedAt: null,
      reactions: [],
    });
    const c = (await ann.call('GET', `/v1/conversations/${group}`)).body.conversation;
    expect(c.members.map((m: any) => m.userId).sort()).toEqual([ann.id, bob.id].sort());
    expect(c.lastSeq).toBe(messageSeq);
    // Global search does not leak either.
    const search = await eve.call('GET', '/v1/search?q=secret');
    expect(search.status).toBe(200);
    expect(search.body.results).toEqual([]);
    expect((await eve.call('GET', '/v1/conversations')).body.conversations).toEqual([]);
  });

  it('a member cannot reach a message through another conversation id', async () => {
    const other = await directChat(bob, eve);
    const message = `/v1/conversations/${other}/messages/${messageId}`;
    await expectErrorOn(
      eve,
      [
        ['PATCH', message, { body: 'x' }],
        ['DELETE', `${message}?for=me`],
        ['PUT', `${message}/reaction`, { emoji: '👍' }],
      ],
      404,
      'not_found',
    );
  });
});

describe('non-member over WS', () => {
  it('gets not_found for send, read, delivered and typing, and no events', async () => {
    const [ws, annWs] = await online(server, eve, ann);
    for (const conv of [group, direct]) {
      const frames: [string, Record<string, unknown>][] = [
        ['send', { conversationId: conv, clientMsgId: 'ws-intrude', body: 'hi' }],
        ['read', { conversationId: conv, seq: 1 }],
        ['delivered', { conversationId: conv, seq: 1 }],
        ['typing', { conversationId: conv }],
      ];
      for (const [type, fields] of frames) {
        const reply = await ws.request(type, fields);
        expect(reply).toMatchObject({ type: 'reply', ok: false, error: { code: 'not_found' } });
      }
    }
    await sendHttp(bob, group, 'after the attempts');
    await annWs.waitForEvent('message.created');
    expect(await ws.settle()).toEqual([]);
    // Ann saw no typing, receipt or message from Eve.
    expect(annWs.events().filter((e) => e.userId === eve.id || e.message?.senderId === eve.id)).toEqual([]);
    ws.close();
    annWs.close();
  });
});

/** Asserts each [method, url, body, status, code] of `rows` as `user`, naming the route that failed. */
async function expectAnswers(user: TestUser, rows: [string, string, unknown, number, string][]): Promise<void> {
  for (const [method, url, body, status, code] of rows) {
    const res = await user.call(method, url, body);
    try {
      expectError(res, status, code);
    } catch (error) {
      throw new Error(`${method} ${url}: ${(error as Error).message}`);
    }
  }
}

describe('a blocked user', () => {
  it('gets 403 on sends, adds and new chats with the blocker, over HTTP and WS; unblocking restores them', async () => {
    const [chat, kim, lee, max] = await friends(server, 3);
    const leesGroup = await createGroup(lee, [max], 'lee');
    expect((await kim.call('PUT', `/v1/blocks/${lee.id}`)).status).toBe(204);
    await expectAnswers(lee, [
      ['POST', `/v1/conversations/${chat}/messages`, { clientMsgId: uniqueName('c'), body: 'hi' }, 403, 'forbidden'],
      ['POST', '/v1/conversations', { memberIds: [kim.id] }, 403, 'forbidden'],
      ['POST', '/v1/conversations', { memberIds: [kim.id, max.id], title: 'with kim' }, 403, 'forbidden'],
      ['POST', `/v1/conversations/${leesGroup}/members`, { userIds: [kim.id] }, 403, 'forbidden'],
    ]);
    // The blocker cannot open a chat or add the one they blocked either: the block stands between them.
    await expectAnswers(kim, [['POST', '/v1/conversations', { memberIds: [lee.id] }, 403, 'forbidden']]);
    const [ws] = await online(server, lee);
    const reply = await ws.request('send', { conversationId: chat, clientMsgId: uniqueName('c'), body: 'hi' });
    expect(reply).toMatchObject({ type: 'reply', ok: false, error: { code: 'forbidden' } });
    ws.close();
    // Blocks are the caller's own list: another user's is not reachable, and a missing user is 404.
    expect((await lee.call('GET', '/v1/blocks')).body.users).toEqual([]);
    expectError(await lee.call('PUT', '/v1/blocks/u_doesnotexist'), 404, 'not_found');
    expect((await kim.call('DELETE', `/v1/blocks/${lee.id}`)).status).toBe(204);
    await sendHttp(lee, chat, 'after the unblock');
  });
});

describe('a member who is not an admin', () => {
  it('gets 403 on renaming, settings, roles and removing members; adds only while membersCanAdd', async () => {
    const [owner, member, other, outsider] = await signUpMany(server, 4);
    const team = await createGroup(owner, [member, other], 'team');
    await expectAnswers(member, [
      ['PATCH', `/v1/conversations/${team}`, { title: 'mine now' }, 403, 'forbidden'],
      ['PATCH', `/v1/conversations/${team}`, { membersCanAdd: false }, 403, 'forbidden'],
      ['PUT', `/v1/conversations/${team}/members/${member.id}`, { role: 'admin' }, 403, 'forbidden'],
      ['PUT', `/v1/conversations/${team}/members/${owner.id}`, { role: 'member' }, 403, 'forbidden'],
      ['DELETE', `/v1/conversations/${team}/members/${owner.id}`, undefined, 403, 'forbidden'],
      ['DELETE', `/v1/conversations/${team}/members/${other.id}`, undefined, 403, 'forbidden'],
    ]);
    expect((await owner.call('PATCH', `/v1/conversations/${team}`, { membersCanAdd: false })).status).toBe(200);
    await expectAnswers(member, [
      ['POST', `/v1/conversations/${team}/members`, { userIds: [outsider.id] }, 403, 'forbidden'],
    ]);
    const view = (await owner.call('GET', `/v1/conversations/${team}`)).body.conversation;
    expect(view).toMatchObject({ title: 'team', membersCanAdd: false });
    expect(Object.fromEntries(view.members.map((m: any) => [m.userId, m.role]))).toEqual({
      [owner.id]: 'admin',
      [member.id]: 'member',
      [other.id]: 'member',
    });
    // A direct chat has no roles or settings: 400 for either member, not a 403 that hints at an admin.
    const pair = await directChat(member, other);
    await expectAnswers(member, [
      ['DELETE', `/v1/conversations/${pair}/members/${other.id}`, undefined, 400, 'invalid_request'],
      ['PATCH', `/v1/conversations/${pair}`, { title: 'ours' }, 400, 'invalid_request'],
    ]);
  });
});

describe('a user who is not an operator', () => {
  it('gets 403 on every admin route, whether or not the target exists', async () => {
    for (const target of [bob.id, 'u_doesnotexist']) {
      await expectAnswers(ann, [
        ['GET', '/v1/admin/reports', undefined, 403, 'forbidden'],
        ['POST', `/v1/admin/users/${target}/suspend`, { reason: 'spam' }, 403, 'forbidden'],
        ['DELETE', `/v1/admin/users/${target}/suspend`, undefined, 403, 'forbidden'],
      ]);
    }
    expect((await bob.call('GET', '/v1/me')).status).toBe(200);
  });
});

describe("another user's sessions and API keys", () => {
  it('are 404 to end or revoke, as if missing, and keep working', async () => {
    const password = 'correct horse battery';
    const owner = (await signUpWithPassword(server.url, password, uniqueName('acct'))).call;
    const [sessionId] = (await owner('GET', '/v1/sessions')).body.sessions.map((s: any) => s.id);
    const key = await owner('POST', '/v1/me/api-keys', { name: 'bot' });
    expect(key.status).toBe(201);
    const keyId = (await owner('GET', '/v1/me/api-keys')).body.apiKeys[0].id;
    expect(sessionId).toBeTruthy();
    await expectAnswers(eve, [
      ['DELETE', `/v1/sessions/${sessionId}`, undefined, 404, 'not_found'],
      ['DELETE', `/v1/me/api-keys/${keyId}`, undefined, 404, 'not_found'],
      ['DELETE', `/v1/me/api-keys/${sessionId}`, undefined, 404, 'not_found'],
      ['DELETE', `/v1/sessions/${keyId}`, undefined, 404, 'not_found'],
    ]);
    expect((await owner('GET', '/v1/me')).status).toBe(200);
    expect((await owner('GET', '/v1/me/api-keys')).body.apiKeys).toHaveLength(1);
    expect((await owner('GET', '/v1/sessions')).body.sessions).toHaveLength(1);
  });
});

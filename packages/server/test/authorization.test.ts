// A non-member can neither read nor write a conversation, nor learn that it exists: 404 everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGroup,
  directChat,
  expectError,
  RawSocket,
  sendHttp,
  signUp,
  startTestServer,
  type TestUser,
} from './harness.js';

let server: Awaited<ReturnType<typeof startTestServer>>;
let ann: TestUser;
let bob: TestUser;
let eve: TestUser;
let group: string;
let direct: string;
let messageId: string;
let messageSeq: number;
beforeAll(async () => {
  server = await startTestServer();
  [ann, bob, eve] = [await signUp(server.url), await signUp(server.url), await signUp(server.url)];
  group = await createGroup(ann, [bob], 'secret');
  direct = await directChat(ann, bob);
  ({ id: messageId, seq: messageSeq } = await sendHttp(ann, group, 'secret words'));
  await sendHttp(ann, direct, 'direct secret words');
});
afterAll(async () => {
  await server.close();
});

function routes(conv: string, msg: string): [string, string, unknown?][] {
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
  ];
}

describe('non-member over HTTP', () => {
  it('gets 404 not_found on every conversation route, the same as for a conversation that does not exist', async () => {
    for (const conv of [group, direct]) {
      for (const [method, url, body] of routes(conv, messageId)) {
        const res = await eve.call(method, url, body);
        try {
          expectError(res, 404, 'not_found');
        } catch (error) {
          throw new Error(`${method} ${url}: ${(error as Error).message}`);
        }
      }
    }
    // Indistinguishable from a missing conversation.
    for (const [method, url, body] of routes('c_doesnotexist', 'm_doesnotexist')) {
      const missing = await eve.call(method, url, body);
      expectError(missing, 404, 'not_found');
    }
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
    expectError(
      await eve.call('PATCH', `/v1/conversations/${other}/messages/${messageId}`, { body: 'x' }),
      404,
      'not_found',
    );
    expectError(await eve.call('DELETE', `/v1/conversations/${other}/messages/${messageId}?for=me`), 404, 'not_found');
    expectError(
      await eve.call('PUT', `/v1/conversations/${other}/messages/${messageId}/reaction`, { emoji: '👍' }),
      404,
      'not_found',
    );
  });
});

describe('non-member over WS', () => {
  it('gets not_found for send, read, delivered and typing, and no events', async () => {
    const ws = await RawSocket.open(server.url, eve.apiKey);
    const annWs = await RawSocket.open(server.url, ann.apiKey);
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

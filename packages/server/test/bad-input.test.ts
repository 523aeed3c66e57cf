// Bad input on every HTTP route: malformed JSON, wrong types, missing fields, bad ids -> 400 with the
// contract body, never a 5xx, never partial state.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bodyRoutes,
  createGroup,
  expectError,
  expectErrorOn,
  type Route,
  sendHttp,
  serverForFile,
  usersForFile,
} from './harness.js';

const server = serverForFile();
const [ann, bob] = usersForFile(server, 2);
let conv: string;
let msg: string;
beforeAll(async () => {
  conv = await createGroup(ann, [bob], 'inputs');
  msg = (await sendHttp(ann, conv, 'target')).id;
});

const json = { 'content-type': 'application/json' };

describe('malformed JSON', () => {
  it('answers 400 invalid_request with the contract body on every route that takes a body', async () => {
    for (const [method, url] of bodyRoutes(conv, msg)) {
      for (const raw of ['{"body": ', '{bad json}', 'null x', '\u0000']) {
        const res = await ann.call(method, url, raw, json);
        try {
          expectError(res, 400, 'invalid_request');
        } catch (error) {
          throw new Error(`${method} ${url} ${JSON.stringify(raw)}: ${(error as Error).message}`);
        }
      }
      // A body that is not JSON at all.
      expectError(await ann.call(method, url, 'hello', { 'content-type': 'text/plain' }), 400, 'invalid_request');
    }
  });
});

describe('wrong types and missing fields', () => {
  const cases = (): [string, string, unknown][] => [
    ['POST', '/v1/users', { username: ['abc'] }],
    ['PUT', '/v1/me/settings', {}],
    ['PUT', '/v1/me/settings', { presenceVisible: 'false' }],
    ['POST', '/v1/conversations', {}],
    ['POST', '/v1/conversations', { memberIds: bob.id }],
    ['POST', '/v1/conversations', { memberIds: [123] }],
    ['POST', '/v1/conversations', { memberIds: ['has space'] }],
    ['POST', '/v1/conversations', { memberIds: [bob.id], title: 5 }],
    ['POST', '/v1/conversations', { memberIds: [bob.id], title: 't'.repeat(129) }],
    ['POST', '/v1/conversations', []],
    ['POST', `/v1/conversations/${conv}/members`, {}],
    ['POST', `/v1/conversations/${conv}/members`, { userIds: [] }],
    ['POST', `/v1/conversations/${conv}/members`, { userIds: ['bad/id'] }],
    ['PUT', `/v1/conversations/${conv}/settings`, {}],
    ['PUT', `/v1/conversations/${conv}/settings`, { muted: 1 }],
    ['POST', `/v1/conversations/${conv}/messages`, {}],
    ['POST', `/v1/conversations/${conv}/messages`, { body: 'no id' }],
    ['POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'x' }],
    ['POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 7, body: 'x' }],
    ['POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'x', body: 42 }],
    ['POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'x', body: 'x', replyToId: 5 }],
    ['POST', `/v1/conversations/${conv}/messages`, 'just a string'],
    ['PATCH', `/v1/conversations/${conv}/messages/${msg}`, {}],
    ['PATCH', `/v1/conversations/${conv}/messages/${msg}`, { body: '' }],
    ['PATCH', `/v1/conversations/${conv}/messages/${msg}`, { body: null }],
    ['PUT', `/v1/conversations/${conv}/messages/${msg}/reaction`, {}],
    ['PUT', `/v1/conversations/${conv}/messages/${msg}/reaction`, { emoji: 1 }],
    ['POST', `/v1/conversations/${conv}/read`, {}],
    ['POST', `/v1/conversations/${conv}/read`, { seq: 'one' }],
    // Text holding U+0000, which PostgreSQL's text cannot store (a cluster's persister would stall on it).
    ['POST', '/v1/users', { username: 'nul_user_x', displayName: 'a\u0000b' }],
    ['POST', '/v1/conversations', { memberIds: [bob.id], title: 'a\u0000b' }],
    ['POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'nul', body: 'a\u0000b' }],
    ['POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'n\u0000', body: 'ok' }],
    ['PATCH', `/v1/conversations/${conv}/messages/${msg}`, { body: 'a\u0000b' }],
    ['PUT', `/v1/conversations/${conv}/messages/${msg}/reaction`, { emoji: '\u0000' }],
    [
      'POST',
      '/v1/push/subscriptions',
      { endpoint: 'https://fcm.googleapis.com/fcm/send/x', keys: { p256dh: 'a\u0000', auth: 'b' } },
    ],
  ];

  it('answer 400 invalid_request', async () => {
    for (const [method, url, body] of cases()) {
      const res = await ann.call(method, url, body);
      try {
        expectError(res, 400, 'invalid_request');
      } catch (error) {
        throw new Error(`${method} ${url} ${JSON.stringify(body)}: ${(error as Error).message}`);
      }
    }
  });

  it('answer 400 for bad query values', async () => {
    const urls = [
      '/v1/users?username=',
      `/v1/conversations/${conv}/messages?limit=-5`,
      `/v1/conversations/${conv}/messages?afterSeq=1e3`,
      `/v1/conversations/${conv}/messages/${msg}?for=everybody`,
      `/v1/conversations/${conv}/messages/${msg}`,
      '/v1/presence',
      '/v1/presence?userIds=',
      '/v1/presence?userIds=bad%20id',
      '/v1/search',
      '/v1/search?q=',
      '/v1/search?q=%20%20',
      `/v1/search?q=${'q'.repeat(257)}`,
      '/v1/search?q=hello&limit=101',
      '/v1/search?q=hello&conversationId=bad%2Fid',
      '/v1/conversations?cursor=',
      '/v1/users?username=a%00b',
      '/v1/search?q=a%00b',
      '/v1/conversations?cursor=a%00b',
    ];
    for (const url of urls) {
      const method = url.includes('?for=') || url.endsWith(msg) ? 'DELETE' : 'GET';
      const res = await ann.call(method, url);
      try {
        expectError(res, 400, 'invalid_request');
      } catch (error) {
        throw new Error(`${method} ${url}: ${(error as Error).message}`);
      }
    }
  });

  it('answer 400 for malformed path ids', async () => {
    const badConv = encodeURIComponent('bad id!');
    const longId = 'c'.repeat(65);
    for (const id of [badConv, longId, encodeURIComponent('ü')]) {
      const routes: Route[] = [
        ['GET', `/v1/conversations/${id}`],
        ['GET', `/v1/conversations/${id}/messages`],
        ['POST', `/v1/conversations/${id}/messages`, { clientMsgId: 'p', body: 'x' }],
        ['PATCH', `/v1/conversations/${conv}/messages/${id}`, { body: 'x' }],
      ];
      await expectErrorOn(ann, routes, 400, 'invalid_request');
    }
  });

  it('left nothing behind', async () => {
    const history = (await ann.call('GET', `/v1/conversations/${conv}/messages`)).body.messages;
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ id: msg, body: 'target', editedAt: null, reactions: [] });
    const c = (await ann.call('GET', `/v1/conversations/${conv}`)).body.conversation;
    expect(c.members).toHaveLength(2);
    expect(c.muted).toBe(false);
    expect((await ann.call('GET', '/v1/conversations')).body.conversations).toHaveLength(1);
    expect((await ann.call('GET', '/healthz')).status).toBe(200);
  });
});

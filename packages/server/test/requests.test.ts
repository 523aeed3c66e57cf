// Message requests: a chat opened by a stranger lands in Requests until accepted or answered;
// until then the stranger sees no receipts, typing or presence of the recipient. Both modes.
import { describe, expect, it } from 'vitest';
import {
  directChat,
  RawSocket,
  sendHttp,
  serverForFile,
  signUpMany,
  sleep,
  storeCaughtUp,
  type TestUser,
} from './harness.js';

const server = serverForFile({ presenceCoalesceMs: 50 });

const ids = (res: { body: any }) => res.body.conversations.map((c: any) => c.id);
const presenceOf = async (viewer: TestUser, user: TestUser) =>
  (await viewer.call('GET', `/v1/presence?userIds=${user.id}`)).body.presence[user.id];

describe('message requests', () => {
  it('a stranger’s chat is a request: listed apart, no receipts, typing or presence until accepted', async () => {
    const [ann, bob] = await signUpMany(server, 2);
    const id = await directChat(ann, bob, { requestStays: true });
    const m = await sendHttp(ann, id, 'hello from a stranger');
    await storeCaughtUp(server.url);

    expect(ids(await bob.call('GET', '/v1/conversations'))).not.toContain(id);
    const requests = await bob.call('GET', '/v1/conversations?requests=true');
    expect(ids(requests)).toEqual([id]);
    expect(requests.body.conversations[0]).toMatchObject({ request: true, unreadCount: 1 });
    expect((await ann.call('GET', `/v1/conversations/${id}`)).body.conversation.request).toBe(false);
    expect(ids(await ann.call('GET', '/v1/conversations'))).toContain(id);

    const annWs = await RawSocket.open(server.url, ann.apiKey);
    const bobWs = await RawSocket.open(server.url, bob.apiKey);
    // Not contacts yet: neither sees the other's presence.
    expect(await presenceOf(ann, bob)).toBeUndefined();
    await bobWs.request('delivered', { conversationId: id, seq: m.seq });
    await bob.call('POST', `/v1/conversations/${id}/read`, { seq: m.seq });
    await bobWs.request('typing', { conversationId: id });
    await sleep(300);
    expect(annWs.events('receipt.read')).toEqual([]);
    expect(annWs.events('receipt.delivered')).toEqual([]);
    expect(annWs.events('typing')).toEqual([]);
    await storeCaughtUp(server.url);
    const seenByAnn = (await ann.call('GET', `/v1/conversations/${id}`)).body.conversation;
    expect(seenByAnn.members.find((x: any) => x.userId === bob.id)).toMatchObject({ readSeq: 0, deliveredSeq: 0 });
    // Bob's own view keeps his read position.
    expect((await bob.call('GET', `/v1/conversations/${id}`)).body.conversation.unreadCount).toBe(0);

    const accepted = await bob.call('POST', `/v1/conversations/${id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body.conversation.request).toBe(false);
    expect(ids(await bob.call('GET', '/v1/conversations'))).toContain(id);
    expect(ids(await bob.call('GET', '/v1/conversations?requests=true'))).not.toContain(id);
    await annWs.waitForEvent(
      'conversation.updated',
      (e) => e.conversation.members.find((x: any) => x.userId === bob.id)?.readSeq === m.seq,
    );
    await sleep(150); // typing is throttled per 2 s from the first call, which was dropped
    await bobWs.request('typing', { conversationId: id });
    expect(await presenceOf(ann, bob)).toMatchObject({ status: 'online' });
    annWs.close();
    bobWs.close();
  });

  it('answering a request accepts it; a contact’s new chat is no request', async () => {
    const [ann, bob, cid] = await signUpMany(server, 3);
    const id = await directChat(ann, bob, { requestStays: true });
    await sendHttp(bob, id, 'hi back');
    await storeCaughtUp(server.url);
    expect((await bob.call('GET', `/v1/conversations/${id}`)).body.conversation.request).toBe(false);
    // Ann and Bob are contacts now: a group Ann makes with Bob is no request for him, but is for Cid.
    const group = await ann.call('POST', '/v1/conversations', { memberIds: [bob.id, cid.id], title: 'g' });
    expect((await bob.call('GET', `/v1/conversations/${group.body.conversation.id}`)).body.conversation.request).toBe(
      false,
    );
    expect((await cid.call('GET', `/v1/conversations/${group.body.conversation.id}`)).body.conversation.request).toBe(
      true,
    );
  });

  it('decline hides a direct chat and leaves a group; both are 404 for non-members', async () => {
    const [ann, bob, eve] = await signUpMany(server, 3);
    const id = await directChat(ann, bob, { requestStays: true });
    expect((await bob.call('POST', `/v1/conversations/${id}/decline`)).status).toBe(204);
    expect(ids(await bob.call('GET', '/v1/conversations?requests=true'))).not.toContain(id);
    expect(ids(await bob.call('GET', '/v1/conversations'))).not.toContain(id);
    const group = (await ann.call('POST', '/v1/conversations', { memberIds: [bob.id], title: 'g' })).body.conversation
      .id;
    expect((await bob.call('POST', `/v1/conversations/${group}/decline`)).status).toBe(204);
    expect((await bob.call('GET', `/v1/conversations/${group}`)).status).toBe(404);
    expect((await eve.call('POST', `/v1/conversations/${id}/accept`)).status).toBe(404);
    expect((await eve.call('POST', `/v1/conversations/${id}/decline`)).status).toBe(404);
  });
});

// Read and delivered receipts over HTTP and WS, their events, unreadCount; events reach every
// device of every member, the sender's other devices included.
import { describe, expect, it } from 'vitest';
import { createGroup, expectError, friends, online, sendHttp, serverForFile, signUp, signUpMany } from './harness.js';

const server = serverForFile();

const memberOf = (conversation: any, userId: string) => conversation.members.find((m: any) => m.userId === userId);

/**
 * Ann and Bob in a direct chat where Ann has sent `count` messages, both connected: s[n] is the seq
 * of the n-th message (n embedded; with gaps in a cluster).
 */
async function chatWithMessages(count: number) {
  const [conv, ann, bob] = await friends(server);
  const s = [0];
  for (let i = 1; i <= count; i++) s.push((await sendHttp(ann, conv, `m${i}`)).seq);
  const [annWs, bobWs] = await online(server, ann, bob);
  return { ann, bob, conv, s, annWs, bobWs };
}

describe('read receipts', () => {
  it('readSeq = max(old, min(seq, lastSeq)) over HTTP, with receipt.read events and unreadCount', async () => {
    const { ann, bob, conv, s, annWs, bobWs } = await chatWithMessages(5);
    const view = async () => (await bob.call('GET', `/v1/conversations/${conv}`)).body.conversation;
    expect((await view()).unreadCount).toBe(5);
    expect(memberOf(await view(), bob.id).readSeq).toBe(0);
    // The sender has read its own messages.
    expect(memberOf(await view(), ann.id).readSeq).toBe(s[5]);

    const read = await bob.call('POST', `/v1/conversations/${conv}/read`, { seq: s[3]! });
    expect(read.status).toBe(204);
    expect(read.body).toBeNull();
    expect(memberOf(await view(), bob.id).readSeq).toBe(s[3]);
    expect((await view()).unreadCount).toBe(2);
    const event = await annWs.waitForEvent('receipt.read');
    expect(event).toEqual({ type: 'receipt.read', conversationId: conv, userId: bob.id, seq: s[3]! });
    await bobWs.waitForEvent('receipt.read', (e) => e.seq === s[3]);

    // Backwards is a no-op, past the end is clamped to lastSeq.
    expect((await bob.call('POST', `/v1/conversations/${conv}/read`, { seq: s[1]! })).status).toBe(204);
    expect(memberOf(await view(), bob.id).readSeq).toBe(s[3]);
    expect((await bob.call('POST', `/v1/conversations/${conv}/read`, { seq: 999 })).status).toBe(204);
    expect(memberOf(await view(), bob.id).readSeq).toBe(s[5]);
    expect((await view()).unreadCount).toBe(0);
    await annWs.waitForEvent('receipt.read', (e) => e.seq === s[5]);
    expect((await annWs.settle('receipt.read')).map((e) => e.seq)).toEqual([s[3], s[5]]);
    // Ann sees Bob's readSeq too.
    expect(memberOf((await ann.call('GET', `/v1/conversations/${conv}`)).body.conversation, bob.id).readSeq).toBe(s[5]);

    // New messages make unread again.
    await sendHttp(ann, conv, 'm6');
    expect((await view()).unreadCount).toBe(1);
    annWs.close();
    bobWs.close();
  });

  it('works over WS with the same rule and reply {}', async () => {
    const { bob, conv, s, annWs, bobWs } = await chatWithMessages(4);
    const r = await bobWs.request('read', { conversationId: conv, seq: s[2]! });
    expect(r).toEqual({ type: 'reply', id: expect.any(String), ok: true, result: {} });
    expect(await annWs.waitForEvent('receipt.read')).toEqual({
      type: 'receipt.read',
      conversationId: conv,
      userId: bob.id,
      seq: s[2]!,
    });
    await bobWs.request('read', { conversationId: conv, seq: 100 });
    await annWs.waitForEvent('receipt.read', (e) => e.seq === s[4]);
    const c = (await bob.call('GET', `/v1/conversations/${conv}`)).body.conversation;
    expect(memberOf(c, bob.id).readSeq).toBe(s[4]);
    expect(c.unreadCount).toBe(0);
    expect((await bobWs.request('read', { conversationId: conv, seq: -1 })).ok).toBe(false);
    annWs.close();
    bobWs.close();
  });

  it('validates the body', async () => {
    const [conv, , bob] = await friends(server);
    for (const body of [{}, { seq: -1 }, { seq: 1.5 }, { seq: '3' }, []]) {
      expectError(await bob.call('POST', `/v1/conversations/${conv}/read`, body), 400, 'invalid_request');
    }
  });
});

describe('delivered receipts', () => {
  it('over WS move deliveredSeq and emit receipt.delivered to members', async () => {
    const { ann, bob, conv, s, annWs, bobWs } = await chatWithMessages(3);
    expect((await bobWs.request('delivered', { conversationId: conv, seq: s[3]! })).ok).toBe(true);
    expect(await annWs.waitForEvent('receipt.delivered')).toEqual({
      type: 'receipt.delivered',
      conversationId: conv,
      userId: bob.id,
      seq: s[3]!,
    });
    const c = (await ann.call('GET', `/v1/conversations/${conv}`)).body.conversation;
    expect(memberOf(c, bob.id)).toMatchObject({ deliveredSeq: s[3], readSeq: 0 });
    // Delivered does not mark anything read.
    expect((await bob.call('GET', `/v1/conversations/${conv}`)).body.conversation.unreadCount).toBe(3);
    // Not past the end, not backwards: no new event.
    await bobWs.request('delivered', { conversationId: conv, seq: s[2]! });
    await bobWs.request('delivered', { conversationId: conv, seq: s[3]! });
    expect((await annWs.settle('receipt.delivered')).length).toBe(1);
    annWs.close();
    bobWs.close();
  });
});

describe('events reach every device', () => {
  it("message, receipt and reaction events go to all members' sockets, the sender's other devices included", async () => {
    const [ann, bob, cat] = await signUpMany(server, 3);
    const conv = await createGroup(ann, [bob, cat]);
    const [ann1, ann2, bob1, bob2, cat1] = await online(server, ann, ann, bob, bob, cat);
    const all = [ann1, ann2, bob1, bob2, cat1];
    const reply = await ann1.request('send', { conversationId: conv, clientMsgId: 'multi', body: 'to everyone' });
    const message = (reply as any).result.message;
    for (const s of all) {
      const e = await s.waitForEvent('message.created');
      expect(e).toEqual({ type: 'message.created', conversationId: conv, message });
    }
    await bob2.request('read', { conversationId: conv, seq: message.seq });
    for (const s of all)
      expect(await s.waitForEvent('receipt.read')).toMatchObject({ userId: bob.id, seq: message.seq });
    await cat.call('PUT', `/v1/conversations/${conv}/messages/${message.id}/reaction`, { emoji: '👍' });
    for (const s of all)
      expect(await s.waitForEvent('reaction.updated')).toMatchObject({
        userId: cat.id,
        emoji: '👍',
        messageId: message.id,
      });
    // Exactly once per socket.
    for (const s of all) expect((await s.settle('message.created', 50)).length).toBe(1);
    // An outsider's socket gets none of it.
    const outsider = await signUp(server.url);
    const [out] = await online(server, outsider);
    await sendHttp(bob, conv, 'private');
    await ann2.waitForEvent('message.created', (e) => e.message.body === 'private');
    expect(await out.settle()).toEqual([]);
    for (const s of [...all, out]) s.close();
  });
});

// A new chat's views are built from what its creation inserted (the creator's reply, and the
// fan-out's events from the log record) instead of read back: they must equal what the store reads,
// for each member (a stranger's request, a contact's accepted chat), and keep the log's order with
// later changes (a member removed at once hears nothing more). Both modes.
import { describe, expect, it } from 'vitest';
import { directChat, RawSocket, sendHttp, serverForFile, signUpMany, type TestUser } from './harness.js';

const server = serverForFile();

const read = async (user: TestUser, id: string) =>
  (await user.call('GET', `/v1/conversations/${id}`)).body.conversation;
const updateOf = (socket: RawSocket, id: string) =>
  socket.waitForEvent('conversation.updated', (e) => e.conversation.id === id, 10_000);

describe('a new chat as its members first see it', () => {
  it('the reply and every member’s event equal the views the store reads back', async () => {
    const [ann, bob, cat, dan] = await signUpMany(server, 4);
    await directChat(ann, cat); // cat is ann's contact: no request for cat; bob and dan are strangers.
    const sockets = await Promise.all([bob, cat, dan].map((u) => RawSocket.open(server.url, u.apiKey)));
    try {
      const res = await ann.call('POST', '/v1/conversations', { memberIds: [dan.id, bob.id, cat.id], title: 'Trip' });
      expect(res.status).toBe(201);
      const id = res.body.conversation.id;
      const events = await Promise.all(sockets.map((s) => updateOf(s, id)));
      expect(res.body.conversation).toEqual(await read(ann, id));
      expect(res.body.conversation).toMatchObject({ request: false, membersCanAdd: true, avatarUrl: null });
      expect(res.body.conversation.members.find((m: any) => m.userId === ann.id).role).toBe('admin');
      for (const [i, user] of [bob, cat, dan].entries()) expect(events[i].conversation).toEqual(await read(user, id));
      expect(events.map((e) => e.conversation.request)).toEqual([true, false, true]);

      // A direct chat: created (201) is built, an existing one (200) read; both equal the read view.
      const direct = await dan.call('POST', '/v1/conversations', { memberIds: [bob.id] });
      expect(direct.status).toBe(201);
      const bobsEvent = await updateOf(sockets[0]!, direct.body.conversation.id);
      expect(direct.body.conversation).toEqual(await read(dan, direct.body.conversation.id));
      expect(bobsEvent.conversation).toEqual(await read(bob, direct.body.conversation.id));
      expect(bobsEvent.conversation.request).toBe(true);
      const again = await bob.call('POST', '/v1/conversations', { memberIds: [dan.id] });
      expect(again.status).toBe(200);
      expect(again.body.conversation).toEqual(await read(bob, direct.body.conversation.id));
    } finally {
      for (const s of sockets) s.close();
    }
  });

  it('keeps log order with what follows at once: a member removed hears of it, then nothing more', async () => {
    const [ann, bob, cat] = await signUpMany(server, 3);
    const bobWs = await RawSocket.open(server.url, bob.apiKey);
    const catWs = await RawSocket.open(server.url, cat.apiKey);
    try {
      // Created, changed and written to before the fan-out may have read anything: in a cluster
      // these records can reach it in one batch.
      const res = await ann.call('POST', '/v1/conversations', { memberIds: [bob.id, cat.id], title: 'Three' });
      const id = res.body.conversation.id;
      expect((await ann.call('DELETE', `/v1/conversations/${id}/members/${cat.id}`)).status).toBe(204);
      const m = await sendHttp(ann, id, 'after cat left');
      await bobWs.waitForEvent('message.created', (e) => e.message.id === m.id, 10_000);

      const seen = (ws: RawSocket) =>
        ws
          .events()
          .filter((e) => e.conversationId === id || e.conversation?.id === id)
          .map((e) => (e.type === 'conversation.updated' ? e.conversation.members.map((x: any) => x.userId) : e.type));
      const three = [ann.id, bob.id, cat.id].sort();
      const two = [ann.id, bob.id].sort();
      const sorted = (xs: unknown) => (Array.isArray(xs) ? [...xs].sort() : xs);
      expect(seen(bobWs).map(sorted)).toEqual([three, two, 'message.created']);
      // cat: the chat as created, then as it is without cat; not the message.
      expect((await catWs.settle(undefined, 500)).length).toBeGreaterThan(0);
      expect(seen(catWs).map(sorted)).toEqual([three, two]);
    } finally {
      bobWs.close();
      catWs.close();
    }
  });
});

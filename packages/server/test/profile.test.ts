// One's own account over the real wire, in both modes: editing the profile (contacts hear
// user.updated, in a cluster on the other gateway too), deleting the account (credentials end,
// sockets close, the username is free, others see "Deleted account", and with deleteMessages the
// text leaves history and search), exporting one's data, and bad input.
import { CLOSE_CODES, DELETED_DISPLAY_NAME } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import {
  createGroup,
  directChat,
  eventually,
  expectError,
  friends,
  fullHistory,
  http,
  online,
  RawSocket,
  sendHttp,
  serverForFile,
  signUp,
  signUpMany,
  signUpWithPassword,
  uniqueName,
  via,
} from './harness.js';

const server = serverForFile();

const PASSWORD = 'correct horse battery staple';

const withPassword = (displayName?: string) => signUpWithPassword(server.url, PASSWORD, uniqueName('pf'), displayName);

describe('PATCH /v1/me', () => {
  it('renames; everyone who shares a conversation gets user.updated, on any gateway', async () => {
    const ann = await signUp(server.url, uniqueName('ann'), 'Ann');
    const [bob, stranger] = await signUpMany(server, 2);
    const chat = await directChat(ann, bob);
    // In a cluster, Bob listens on the other gateway from the one Ann calls.
    const [first, second] = [server.urls[0]!, server.urls.at(-1)!];
    const [bobSocket, strangerSocket] = await online(second, bob, stranger);
    const res = await via(ann, first).call('PATCH', '/v1/me', { displayName: '  Ann B.  ' });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({
      id: ann.id,
      username: ann.username,
      displayName: 'Ann B.',
      createdAt: expect.any(String),
      avatarUrl: null,
    });
    const event = await bobSocket.waitForEvent('user.updated');
    expect(event.user).toMatchObject({ id: ann.id, displayName: 'Ann B.', avatarUrl: null });
    expect((await ann.call('GET', '/v1/me')).body.user.displayName).toBe('Ann B.');
    const seen = await bob.call('GET', `/v1/conversations/${chat}`);
    expect(seen.body.conversation.members.find((m: any) => m.userId === ann.id).displayName).toBe('Ann B.');
    expect(await strangerSocket.settle('user.updated')).toEqual([]);
    bobSocket.close();
    strangerSocket.close();
  });

  it("takes avatarUploadId null; an upload that is not the caller's is 404 (attachments.test.ts sets one)", async () => {
    const ann = await signUp(server.url);
    const res = await ann.call('PATCH', '/v1/me', { avatarUploadId: null });
    expect(res.status).toBe(200);
    expect(res.body.user.avatarUrl).toBeNull();
    expectError(await ann.call('PATCH', '/v1/me', { avatarUploadId: 'up_1' }), 404, 'not_found');
  });

  it('refuses bad input with 400, 401 or 413, never 5xx', async () => {
    const ann = await signUp(server.url);
    for (const body of [
      { displayName: '' },
      { displayName: '   ' },
      { displayName: 'x'.repeat(65) },
      { displayName: 'a\u0000b' },
      { displayName: 7 },
      { username: 'mallory' },
      [],
      'not json',
    ]) {
      expectError(await ann.call('PATCH', '/v1/me', body), 400, 'invalid_request');
    }
    expectError(await ann.call('PATCH', '/v1/me', { displayName: 'x'.repeat(70_000) }), 413, 'message_too_big');
    expectError(await http(server.url)('PATCH', '/v1/me', { displayName: 'x' }), 401, 'unauthenticated');
    expectError(await http(server.url, 'nope')('DELETE', '/v1/me', {}), 401, 'unauthenticated');
    expectError(await http(server.url)('GET', '/v1/me/export'), 401, 'unauthenticated');
    expectError(await ann.call('DELETE', '/v1/me', { deleteMessages: 'yes' }), 400, 'invalid_request');
  });
});

describe('DELETE /v1/me', () => {
  it('needs the password when there is one: wrong or missing is 403', async () => {
    const ann = await withPassword();
    expectError(await ann.call('DELETE', '/v1/me', { password: 'wrong password!' }), 403, 'forbidden');
    expectError(await ann.call('DELETE', '/v1/me', {}), 403, 'forbidden');
    expect((await ann.call('GET', '/v1/me')).status).toBe(200);
  });

  it('ends every credential and socket, frees the username, and shows "Deleted account"', async () => {
    const ann = await withPassword('Ann');
    const key = (await ann.call('POST', '/v1/me/api-keys', { name: 'bot' })).body.key as string;
    const other = await http(server.url)('POST', '/v1/sessions', {
      username: ann.username,
      password: PASSWORD,
      deviceName: 'phone',
    });
    const [bob, carol] = await signUpMany(server, 2);
    const chat = await directChat(ann, bob);
    const group = await createGroup(ann, [bob, carol]);
    await sendHttp(ann, chat, 'hello from ann');
    const sockets = await Promise.all(server.urls.map((url) => RawSocket.open(url, other.body.token)));
    const bobSocket = await RawSocket.open(server.urls.at(-1)!, bob.apiKey);

    const res = await ann.call('DELETE', '/v1/me', { password: PASSWORD });
    expect(res.status).toBe(204);
    for (const socket of sockets) expect(await socket.waitClosed(5_000)).toBe(CLOSE_CODES.unauthenticated);
    for (const token of [ann.apiKey, other.body.token, key]) {
      for (const url of server.urls) {
        expectError(await http(url, token)('GET', '/v1/me'), 401, 'unauthenticated');
      }
    }
    const told = await bobSocket.waitForEvent('user.updated', (e) => e.user.id === ann.id);
    expect(told.user.displayName).toBe(DELETED_DISPLAY_NAME);
    bobSocket.close();

    // Bob keeps the direct chat and its history, with a deleted member; the group lost Ann.
    const direct = (await bob.call('GET', `/v1/conversations/${chat}`)).body.conversation;
    const gone = direct.members.find((m: any) => m.userId === ann.id);
    expect(gone.displayName).toBe(DELETED_DISPLAY_NAME);
    expect(gone.username).not.toBe(ann.username);
    expect((await fullHistory(bob, chat)).map((m) => m.body)).toEqual(['hello from ann']);
    const groupNow = (await carol.call('GET', `/v1/conversations/${group}`)).body.conversation;
    expect(groupNow.members.map((m: any) => m.userId).sort()).toEqual([bob.id, carol.id].sort());
    expect(groupNow.members.some((m: any) => m.role === 'admin')).toBe(true);
    expect((await bob.call('GET', `/v1/users?username=${ann.username}`)).status).toBe(404);

    // The username is free again.
    const again = await http(server.url)('POST', '/v1/users', { username: ann.username, password: PASSWORD });
    expect(again.status).toBe(201);
    expect(again.body.user.id).not.toBe(ann.id);
    expect(again.body.user.displayName).toBe(ann.username);
  });

  it('with deleteMessages, erases the text from history, previews and search', async () => {
    const [chat, ann, bob] = await friends(server);
    const group = await createGroup(bob, [ann]);
    const word = `zebrafish${Date.now()}`;
    await sendHttp(ann, chat, `secret ${word} one`);
    await sendHttp(bob, chat, `bob says ${word}`);
    await sendHttp(ann, group, `secret ${word} two`);
    const res = await ann.call('DELETE', '/v1/me', { deleteMessages: true });
    expect(res.status).toBe(204);
    await eventually(async () => {
      const history = await fullHistory(bob, chat);
      expect(history.map((m) => m.body)).toEqual(['', `bob says ${word}`]);
      expect(history[0]!.deletedAt).not.toBeNull();
      const groupHistory = await fullHistory(bob, group);
      expect(groupHistory.every((m) => m.body === '' && m.deletedAt !== null)).toBe(true);
      const search = await bob.call('GET', `/v1/search?q=${word}`);
      expect(search.body.results.map((r: any) => r.message.senderId)).toEqual([bob.id]);
      const list = (await bob.call('GET', '/v1/conversations')).body.conversations;
      const groupPreview = list.find((c: any) => c.id === group).lastMessage;
      expect(groupPreview?.body ?? '').toBe('');
    }, 10_000);
    // Deleting again is not possible: the credentials are gone (the job was done in one go).
    expectError(await ann.call('DELETE', '/v1/me', {}), 401, 'unauthenticated');
  });
});

describe('GET /v1/me/export', () => {
  it('holds the profile, sessions and keys without secrets, conversations and sent messages', async () => {
    const ann = await withPassword('Ann');
    const created = (await ann.call('POST', '/v1/me/api-keys', { name: 'script' })).body;
    const bob = await signUp(server.url);
    const chat = await directChat(ann, bob);
    const mine = await sendHttp(ann, chat, 'mine');
    await sendHttp(bob, chat, 'not mine');
    const deleted = await sendHttp(ann, chat, 'gone');
    await ann.call('DELETE', `/v1/conversations/${chat}/messages/${deleted.id}?for=everyone`);
    const res = await ann.call('GET', '/v1/me/export');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/attachment/);
    const data = res.body;
    expect(Object.keys(data).sort()).toEqual([
      'apiKeys',
      'conversations',
      'exportedAt',
      'messages',
      'sessions',
      'user',
    ]);
    expect(data.user).toMatchObject({ id: ann.id, username: ann.username, displayName: 'Ann' });
    expect(data.sessions).toHaveLength(1);
    expect(data.sessions[0].current).toBe(true);
    expect(data.apiKeys).toEqual([
      { id: created.apiKey.id, name: 'script', createdAt: expect.any(String), lastUsedAt: null },
    ]);
    expect(data.conversations.map((c: any) => c.id)).toEqual([chat]);
    expect(data.conversations[0].members.map((m: any) => m.userId).sort()).toEqual([ann.id, bob.id].sort());
    expect(data.messages.map((m: any) => m.id)).toEqual([mine.id]);
    const text = JSON.stringify(data);
    expect(text).not.toContain(ann.apiKey);
    expect(text).not.toContain(created.key);
    expect(text).not.toContain('argon2');
  });
});

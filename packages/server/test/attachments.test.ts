// Messages with attachments over the real wire, both modes: sent by HTTP and WebSocket, durable and
// idempotent like text, signed URLs on every read (history, events, chat list, search), who may
// attach and download, and files deleted with the message. In cluster mode uploads go through one
// gateway and downloads through the other.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { contentKey } from '../src/core/media/blob-store.js';
import { CLUSTER } from './deployment.mjs';
import {
  createGroup,
  directChat,
  expectError,
  online,
  serverForFile,
  signUp,
  type TestUser,
  uniqueName,
  uploadFile,
  usersForFile,
  waitFor,
} from './harness.js';

const server = serverForFile();
// Signed up on the first gateway, which takes the uploads.
const [ann, bob, eve] = usersForFile(() => server.firstUrl, 3);
let chat: string;
beforeAll(async () => {
  chat = await directChat(ann, bob);
});

async function upload(user: TestUser, body: Uint8Array | string, type: string, name: string) {
  const res = await uploadFile(server.firstUrl, user.apiKey, body, type, name);
  expect(res.status).toBe(201);
  return res.body.upload;
}

// Uploads of the same bytes share one object: a test that sees an object go uses a colour of its own.
const photo = (background = '#36c') =>
  sharp({ create: { width: 64, height: 48, channels: 3, background } })
    .png()
    .toBuffer();

async function download(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.lastUrl}${url}`, { headers });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

const send = (user: TestUser, body: Record<string, unknown>) =>
  user.call('POST', `/v1/conversations/${chat}/messages`, { clientMsgId: uniqueName('c'), body: '', ...body });

describe('messages with attachments', () => {
  it('carry their files, signed, in the answer, the event, history, the chat list and search', async () => {
    const [bobSocket] = await online(server.lastUrl, bob);
    const image = await upload(ann, await photo(), 'image/png', 'beach.png');
    const doc = await upload(ann, 'quarterly numbers', 'text/plain', 'report-q3.txt');
    const res = await send(ann, { attachments: [image.id, doc.id] });
    expect(res.status).toBe(201);
    const message = res.body.message;
    expect(message.body).toBe('');
    expect(message.attachments.map((a: any) => [a.id, a.name, a.contentType, a.width])).toEqual([
      [image.id, 'beach.png', 'image/png', 64],
      [doc.id, 'report-q3.txt', 'text/plain', null],
    ]);
    expect(message.attachments[0].url).toMatch(/\?exp=\d+&sig=/);
    expect(message.attachments[0].thumbnailUrl).toMatch(/\/thumbnail\?exp=\d+&sig=/);
    expect(message.attachments[1].thumbnailUrl).toBeNull();

    const event = await bobSocket.waitForEvent('message.created', (e) => e.message.id === message.id, 10_000);
    expect(event.message.attachments[0].url).toMatch(/sig=/);
    const thumb = await download(event.message.attachments[0].thumbnailUrl);
    expect(thumb.status).toBe(200);
    expect((await sharp(thumb.bytes).metadata()).width).toBeLessThanOrEqual(320);
    expect((await download(event.message.attachments[1].url)).bytes.toString()).toBe('quarterly numbers');
    bobSocket.close();

    const history = await bob.call('GET', `/v1/conversations/${chat}/messages`);
    const stored = history.body.messages.find((m: any) => m.id === message.id);
    expect(stored.attachments.map((a: any) => a.id)).toEqual([image.id, doc.id]);
    expect(stored.attachments[0].url).toMatch(/sig=/);
    expect((await download(stored.attachments[0].url)).status).toBe(200);

    const list = await bob.call('GET', '/v1/conversations');
    const last_ = list.body.conversations.find((c: any) => c.id === chat).lastMessage;
    expect(last_.attachments[1].url).toMatch(/sig=/);

    const found = await waitFor(async () => {
      const r = await bob.call('GET', `/v1/search?q=${encodeURIComponent('report')}`);
      return r.body.results.find((x: any) => x.message.id === message.id);
    });
    expect(found.message.attachments[1].url).toMatch(/sig=/);
    expect(found.snippet).toContain('report-q3.txt');

    const text = await send(ann, { body: 'plain' });
    expect(text.body.message.attachments).toEqual([]);
  });

  it('a retried send attaches nothing twice; a used or foreign upload is refused', async () => {
    const file = await upload(ann, 'draft', 'text/plain', 'draft.txt');
    const clientMsgId = uniqueName('c');
    const one = await send(ann, { clientMsgId, body: 'see attached', attachments: [file.id] });
    const again = await send(ann, { clientMsgId, body: 'see attached', attachments: [file.id] });
    expect([one.status, again.status]).toEqual([201, 200]);
    expect(again.body.message.id).toBe(one.body.message.id);
    expect(again.body.message.attachments.map((a: any) => a.id)).toEqual([file.id]);

    expectError(await send(ann, { attachments: [file.id] }), 409, 'conflict');
    const bobs = await upload(bob, 'mine', 'text/plain', 'mine.txt');
    expectError(await send(ann, { attachments: [bobs.id] }), 404, 'not_found');
    expectError(await send(ann, { attachments: ['f_nothing'] }), 404, 'not_found');
    const many = await Promise.all(
      Array.from({ length: 11 }, (_, i) => upload(ann, `n${i}`, 'text/plain', `${i}.txt`)),
    );
    expectError(await send(ann, { attachments: many.map((u) => u.id) }), 400, 'invalid_request');
    expectError(await send(ann, { body: '  ' }), 400, 'invalid_request');
    // The eleven are unused still: ten of them go in one message.
    expect((await send(ann, { attachments: many.slice(0, 10).map((u) => u.id) })).status).toBe(201);
  });

  it('a WebSocket send with attachments, retried, answers the same message', async () => {
    const [socket] = await online(server.firstUrl, ann);
    const file = await upload(ann, 'over the socket', 'text/plain', 'ws.txt');
    const frame = { conversationId: chat, clientMsgId: uniqueName('c'), body: '', attachments: [file.id] };
    const one = (await socket.request('send', frame)) as any;
    const two = (await socket.request('send', frame)) as any;
    expect(one.ok).toBe(true);
    expect(two.result.message.id).toBe(one.result.message.id);
    expect(one.result.message.attachments[0].url).toMatch(/sig=/);
    socket.close();
  });

  it('members download with their credential; anyone else gets 404', async () => {
    const file = await upload(ann, 'members only', 'text/plain', 'secret.txt');
    const { message } = (await send(ann, { attachments: [file.id] })).body;
    const plain = `/v1/uploads/${file.id}/content`;
    expect((await download(plain, { authorization: `Bearer ${bob.apiKey}` })).status).toBe(200);
    expect((await download(plain, { authorization: `Bearer ${eve.apiKey}` })).status).toBe(404);
    expect((await download(message.attachments[0].url)).status).toBe(200);
  });

  it('delete for everyone deletes the files, from storage too', async () => {
    const image = await upload(ann, await photo('#a51'), 'image/png', 'gone.png');
    const { message } = (await send(ann, { body: 'soon gone', attachments: [image.id] })).body;
    const record = (await server.backend.uploads.get(image.id))!;
    expect(await server.backend.blobs.stat(record.blobKey)).not.toBeNull();
    const del = await ann.call('DELETE', `/v1/conversations/${chat}/messages/${message.id}?for=everyone`);
    expect(del.status).toBe(204);
    expect((await download(message.attachments[0].url)).status).toBe(404);
    expect(await server.backend.blobs.stat(record.blobKey)).toBeNull();
    expect(await server.backend.blobs.stat(record.thumbnailKey!)).toBeNull();
    expect(await server.backend.uploads.get(image.id)).toBeNull();
    const history = await bob.call('GET', `/v1/conversations/${chat}/messages`);
    expect(history.body.messages.find((m: any) => m.id === message.id).attachments).toEqual([]);
    if (CLUSTER) expect(server.backend.blobs.constructor.name).toBe('S3BlobStore');
  });

  it('uploads of the same bytes share one object, which goes with the last message that has it', async () => {
    const bytes = await photo('#5a3');
    const mine = await upload(ann, bytes, 'image/png', 'same.png');
    const theirs = await upload(bob, bytes, 'image/png', 'same too.png');
    const [a, b] = await Promise.all([mine, theirs].map(async (u) => (await server.backend.uploads.get(u.id))!));
    expect(a!.blobKey).toBe(contentKey(mine.sha256));
    expect(a!.blobKey).toMatch(/^sha256\/[0-9a-f]{2}\/[0-9a-f]{62}$/);
    expect([b!.blobKey, b!.thumbnailKey]).toEqual([a!.blobKey, a!.thumbnailKey]);
    expect(a!.thumbnailKey).not.toBe(a!.blobKey);
    const sent = await send(ann, { attachments: [mine.id] });
    const kept = await send(bob, { attachments: [theirs.id] });
    const stored = (key: string) =>
      CLUSTER ? server.backend.blobs.stat(key) : fs.existsSync(path.join(server.dataDir, 'uploads', key));
    if (CLUSTER) expect(server.backend.blobs.constructor.name).toBe('S3BlobStore');

    const del = (id: string) => ann.call('DELETE', `/v1/conversations/${chat}/messages/${id}?for=everyone`);
    expect((await del(sent.body.message.id)).status).toBe(204);
    expect((await download(sent.body.message.attachments[0].url)).status).toBe(404);
    const still = await download(kept.body.message.attachments[0].url);
    expect(still.status).toBe(200);
    expect(still.bytes.length).toBe(theirs.size);
    expect((await download(kept.body.message.attachments[0].thumbnailUrl)).status).toBe(200);
    expect(await stored(a!.blobKey)).toBeTruthy();

    const delBob = await bob.call('DELETE', `/v1/conversations/${chat}/messages/${kept.body.message.id}?for=everyone`);
    expect(delBob.status).toBe(204);
    expect((await download(kept.body.message.attachments[0].url)).status).toBe(404);
    expect(await stored(a!.blobKey)).toBeFalsy();
    expect(await stored(a!.thumbnailKey!)).toBeFalsy();
    expect(await server.backend.uploads.references(a!.blobKey)).toBe(0);
  });

  it('deleting the account deletes every file the user uploaded', async () => {
    const dan = await signUp(server.firstUrl);
    const danChat = await directChat(dan, bob);
    const sent = await upload(dan, 'attached', 'text/plain', 'a.txt');
    const loose = await upload(dan, 'never sent', 'text/plain', 'b.txt');
    const res = await dan.call('POST', `/v1/conversations/${danChat}/messages`, {
      clientMsgId: uniqueName('c'),
      body: '',
      attachments: [sent.id],
    });
    expect(res.status).toBe(201);
    const keys = await Promise.all([sent, loose].map(async (u) => (await server.backend.uploads.get(u.id))!.blobKey));
    // Bytes Ann uploaded too: their object stays for her.
    const twin = `also Ann's ${dan.id}`;
    const [dans, anns] = [
      await upload(dan, twin, 'text/plain', 'c.txt'),
      await upload(ann, twin, 'text/plain', 'c.txt'),
    ];
    expect((await dan.call('DELETE', '/v1/me', {})).status).toBe(204);
    for (const key of keys) expect(await server.backend.blobs.stat(key)).toBeNull();
    expect((await download(dans.url)).status).toBe(404);
    expect((await download(anns.url)).bytes.toString()).toBe(twin);
    expect((await download(res.body.message.attachments[0].url)).status).toBe(404);
    expect((await download(loose.url)).status).toBe(404);
  });

  it('avatars: set from an own image, signed when served, replaced ones deleted, null removes', async () => {
    const [bobSocket] = await online(server.lastUrl, bob);
    const first_ = await upload(ann, await photo(), 'image/png', 'me.png');
    const set = await ann.call('PATCH', '/v1/me', { avatarUploadId: first_.id });
    expect(set.status).toBe(200);
    expect(set.body.user.avatarUrl).toMatch(new RegExp(`/v1/uploads/${first_.id}/thumbnail\\?exp=\\d+&sig=`));
    expect((await download(set.body.user.avatarUrl)).status).toBe(200);
    const me = await ann.call('GET', '/v1/me');
    expect(me.body.user.avatarUrl).toMatch(/sig=/);
    const told = await bobSocket.waitForEvent('user.updated', (e) => e.user.id === ann.id, 10_000);
    expect(told.user.avatarUrl).toMatch(/sig=/);
    bobSocket.close();
    expect((await ann.call('PATCH', '/v1/me', { avatarUploadId: first_.id })).status).toBe(200);

    const second = await upload(ann, await photo(), 'image/png', 'me2.png');
    expect((await ann.call('PATCH', '/v1/me', { avatarUploadId: second.id })).status).toBe(200);
    expect(await server.backend.uploads.get(first_.id)).toBeNull();
    expectError(await send(ann, { attachments: [second.id] }), 409, 'conflict');

    const text = await upload(ann, 'not a picture', 'text/plain', 'a.txt');
    expectError(await ann.call('PATCH', '/v1/me', { avatarUploadId: text.id }), 400, 'invalid_request');
    const bobs = await upload(bob, await photo(), 'image/png', 'bob.png');
    expectError(await ann.call('PATCH', '/v1/me', { avatarUploadId: bobs.id }), 404, 'not_found');

    const cleared = await ann.call('PATCH', '/v1/me', { avatarUploadId: null });
    expect(cleared.body.user.avatarUrl).toBeNull();
    expect(await server.backend.uploads.get(second.id)).toBeNull();
  });

  it('group avatars: admins set one, members see it signed in the chat list, non-admins are refused', async () => {
    const group = await createGroup(ann, [bob, eve], 'Hikers');
    const picture = await upload(ann, await photo(), 'image/png', 'group.png');
    const set = await ann.call('PATCH', `/v1/conversations/${group}`, { avatarUploadId: picture.id });
    expect(set.status).toBe(200);
    expect(set.body.conversation.avatarUrl).toMatch(new RegExp(`/v1/uploads/${picture.id}/thumbnail\\?exp=`));
    const list = await bob.call('GET', '/v1/conversations');
    const seen = list.body.conversations.find((c: any) => c.id === group);
    expect((await download(seen.avatarUrl)).status).toBe(200);
    const plain = `/v1/uploads/${picture.id}/thumbnail`;
    expect((await download(plain, { authorization: `Bearer ${bob.apiKey}` })).status).toBe(200);

    const bobs = await upload(bob, await photo(), 'image/png', 'mine.png');
    expectError(await bob.call('PATCH', `/v1/conversations/${group}`, { avatarUploadId: bobs.id }), 403, 'forbidden');
    const next = await upload(ann, await photo(), 'image/png', 'group2.png');
    expect((await ann.call('PATCH', `/v1/conversations/${group}`, { avatarUploadId: next.id })).status).toBe(200);
    expect(await server.backend.uploads.get(picture.id)).toBeNull();
    const cleared = await ann.call('PATCH', `/v1/conversations/${group}`, { avatarUploadId: null });
    expect(cleared.body.conversation.avatarUrl).toBeNull();
    expect(await server.backend.uploads.get(next.id)).toBeNull();
    const direct = await bob.call('GET', `/v1/conversations/${chat}`);
    expect(direct.body.conversation.avatarUrl).toBeNull();
  });
});

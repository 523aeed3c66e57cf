// Reactions, delete for everyone / for me, and edit (with its time window).
import nodePath from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLUSTER,
  createGroup,
  expectError,
  online,
  sendHttp,
  serverForFile,
  signUpMany,
  sleep,
  startTestServer,
  storedRows,
  type TestUser,
  usersForFile,
} from './harness.js';

const server = serverForFile();
const [ann, bob, cat] = usersForFile(server, 3);
let conv: string;
beforeAll(async () => {
  conv = await createGroup(ann, [bob, cat], 'features');
});

const path = (id: string) => `/v1/conversations/${conv}/messages/${id}`;
const historyOf = async (u: TestUser) =>
  (await u.call('GET', `/v1/conversations/${conv}/messages?limit=200`)).body.messages as any[];

describe('reactions', () => {
  it('one per user: set, replace, remove, with reaction.updated events', async () => {
    const m = await sendHttp(ann, conv, 'react to me');
    const [annWs] = await online(server, ann);
    const put = await bob.call('PUT', `${path(m.id)}/reaction`, { emoji: '👍' });
    expect(put.status).toBe(200);
    expect(put.body.message).toMatchObject({ id: m.id, reactions: [{ userId: bob.id, emoji: '👍' }] });
    expect(await annWs.waitForEvent('reaction.updated')).toEqual({
      type: 'reaction.updated',
      conversationId: conv,
      messageId: m.id,
      userId: bob.id,
      emoji: '👍',
    });

    const replaced = await bob.call('PUT', `${path(m.id)}/reaction`, { emoji: '❤️' });
    expect(replaced.body.message.reactions).toEqual([{ userId: bob.id, emoji: '❤️' }]);
    await annWs.waitForEvent('reaction.updated', (e) => e.emoji === '❤️');
    await cat.call('PUT', `${path(m.id)}/reaction`, { emoji: '🇫🇷' });
    await annWs.waitForEvent('reaction.updated', (e) => e.userId === cat.id);
    const stored = (await historyOf(ann)).find((x) => x.id === m.id);
    expect([...stored.reactions].sort((a: any, b: any) => a.userId.localeCompare(b.userId))).toEqual(
      [
        { userId: bob.id, emoji: '❤️' },
        { userId: cat.id, emoji: '🇫🇷' },
      ].sort((a, b) => a.userId.localeCompare(b.userId)),
    );

    const removed = await bob.call('DELETE', `${path(m.id)}/reaction`);
    expect(removed.status).toBe(204);
    expect(await annWs.waitForEvent('reaction.updated', (e) => e.emoji === null)).toEqual({
      type: 'reaction.updated',
      conversationId: conv,
      messageId: m.id,
      userId: bob.id,
      emoji: null,
    });
    expect((await historyOf(ann)).find((x) => x.id === m.id).reactions).toEqual([{ userId: cat.id, emoji: '🇫🇷' }]);
    // Removing again is fine and announces nothing.
    expect((await bob.call('DELETE', `${path(m.id)}/reaction`)).status).toBe(204);
    expect((await annWs.settle('reaction.updated')).length).toBe(4);
    expectError(
      await bob.call('PUT', `/v1/conversations/${conv}/messages/m_nope/reaction`, { emoji: '👍' }),
      404,
      'not_found',
    );
    annWs.close();
  });

  it('accepts exactly one emoji grapheme', async () => {
    const m = await sendHttp(ann, conv, 'emoji rules');
    for (const emoji of ['👍', '👍🏽', '👨‍👩‍👧', '🇫🇷', '❤️', '1️⃣']) {
      const res = await bob.call('PUT', `${path(m.id)}/reaction`, { emoji });
      expect(res.status, emoji).toBe(200);
      expect(res.body.message.reactions).toEqual([{ userId: bob.id, emoji }]);
    }
    for (const emoji of ['abc', '', '👍👍', 'a👍', 'a', '1', ' ', '👍 ', 'e\u0301', '🇫']) {
      expectError(await bob.call('PUT', `${path(m.id)}/reaction`, { emoji }), 400, 'invalid_request');
    }
    expect((await historyOf(ann)).find((x) => x.id === m.id).reactions).toEqual([{ userId: bob.id, emoji: '1️⃣' }]);
  });
});

describe('delete for everyone', () => {
  it('is the sender’s only (403 otherwise) and leaves a tombstone everywhere', async () => {
    await sendHttp(bob, conv, 'an earlier line');
    const m = await sendHttp(ann, conv, 'regrettable zanzibar text');
    await bob.call('PUT', `${path(m.id)}/reaction`, { emoji: '👍' });
    expectError(await bob.call('DELETE', `${path(m.id)}?for=everyone`), 403, 'forbidden');
    const [bobWs] = await online(server, bob);
    const res = await ann.call('DELETE', `${path(m.id)}?for=everyone`);
    expect(res.status).toBe(204);
    expect(await bobWs.waitForEvent('message.deleted')).toEqual({
      type: 'message.deleted',
      conversationId: conv,
      messageId: m.id,
      for: 'everyone',
    });
    for (const u of [ann, bob, cat]) {
      const t = (await historyOf(u)).find((x) => x.id === m.id);
      expect(t).toMatchObject({ id: m.id, seq: m.seq, body: '', reactions: [], deletedAt: expect.any(String) });
    }
    // Gone from search and from the preview.
    expect((await bob.call('GET', '/v1/search?q=zanzibar')).body.results).toEqual([]);
    const preview = (await bob.call('GET', `/v1/conversations/${conv}`)).body.conversation.lastMessage;
    expect(preview.body).toBe('');
    expect(preview.id).toBe(m.id);
    expect(JSON.stringify((await bob.call('GET', '/v1/conversations')).body)).not.toContain('zanzibar');
    // A retry of the deleted message's send returns the tombstone, not the text.
    const retry = await ann.call('POST', `/v1/conversations/${conv}/messages`, {
      clientMsgId: m.clientMsgId,
      body: m.body,
    });
    expect(retry.status).toBe(200);
    expect(retry.body.message).toMatchObject({ id: m.id, body: '', deletedAt: expect.any(String) });
    // Deleting again is idempotent; editing or reacting to a tombstone is refused.
    expect((await ann.call('DELETE', `${path(m.id)}?for=everyone`)).status).toBe(204);
    expectError(await ann.call('PATCH', path(m.id), { body: 'resurrect' }), 403, 'forbidden');
    expectError(await bob.call('PUT', `${path(m.id)}/reaction`, { emoji: '👍' }), 400, 'invalid_request');
    expect(bobWs.events('message.deleted')).toHaveLength(1);
    bobWs.close();
  });
});

describe('edit or react racing a delete for everyone', () => {
  it('never brings the text back: the loser is refused, no update follows the delete, the log keeps no copy', async () => {
    const [bobWs] = await online(server, bob);
    const rounds: { id: string; edit: number; react: number }[] = [];
    for (let i = 0; i < 8; i++) {
      const m = await sendHttp(ann, conv, `race original ${i}`);
      const [edit, react, del] = await Promise.all([
        ann.call('PATCH', path(m.id), { body: `lazarus${i} edited` }),
        bob.call('PUT', `${path(m.id)}/reaction`, { emoji: '👍' }),
        ann.call('DELETE', `${path(m.id)}?for=everyone`),
      ]);
      expect(del.status).toBe(204);
      expect([200, 403]).toContain(edit.status);
      expect([200, 400]).toContain(react.status);
      rounds.push({ id: m.id, edit: edit.status, react: react.status });
    }
    await bobWs.waitFor(() => bobWs.events('message.deleted').length === rounds.length);
    await bobWs.settle(undefined, 100);
    for (const r of rounds) {
      const about = bobWs
        .events()
        .filter((e) => (e.messageId ?? e.message?.id) === r.id)
        .map((e) => e.type);
      expect(about.at(-1), JSON.stringify({ r, about })).toBe('message.deleted');
      const updates = about.filter((t) => t === 'message.updated').length;
      // In a cluster the edit is checked against a store that may not have applied the delete yet: it
      // can answer 200 and still lose (it is then dropped by the store and the fan-out, never shown).
      if (CLUSTER) expect(updates).toBeLessThanOrEqual(r.edit === 200 ? 1 : 0);
      else expect(updates).toBe(r.edit === 200 ? 1 : 0);
      const t = (await historyOf(bob)).find((x) => x.id === r.id);
      expect(t).toMatchObject({ body: '', reactions: [], deletedAt: expect.any(String) });
    }
    if (CLUSTER) {
      // The store keeps no copy (the cluster's log, JetStream, keeps its entries until retention ends).
      for (const [name, rows] of Object.entries(await storedRows(server)))
        expect(JSON.stringify(rows), name).not.toMatch(/lazarus|race original/);
    } else {
      const db = new Database(nodePath.join(server.dataDir, 'messenger.db'), { readonly: true });
      try {
        const tables = db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'message_fts%'")
          .all() as { name: string }[];
        for (const { name } of tables)
          expect(JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all()), name).not.toMatch(
            /lazarus|race original/,
          );
      } finally {
        db.close();
      }
    }
    expect((await bob.call('GET', '/v1/search?q=lazarus')).body.results).toEqual([]);
    bobWs.close();
  });
});

describe('delete for me', () => {
  it('hides the message for the caller on every device only', async () => {
    const m = await sendHttp(ann, conv, 'hide this quokka');
    const [bob1, bob2, annWs] = await online(server, bob, bob, ann);
    const res = await bob.call('DELETE', `${path(m.id)}?for=me`);
    expect(res.status).toBe(204);
    for (const s of [bob1, bob2])
      expect(await s.waitForEvent('message.deleted')).toEqual({
        type: 'message.deleted',
        conversationId: conv,
        messageId: m.id,
        for: 'me',
      });
    expect(await annWs.settle('message.deleted')).toEqual([]);
    expect((await historyOf(bob)).map((x) => x.id)).not.toContain(m.id);
    expect((await historyOf(ann)).find((x) => x.id === m.id)).toMatchObject({
      body: 'hide this quokka',
      deletedAt: null,
    });
    expect((await historyOf(cat)).find((x) => x.id === m.id)).toMatchObject({ body: 'hide this quokka' });
    expect((await bob.call('GET', '/v1/search?q=quokka')).body.results).toEqual([]);
    expect((await cat.call('GET', '/v1/search?q=quokka')).body.results).toHaveLength(1);
    const bobView = (await bob.call('GET', `/v1/conversations/${conv}`)).body.conversation;
    expect(bobView.lastMessage?.id).not.toBe(m.id);
    expect((await cat.call('GET', `/v1/conversations/${conv}`)).body.conversation.lastMessage.id).toBe(m.id);
    for (const s of [bob1, bob2, annWs]) s.close();
  });
});

describe('edit', () => {
  it('is the sender’s only, sets editedAt, emits message.updated and search follows', async () => {
    const m = await sendHttp(ann, conv, 'the first wording platypus');
    const [bobWs] = await online(server, bob);
    expectError(await bob.call('PATCH', path(m.id), { body: 'hijack' }), 403, 'forbidden');
    const res = await ann.call('PATCH', path(m.id), { body: 'the second wording wombat' });
    expect(res.status).toBe(200);
    expect(res.body.message).toMatchObject({
      id: m.id,
      seq: m.seq,
      body: 'the second wording wombat',
      createdAt: m.createdAt,
      editedAt: expect.any(String),
    });
    expect(Date.parse(res.body.message.editedAt)).toBeGreaterThanOrEqual(Date.parse(m.createdAt));
    const ev = await bobWs.waitForEvent('message.updated');
    expect(ev).toEqual({ type: 'message.updated', conversationId: conv, message: res.body.message });
    expect((await historyOf(bob)).find((x) => x.id === m.id)).toEqual(res.body.message);
    expect((await bob.call('GET', '/v1/search?q=platypus')).body.results).toEqual([]);
    const found = (await bob.call('GET', '/v1/search?q=wombat')).body.results;
    expect(found.map((r: any) => r.message.id)).toEqual([m.id]);
    expect((await bob.call('GET', `/v1/conversations/${conv}`)).body.conversation.lastMessage.body).toBe(
      'the second wording wombat',
    );
    expectError(await ann.call('PATCH', path(m.id), { body: 'x'.repeat(4097) }), 413, 'message_too_big');
    expectError(await ann.call('PATCH', path(m.id), { body: '   ' }), 400, 'invalid_request');
    bobWs.close();
  });

  it('is refused with 403 after the edit window', async () => {
    const short = await startTestServer({ editWindowMs: 200 });
    try {
      const [u1, u2] = await signUpMany(short, 2);
      const c = await createGroup(u1, [u2], 'window');
      const m = await sendHttp(u1, c, 'soon frozen');
      await sleep(300);
      expectError(
        await u1.call('PATCH', `/v1/conversations/${c}/messages/${m.id}`, { body: 'too late' }),
        403,
        'forbidden',
      );
      const history = (await u1.call('GET', `/v1/conversations/${c}/messages`)).body.messages;
      expect(history[0]).toMatchObject({ id: m.id, body: 'soon frozen', editedAt: null });
    } finally {
      await short.close();
    }
  });
});

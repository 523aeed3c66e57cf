// The word list behind prefix search: every word the index holds must be in search_words, or a
// prefix spelled out as words would silently miss matches.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Message } from '@messenger/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../core/log-entries.js';
import { openDatabase } from './db.js';
import { SqliteStore } from './store.js';

const now = () => new Date().toISOString();
const created = (seq: number, body: string): LogRecord => {
  const message: Message = {
    id: `m_${seq}`,
    conversationId: 'c_1',
    seq,
    senderId: 'u_a',
    clientMsgId: `k${seq}`,
    body,
    createdAt: now(),
    editedAt: null,
    deletedAt: null,
    replyToId: null,
    reactions: [],
    attachments: [],
  };
  return { type: 'message.created', conversationId: 'c_1', message, pos: seq };
};

/** A fresh store with one user, u_a, alone in one group chat, c_1. */
async function oneChat(dirPrefix: string) {
  const db = openDatabase(path.join(fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix)), 'm.db'));
  const store = new SqliteStore({ db });
  await store.users.createUser({ id: 'u_a', username: 'a', displayName: 'A', createdAt: now(), apiKeyHash: 'h_a' });
  await store.conversations.createConversation({
    id: 'c_1',
    kind: 'group',
    title: 'g',
    createdAt: now(),
    memberIds: ['u_a'],
    directKey: null,
  });
  return { db, store };
}

describe('SqliteSearch word list', () => {
  it('finds words first written after the prefix already had words, through edits and in batches; forgets words no indexed text has any more', async () => {
    const { db, store } = await oneChat('search-words-');
    const bodies = async (q: string) =>
      (await store.search.search('u_a', { q, limit: 10 })).map((r) => r.message.body).sort();

    await store.records.apply([created(1, 'zebra crossing')]);
    expect(await bodies('zebr')).toEqual(['zebra crossing']);
    await store.records.apply([created(2, 'zebracorn sighting'), created(3, 'Zébralé café')]);
    expect(await bodies('zebr')).toEqual(['Zébralé café', 'zebra crossing', 'zebracorn sighting']);
    await store.records.apply([
      {
        type: 'message.updated',
        conversationId: 'c_1',
        messageId: 'm_1',
        body: 'zebrafish now',
        editedAt: now(),
        message: null as never,
        pos: 4,
      },
    ]);
    expect(await bodies('zebraf')).toEqual(['zebrafish now']);
    const words = db
      .prepare("SELECT word FROM search_words WHERE word >= 'zebr' AND word < 'zebs' ORDER BY word")
      .all()
      .map((r) => (r as { word: string }).word);
    // The edit took "zebra crossing" out of the index, and no other message has those words.
    expect(words).toEqual(['zebracorn', 'zebrafish', 'zebrale']);
    expect(db.prepare("SELECT word FROM search_words WHERE word = 'crossing'").all()).toEqual([]);
    // Deleted for everyone: its words go too, unless another message still has them.
    await store.records.apply([
      created(5, 'zebracorn again'),
      {
        type: 'message.deleted',
        conversationId: 'c_1',
        messageId: 'm_2',
        for: 'everyone',
        userId: 'u_a',
        at: now(),
        pos: 6,
      },
    ]);
    const left = () =>
      db
        .prepare("SELECT word FROM search_words WHERE word IN ('zebracorn', 'sighting', 'again')")
        .all()
        .map((r) => (r as { word: string }).word)
        .sort();
    expect(left()).toEqual(['again', 'zebracorn']);
    expect(await bodies('zebrac')).toEqual(['zebracorn again']);
    await store.close();
  });

  it('keeps the per-word text counts and the index totals BM25 ranks by equal to what the index holds, through random creates, edits and deletes', async () => {
    const vocabulary = ['zebra', 'Zébra', 'café', 'cafe', 'tokyo', '東京都', 'alpha', 'beta'];
    const body = fc.array(fc.constantFrom(...vocabulary), { minLength: 0, maxLength: 5 }).map((w) => w.join(' '));
    const op = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), body }),
      fc.record({ kind: fc.constant('edit' as const), target: fc.nat(), body }),
      fc.record({ kind: fc.constant('delete' as const), target: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        async (batches) => {
          const { db, store } = await oneChat('search-counts-');
          let seq = 0;
          let pos = 100;
          for (const batch of batches) {
            const records: LogRecord[] = [];
            for (const o of batch) {
              if (o.kind === 'create') records.push(created(++seq, o.body));
              else if (seq === 0) continue;
              else if (o.kind === 'edit')
                records.push({
                  type: 'message.updated',
                  conversationId: 'c_1',
                  messageId: `m_${(o.target % seq) + 1}`,
                  body: o.body,
                  editedAt: now(),
                  message: null as never,
                  pos: ++pos,
                });
              else
                records.push({
                  type: 'message.deleted',
                  conversationId: 'c_1',
                  messageId: `m_${(o.target % seq) + 1}`,
                  for: 'everyone',
                  userId: 'u_a',
                  at: now(),
                  pos: ++pos,
                });
            }
            await store.records.apply(records);
          }
          db.exec('CREATE VIRTUAL TABLE temp.truth USING fts5vocab(main, message_fts, col)');
          const truth = db
            .prepare("SELECT term AS word, doc AS docs FROM temp.truth WHERE col = 'text' AND doc > 0 ORDER BY term")
            .all();
          expect(db.prepare('SELECT word, docs FROM search_words ORDER BY word').all()).toEqual(truth);
          const words = (
            db.prepare("SELECT coalesce(sum(cnt), 0) AS n FROM temp.truth WHERE col = 'text'").get() as { n: number }
          ).n;
          const texts = (
            db.prepare("SELECT count(*) AS n FROM messages WHERE deleted_at IS NULL AND body != ''").get() as {
              n: number;
            }
          ).n;
          expect(db.prepare('SELECT docs, words FROM search_stats').get()).toEqual({ docs: texts, words });
          await store.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('ranks a text with the query word more often, or with the rarer of two words, above a newer one', async () => {
    const { store } = await oneChat('search-rank-');
    const filler = Array.from({ length: 30 }, (_, i) => created(10 + i, `common words number ${i}`));
    await store.records.apply([
      created(1, 'common rare'),
      created(2, 'tea tea tea'),
      created(3, 'tea and more'),
      ...filler,
      created(50, 'common often'),
    ]);
    const bodies = async (q: string) => (await store.search.search('u_a', { q, limit: 3 })).map((r) => r.message.body);
    expect((await bodies('tea'))[0]).toBe('tea tea tea');
    // "rare" is in one text, "common" in 32: the older text with "rare" comes first.
    expect(await bodies('common rare')).toEqual(['common rare']);
    expect(await bodies('rare')).toEqual(['common rare']);
    const either = await store.search.search('u_a', { q: 'common', limit: 50 });
    expect(either).toHaveLength(32);
    // Same words, same length: newest first.
    expect(either.slice(0, 2).map((r) => r.message.body)).toEqual(['common often', 'common rare']);
    await store.close();
  });
});

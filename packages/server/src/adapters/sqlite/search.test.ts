// The word list behind prefix search: every word the index holds must be in search_words, or a
// prefix spelled out as words would silently miss matches.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Message } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../core/log-entries.js';
import { openDatabase } from './db.js';
import { SqliteStore } from './store.js';

const now = () => new Date().toISOString();
const created = (seq: number, body: string): LogRecord => {
  const message: Message = {
    id: `m_${seq}`, conversationId: 'c_1', seq, senderId: 'u_a', clientMsgId: `k${seq}`, body,
    createdAt: now(), editedAt: null, deletedAt: null, replyToId: null, reactions: [],
  };
  return { type: 'message.created', conversationId: 'c_1', message, pos: seq };
};

describe('SqliteSearch word list', () => {
  it('finds words first written after the prefix already had words, through edits and in batches; forgets words no indexed text has any more', async () => {
    const db = openDatabase(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'search-words-')), 'm.db'));
    const store = new SqliteStore({ db });
    await store.createUser({ id: 'u_a', username: 'a', displayName: 'A', createdAt: now(), apiKeyHash: 'h_a' });
    await store.createConversation({ id: 'c_1', kind: 'group', title: 'g', createdAt: now(), memberIds: ['u_a'], directKey: null });
    const bodies = async (q: string) => (await store.search('u_a', { q, limit: 10 })).map((r) => r.message.body).sort();

    await store.apply([created(1, 'zebra crossing')]);
    expect(await bodies('zebr')).toEqual(['zebra crossing']);
    await store.apply([created(2, 'zebracorn sighting'), created(3, 'Zébralé café')]);
    expect(await bodies('zebr')).toEqual(['Zébralé café', 'zebra crossing', 'zebracorn sighting']);
    await store.apply([{ type: 'message.updated', conversationId: 'c_1', messageId: 'm_1', body: 'zebrafish now', editedAt: now(), message: null as never, pos: 4 }]);
    expect(await bodies('zebraf')).toEqual(['zebrafish now']);
    const words = db.prepare("SELECT word FROM search_words WHERE word >= 'zebr' AND word < 'zebs' ORDER BY word").all().map((r) => (r as { word: string }).word);
    // The edit took "zebra crossing" out of the index, and no other message has those words.
    expect(words).toEqual(['zebracorn', 'zebrafish', 'zebrale']);
    expect(db.prepare("SELECT word FROM search_words WHERE word = 'crossing'").all()).toEqual([]);
    // Deleted for everyone: its words go too, unless another message still has them.
    await store.apply([created(5, 'zebracorn again'), { type: 'message.deleted', conversationId: 'c_1', messageId: 'm_2', for: 'everyone', userId: 'u_a', at: now(), pos: 6 }]);
    const left = () => db.prepare("SELECT word FROM search_words WHERE word IN ('zebracorn', 'sighting', 'again')").all().map((r) => (r as { word: string }).word).sort();
    expect(left()).toEqual(['again', 'zebracorn']);
    expect(await bodies('zebrac')).toEqual(['zebracorn again']);
    await store.close();
  });
});

// Search indexed after the commit: what a commit acknowledged is found once the index caught up,
// edits and deletions of messages still waiting for the index come out right, and after a kill -9
// of the process that committed (its queue lost with it) the next writer indexes what was missing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Message } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import type { LogDraft } from '../../core/log-entries.js';
import { openDatabase } from './db.js';
import { SqliteLogWriter } from './log-writer.js';
import { SqliteStore } from './store.js';

const AT = '2026-01-01T00:00:00.000Z';
const send = (clientMsgId: string, body: string): LogDraft => {
  const message: Message = {
    id: `m_${clientMsgId}`,
    conversationId: 'c_1',
    seq: 0,
    senderId: 'u_a',
    clientMsgId,
    body,
    createdAt: AT,
    editedAt: null,
    deletedAt: null,
    replyToId: null,
    reactions: [],
    attachments: [],
  };
  return { type: 'message.created', conversationId: 'c_1', message };
};

/** A data file with one user, u_a, alone in one group chat, c_1. */
async function oneChat(): Promise<string> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deferred-index-')), 'm.db');
  const store = new SqliteStore({ db: openDatabase(file) });
  await store.users.createUser({ id: 'u_a', username: 'a', displayName: 'A', createdAt: AT, apiKeyHash: 'h_a' });
  await store.conversations.createConversation({
    id: 'c_1',
    kind: 'group',
    title: 'g',
    createdAt: AT,
    memberIds: ['u_a'],
    directKey: null,
  });
  await store.close();
  return file;
}

const bodies = async (store: SqliteStore, q: string) =>
  (await store.search.search('u_a', { q, limit: 50 })).map((r) => r.message.body).sort();

describe('search indexed after the commit', () => {
  it('finds committed messages once indexed; edits and deletions of unindexed messages index them first', async () => {
    const file = await oneChat();
    const writer = new SqliteLogWriter({ db: openDatabase(file), writeStore: true, deferIndex: true });
    const reader = new SqliteStore({ db: openDatabase(file) });
    writer.commit([send('k1', 'walrus one'), send('k2', 'walrus two'), send('k3', 'walrus three')], []);
    expect(writer.unindexed).toBe(3);
    expect(await bodies(reader, 'walrus')).toEqual([]);
    writer.indexNow();
    expect(writer.unindexed).toBe(0);
    expect(await bodies(reader, 'walrus')).toEqual(['walrus one', 'walrus three', 'walrus two']);

    // k4 waits for the index; an edit of k4 and a deletion of k5 in the same commit index it first.
    writer.commit([send('k4', 'narwhal four'), send('k5', 'narwhal five')], []);
    writer.commit(
      [
        { type: 'message.updated', conversationId: 'c_1', messageId: 'm_k4', body: 'beluga four', editedAt: AT },
        { type: 'message.deleted', conversationId: 'c_1', messageId: 'm_k5', for: 'everyone', userId: 'u_a', at: AT },
        send('k6', 'narwhal six'),
      ] as LogDraft[],
      [],
    );
    expect(writer.unindexed).toBe(1);
    writer.indexNow();
    expect(await bodies(reader, 'narwhal')).toEqual(['narwhal six']);
    expect(await bodies(reader, 'beluga')).toEqual(['beluga four']);
    // Nothing was indexed twice: a retry of k1 is a duplicate and the index has one row per message.
    const indexed = openDatabase(file).prepare('SELECT count(*) AS n FROM message_fts').get() as { n: number };
    expect(indexed.n).toBe(5);
    expect(writer.commit([send('k1', 'walrus one')], []).outcomes[0]).toMatchObject({ ok: true });
    expect(writer.unindexed).toBe(0);
  });

  it('indexes after a kill -9 what the killed writer committed and never indexed', async () => {
    const file = await oneChat();
    const count = 300;
    // The child commits through the compiled writer (as the server's writer thread does), never
    // indexes, says so, and is killed while its queue is still in memory.
    const script = `
      import { openDatabase } from ${JSON.stringify(new URL('../../../dist/adapters/sqlite/db.js', import.meta.url).href)};
      import { SqliteLogWriter } from ${JSON.stringify(new URL('../../../dist/adapters/sqlite/log-writer.js', import.meta.url).href)};
      const drafts = ${JSON.stringify(Array.from({ length: count }, (_, i) => send(`k${i}`, `orca pod ${i}`)))};
      const writer = new SqliteLogWriter({ db: openDatabase(${JSON.stringify(file)}), writeStore: true, deferIndex: true });
      for (let i = 0; i < drafts.length; i += 50) writer.commit(drafts.slice(i, i + 50), []);
      process.stdout.write('committed ' + writer.unindexed + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const said = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => resolve(String(d).trim()));
      child.on('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
    });
    expect(said).toBe(`committed ${count}`);
    const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const reader = new SqliteStore({ db: openDatabase(file) });
    const db = openDatabase(file);
    const progress = () =>
      (db.prepare('SELECT indexed_rowid FROM search_progress').get() as { indexed_rowid: number }).indexed_rowid;
    const maxRowid = (db.prepare('SELECT max(rowid) AS r FROM messages').get() as { r: number }).r;
    // Committed (every message is in the table) and not indexed.
    expect((db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n).toBe(count);
    expect(progress()).toBeLessThan(maxRowid);
    expect(await bodies(reader, 'orca')).toEqual([]);

    // The next writer (the restarted server's) catches up before its first commit.
    const writer = new SqliteLogWriter({ db: openDatabase(file), writeStore: true, deferIndex: true });
    expect(writer.unindexed).toBe(0);
    expect(progress()).toBe(maxRowid);
    const found = await reader.search.search('u_a', { q: 'orca', limit: 500 });
    expect(found).toHaveLength(count);
    expect(await bodies(reader, '299')).toEqual(['orca pod 299']);
  });
});

import type { Message } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import type { LogDraft } from '../../core/log-entries.js';
import { openDatabase } from './db.js';
import { SqliteLogWriter } from './log-writer.js';
import { expand, slim } from './writer-channel.js';

function message(id: string, clientMsgId: string): Message {
  return {
    id,
    conversationId: 'c1',
    seq: 0,
    senderId: 'u1',
    clientMsgId,
    body: 'hi',
    createdAt: '2026-01-01T00:00:00.000Z',
    editedAt: null,
    deletedAt: null,
    replyToId: null,
    reactions: [],
    attachments: [],
  };
}

describe('writer thread reply', () => {
  it('rebuilds on the event loop exactly the outcome and records the writer returned', () => {
    const writer = new SqliteLogWriter({ db: openDatabase(':memory:'), writeStore: false });
    const drafts: LogDraft[] = [
      { type: 'message.created', conversationId: 'c1', message: message('m1', 'k1') },
      { type: 'receipt.read', conversationId: 'c1', userId: 'u2', seq: 1, ownOnly: true },
      { type: 'message.created', conversationId: 'c1', message: message('m2', 'k1') },
      { type: 'conversation.updated', conversationId: 'c1', userIds: ['u1', 'u2'] },
      { type: 'message.created', conversationId: 'c1', message: message('m3', 'k2') },
    ];
    const outcome = writer.commit(drafts, []);
    // Through the thread boundary, as postMessage would carry it.
    const reply = structuredClone(slim(outcome));
    expect(reply.filter((o) => 'pos' in o)).toHaveLength(4);
    expect(expand(drafts, reply)).toEqual(outcome);
  });
});

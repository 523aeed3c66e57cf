import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../core/log-entries.js';
import { type ApplyDialect, applyCalls } from './apply.js';

const sent = (pos: number): LogRecord => ({
  type: 'message.created',
  conversationId: 'c',
  pos,
  message: {
    id: `m${pos}`,
    conversationId: 'c',
    seq: pos,
    senderId: 'u',
    clientMsgId: `x${pos}`,
    body: 'hi',
    createdAt: '2030-01-01T00:00:00.000Z',
    editedAt: null,
    deletedAt: null,
    replyToId: null,
    reactions: [],
    attachments: [],
  },
});
const records: LogRecord[] = [
  sent(1),
  sent(2),
  { type: 'receipt.read', conversationId: 'c', userId: 'u', seq: 2, pos: 3 },
  { type: 'conversation.updated', conversationId: 'c', userIds: ['u'], pos: 4 },
  sent(5),
  { type: 'message.deleted', conversationId: 'c', messageId: 'm1', for: 'me', userId: 'u', at: 't', pos: 6 },
  { type: 'message.deleted', conversationId: 'c', messageId: 'm2', for: 'everyone', userId: 'u', at: 't', pos: 7 },
  { type: 'reaction.updated', conversationId: 'c', messageId: 'm5', userId: 'u', emoji: null, pos: 8 },
  {
    type: 'message.updated',
    conversationId: 'c',
    messageId: 'm5',
    body: 'b',
    editedAt: 't',
    message: {} as never,
    pos: 9,
  },
  sent(10),
];

/** A dialect that notes each call as its name and the positions of its records. */
function recording<R>(result: () => R): { dialect: ApplyDialect<R>; calls: string[] } {
  const calls: string[] = [];
  const note = (name: string, rs: LogRecord[]) => {
    calls.push(`${name} ${rs.map((r) => r.pos).join(',')}`);
    return result();
  };
  return {
    calls,
    dialect: {
      insert: (run) => note('insert', run),
      edit: (r) => note('edit', [r]),
      erase: (r) => note('erase', [r]),
      hide: (r) => note('hide', [r]),
      react: (r) => note('react', [r]),
      receipt: (r) => note('receipt', [r]),
    },
  };
}

describe('applyCalls', () => {
  it('calls the dialect in log order, consecutive sends together, nothing for conversation.updated', () => {
    const { dialect, calls } = recording(() => undefined);
    for (const _ of applyCalls(records, dialect));
    expect(calls).toEqual([
      'insert 1,2',
      'receipt 3',
      'insert 5',
      'hide 6',
      'erase 7',
      'react 8',
      'edit 9',
      'insert 10',
    ]);
  });

  it('makes no call before the caller has awaited the one before it', async () => {
    let pending = 0;
    let most = 0;
    const { dialect, calls } = recording(async () => {
      most = Math.max(most, ++pending);
      await new Promise((resolve) => setTimeout(resolve, 1));
      pending--;
    });
    for (const call of applyCalls(records, dialect)) await call;
    expect(calls).toHaveLength(8);
    expect(most).toBe(1);
  });
});

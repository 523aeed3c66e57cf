import { describe, expect, it } from 'vitest';
import type { Message } from '@messenger/protocol';
import { checkCanDeleteForEveryone, checkCanEdit, checkMessageText, nextReceiptSeq, tombstone } from './rules.js';

const msg = (over: Partial<Message> = {}): Message => ({
  id: 'm_1',
  conversationId: 'c_1',
  seq: 3,
  senderId: 'u_a',
  clientMsgId: 'x',
  body: 'hi',
  createdAt: new Date(1_000_000).toISOString(),
  editedAt: null,
  deletedAt: null,
  replyToId: null,
  reactions: [{ userId: 'u_b', emoji: '👍' }],
  attachments: [],
  ...over,
});

describe('domain rules', () => {
  it('caps message text in UTF-8 bytes, not characters', () => {
    expect(() => checkMessageText('é'.repeat(2048))).not.toThrow();
    expect(() => checkMessageText('é'.repeat(2049))).toThrow(expect.objectContaining({ code: 'message_too_big' }));
    expect(() => checkMessageText('   ')).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
  it('lets only the sender edit, only inside the window, never a tombstone', () => {
    expect(() => checkCanEdit(msg(), 'u_a', 1_000_000 + 1000, 60_000)).not.toThrow();
    expect(() => checkCanEdit(msg(), 'u_b', 1_000_000, 60_000)).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(() => checkCanEdit(msg(), 'u_a', 1_000_000 + 60_001, 60_000)).toThrow(
      expect.objectContaining({ code: 'forbidden' }),
    );
    expect(() => checkCanEdit(msg({ deletedAt: 'x' }), 'u_a', 1_000_000, 60_000)).toThrow(
      expect.objectContaining({ code: 'forbidden' }),
    );
  });
  it('lets only the sender delete for everyone', () => {
    expect(() => checkCanDeleteForEveryone(msg(), 'u_a')).not.toThrow();
    expect(() => checkCanDeleteForEveryone(msg(), 'u_b')).toThrow(expect.objectContaining({ code: 'forbidden' }));
  });
  it('moves receipts forward only, up to the last seq', () => {
    expect(nextReceiptSeq(5, 3, 10)).toBe(5);
    expect(nextReceiptSeq(5, 8, 10)).toBe(8);
    expect(nextReceiptSeq(5, 80, 10)).toBe(10);
  });
  it('empties a tombstone', () => {
    expect(tombstone(msg(), 'now')).toMatchObject({ body: '', reactions: [], deletedAt: 'now' });
  });
});

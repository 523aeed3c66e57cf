import { describe, expect, it } from 'vitest';
import { DeliveredCoalescer, owedDelivered } from './delivered.js';

describe('DeliveredCoalescer', () => {
  it('sends the highest seq per conversation once', () => {
    const c = new DeliveredCoalescer();
    expect(c.note('a', 3)).toBe(true);
    c.note('a', 5);
    c.note('a', 4);
    c.note('b', 1);
    expect(c.drain()).toEqual([
      { conversationId: 'a', seq: 5 },
      { conversationId: 'b', seq: 1 },
    ]);
    expect(c.drain()).toEqual([]);
    expect(c.note('a', 5)).toBe(false);
    expect(c.pending()).toBe(false);
  });

  it('owes a failed receipt again, unless a higher one went out since', () => {
    const c = new DeliveredCoalescer();
    c.note('a', 2);
    const [first] = c.drain();
    c.failed(first!);
    expect(c.pending()).toBe(true);
    expect(c.drain()).toEqual([{ conversationId: 'a', seq: 2 }]);
    c.note('a', 7);
    c.drain();
    c.failed({ conversationId: 'a', seq: 2 });
    expect(c.pending()).toBe(false);
  });
});

describe('owedDelivered', () => {
  const member = (userId: string, deliveredSeq: number) => ({ userId, deliveredSeq });
  it("owes one receipt up to lastSeq where the newest message is someone else's and ours lags", () => {
    const owed = owedDelivered(
      [
        { id: 'behind', lastSeq: 9, lastMessage: { senderId: 'u2' }, members: [member('u1', 4), member('u2', 9)] },
        { id: 'caught-up', lastSeq: 5, lastMessage: { senderId: 'u2' }, members: [member('u1', 5)] },
        { id: 'mine-last', lastSeq: 7, lastMessage: { senderId: 'u1' }, members: [member('u1', 3)] },
        { id: 'empty', lastSeq: 0, lastMessage: null, members: [member('u1', 0)] },
        { id: 'all-hidden', lastSeq: 3, lastMessage: null, members: [member('u1', 0)] },
      ],
      'u1',
    );
    expect(owed).toEqual([{ conversationId: 'behind', seq: 9 }]);
  });
});

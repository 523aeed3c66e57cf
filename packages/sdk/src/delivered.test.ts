import { describe, expect, it } from 'vitest';
import { DeliveredCoalescer } from './delivered.js';

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

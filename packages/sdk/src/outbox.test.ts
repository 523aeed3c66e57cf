import { describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';
import { MemoryOutboxStore, type OutboxItem } from './outbox-store.js';

const item = (id: string, conversationId = 'c1', createdAt = '2025-01-01T00:00:00.000Z'): OutboxItem => ({
  clientMsgId: id,
  conversationId,
  body: `text ${id}`,
  replyToId: null,
  state: 'pending',
  createdAt,
});

function setup() {
  const store = new MemoryOutboxStore();
  const changes: OutboxItem[][] = [];
  const outbox = new Outbox({ store, onChange: (items) => changes.push(items) });
  return { store, outbox, changes };
}

describe('Outbox', () => {
  it('saves every change before announcing it', () => {
    const { store, outbox, changes } = setup();
    outbox.add(item('a'));
    expect(store.load().map((i) => i.clientMsgId)).toEqual(['a']);
    outbox.fail('a', { code: 'forbidden', message: 'no' });
    expect(store.load()[0]).toMatchObject({ state: 'failed', error: { code: 'forbidden' } });
    outbox.remove('a');
    expect(store.load()).toEqual([]);
    expect(changes.map((c) => c.map((i) => i.state))).toEqual([['pending'], ['failed'], []]);
  });

  it('loads what a previous page left in the store', () => {
    const store = new MemoryOutboxStore();
    store.save([item('left-over')]);
    const outbox = new Outbox({ store });
    expect(outbox.due(new Set(), Date.now()).map((i) => i.clientMsgId)).toEqual(['left-over']);
  });

  it('refuses a second item with the same clientMsgId', () => {
    const { outbox } = setup();
    expect(outbox.add(item('a'))).toBe(true);
    expect(outbox.add(item('a'))).toBe(false);
    expect(outbox.items()).toHaveLength(1);
  });

  it('sends one item at a time per conversation, oldest first, conversations in parallel', () => {
    const { outbox } = setup();
    outbox.add(item('a1', 'A'));
    outbox.add(item('a2', 'A'));
    outbox.add(item('b1', 'B'));
    const now = Date.now();
    expect(outbox.due(new Set(), now).map((i) => i.clientMsgId)).toEqual(['a1', 'b1']);
    expect(outbox.due(new Set(['a1']), now).map((i) => i.clientMsgId)).toEqual(['b1']);
    outbox.remove('a1');
    expect(outbox.due(new Set(['b1']), now).map((i) => i.clientMsgId)).toEqual(['a2']);
  });

  it('skips failed items, and retry() puts them back at their place', () => {
    const { outbox } = setup();
    outbox.add(item('a1'));
    outbox.add(item('a2'));
    outbox.fail('a1', { code: 'message_too_big', message: 'big' });
    expect(outbox.due(new Set(), Date.now()).map((i) => i.clientMsgId)).toEqual(['a2']);
    expect(outbox.retry('a1')).toBe(true);
    expect(outbox.get('a1')).toEqual(item('a1'));
    expect(outbox.due(new Set(), Date.now()).map((i) => i.clientMsgId)).toEqual(['a1']);
  });

  it('holds a deferred item, and what follows it in its conversation, until its time', () => {
    const { outbox } = setup();
    outbox.add(item('a1', 'A'));
    outbox.add(item('a2', 'A'));
    outbox.add(item('b1', 'B'));
    expect(outbox.defer('a1', 1000)).toBe(1);
    expect(outbox.defer('a1', 2000)).toBe(2);
    expect(outbox.nextWakeAt()).toBe(2000);
    expect(outbox.due(new Set(), 1999).map((i) => i.clientMsgId)).toEqual(['b1']);
    expect(outbox.due(new Set(), 2000).map((i) => i.clientMsgId)).toEqual(['a1', 'b1']);
    outbox.retry('a1');
    expect(outbox.attempts('a1')).toBe(0);
    expect(outbox.nextWakeAt()).toBeUndefined();
  });

  it('reports no wake-up for items that are gone', () => {
    const { outbox } = setup();
    outbox.add(item('a'));
    outbox.defer('a', 500);
    outbox.remove('a');
    expect(outbox.nextWakeAt()).toBeUndefined();
    expect(outbox.fail('a', { code: 'forbidden', message: '' })).toBe(false);
  });
});

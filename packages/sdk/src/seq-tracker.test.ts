import type { Message, ServerEvent } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import { aConversation, aMessage } from '../test/fixtures.js';
import { SeqTracker } from './seq-tracker.js';

const msg = (conversationId: string, seq: number, senderId = 'u2'): Message =>
  aMessage({
    conversationId,
    seq,
    senderId,
    id: `${conversationId}-m${seq}`,
    body: `hello ${seq}`,
    createdAt: '2025-01-01T00:00:00.000Z',
  });

const created = (conversationId: string, seq: number): ServerEvent => ({
  type: 'message.created',
  conversationId,
  message: msg(conversationId, seq),
});
const seqs = (events: ServerEvent[]) => events.map((e) => (e.type === 'message.created' ? e.message.seq : e.type));

describe('SeqTracker live events', () => {
  it('hands each message once: a seq at or below the handed one is dropped', () => {
    const t = new SeqTracker();
    expect(seqs(t.accept(created('a', 1)))).toEqual([1]);
    expect(seqs(t.accept(created('a', 2)))).toEqual([2]);
    expect(seqs(t.accept(created('a', 2)))).toEqual([]);
    expect(seqs(t.accept(created('a', 1)))).toEqual([]);
    expect(seqs(t.accept(created('a', 5)))).toEqual([5]); // gaps are allowed by the contract
    expect(t.handed('a')).toBe(5);
  });

  it('lets the app seed a conversation it loaded history for, and never lowers it', () => {
    const t = new SeqTracker();
    t.track('a', 10);
    expect(t.accept(created('a', 9))).toEqual([]);
    t.track('a', 3);
    expect(t.handed('a')).toBe(10);
    expect(seqs(t.accept(created('a', 11)))).toEqual([11]);
  });

  it('passes events without a seq, and presence, straight through', () => {
    const t = new SeqTracker();
    const typing: ServerEvent = { type: 'typing', conversationId: 'a', userId: 'u2' };
    const presence: ServerEvent = { type: 'presence', userId: 'u2', status: 'online', lastSeenAt: null };
    expect(t.accept(typing)).toEqual([typing]);
    expect(t.accept(presence)).toEqual([presence]);
    expect(t.handed('a')).toBeUndefined();
  });

  it('knows a brand-new conversation from seq 0, but does not trust a later lastSeq', () => {
    const t = new SeqTracker();
    const conversation = aConversation({ id: 'n' });
    t.accept({ type: 'conversation.updated', conversation });
    expect(t.handed('n')).toBe(0);
    t.accept({ type: 'conversation.updated', conversation: { ...conversation, id: 'old', lastSeq: 7 } });
    expect(t.handed('old')).toBeUndefined();
  });

  it('knows every conversation it heard of, by seq, event or listing', () => {
    const t = new SeqTracker();
    t.track('seeded', 2);
    t.accept({ type: 'typing', conversationId: 'typed', userId: 'u2' });
    t.plan([{ id: 'listed', lastSeq: 4 }]);
    for (const id of ['seeded', 'typed', 'listed']) expect(t.isKnown(id)).toBe(true);
    expect(t.isKnown('other')).toBe(false);
  });
});

describe('SeqTracker catch-up', () => {
  it('holds live events of known conversations from ready until the gap is filled, then merges in seq order', () => {
    const t = new SeqTracker();
    t.track('a', 3);
    t.beginCatchUp();
    // Live traffic on the new socket while the HTTP catch-up is under way.
    expect(t.accept(created('a', 7))).toEqual([]);
    expect(t.accept({ type: 'typing', conversationId: 'a', userId: 'u2' })).toEqual([]);
    expect(t.accept(created('a', 8))).toEqual([]);

    const plan = t.plan([{ id: 'a', lastSeq: 7 }]);
    expect(plan.targets).toEqual([{ conversationId: 'a', afterSeq: 3, lastSeq: 7 }]);
    expect(plan.ready).toEqual([]);

    // The page may already contain what came live (7), and may be out of order.
    expect(seqs(t.caughtUp('a', [msg('a', 5), msg('a', 4), msg('a', 7), msg('a', 3)]))).toEqual([4, 5, 7]);
    expect(seqs(t.finish('a'))).toEqual(['typing', 8]);
    expect(t.isCatchingUp('a')).toBe(false);
    expect(seqs(t.accept(created('a', 8)))).toEqual([]);
    expect(seqs(t.accept(created('a', 9)))).toEqual([9]);
  });

  it('releases at once the conversations that missed nothing, and those no longer listed', () => {
    const t = new SeqTracker();
    t.track('same', 5);
    t.track('gone', 2);
    t.beginCatchUp();
    t.accept(created('same', 6));
    t.accept(created('gone', 3));
    const plan = t.plan([{ id: 'same', lastSeq: 5 }]);
    expect(plan.targets).toEqual([]);
    expect(seqs(plan.ready).sort()).toEqual([3, 6]);
    expect(t.isCatchingUp('same') || t.isCatchingUp('gone')).toBe(false);
  });

  it('emits nothing for conversations it never saw, but remembers where they are', () => {
    const t = new SeqTracker();
    t.beginCatchUp();
    const plan = t.plan([{ id: 'new', lastSeq: 40 }]);
    expect(plan).toEqual({ targets: [], ready: [] });
    expect(t.handed('new')).toBe(40);
    // Next time it is known: an outage is caught up from 40.
    t.beginCatchUp();
    expect(t.plan([{ id: 'new', lastSeq: 42 }]).targets).toEqual([
      { conversationId: 'new', afterSeq: 40, lastSeq: 42 },
    ]);
  });

  it('hands out, once, a message that was in flight when an unseen conversation was listed', () => {
    const t = new SeqTracker();
    t.beginCatchUp();
    // The listing already counts seq 2 (the store is ahead of fan-out); its live event comes after.
    t.plan([{ id: 'busy', lastSeq: 2 }]);
    expect(seqs(t.accept(created('busy', 2)))).toEqual([2]);
    expect(seqs(t.accept(created('busy', 2)))).toEqual([]); // a redelivery
    expect(seqs(t.accept(created('busy', 3)))).toEqual([3]);
    expect(seqs(t.accept(created('busy', 2)))).toEqual([]);
    // An app that loaded history itself seeds the position: nothing at or below it comes again.
    const u = new SeqTracker();
    u.beginCatchUp();
    u.plan([{ id: 'loaded', lastSeq: 5 }]);
    u.seed('loaded', 5);
    expect(seqs(u.accept(created('loaded', 5)))).toEqual([]);
  });

  it('does not hold back conversations first seen during catch-up', () => {
    const t = new SeqTracker();
    t.beginCatchUp();
    expect(seqs(t.accept(created('fresh', 1)))).toEqual([1]);
  });

  it('keeps buffers across an interrupted catch-up, and the next one dedupes them', () => {
    const t = new SeqTracker();
    t.track('a', 1);
    t.beginCatchUp();
    t.accept(created('a', 4));
    t.plan([{ id: 'a', lastSeq: 4 }]);
    expect(seqs(t.caughtUp('a', [msg('a', 2)]))).toEqual([2]);
    // The socket drops here; a new one is ready.
    t.beginCatchUp();
    t.accept(created('a', 5));
    const plan = t.plan([{ id: 'a', lastSeq: 5 }]);
    expect(plan.targets).toEqual([{ conversationId: 'a', afterSeq: 2, lastSeq: 5 }]);
    expect(seqs(t.caughtUp('a', [msg('a', 3), msg('a', 4), msg('a', 5)]))).toEqual([3, 4, 5]);
    expect(seqs(t.finish('a'))).toEqual([]);
  });
});

import type { Conversation, Message, ServerEvent } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import { catchUp } from './catch-up.js';
import { aConversation, aMessage } from '../test/fixtures.js';
import { SeqTracker } from './seq-tracker.js';

const msg = (conversationId: string, seq: number): Message => aMessage({ conversationId, seq });

/** A small in-memory history standing in for the two endpoints catch-up reads. */
class History {
  readonly messages = new Map<string, Message[]>();
  readonly calls: string[] = [];
  failOn: string | undefined;

  add(conversationId: string, ...seqs: number[]): void {
    const list = this.messages.get(conversationId) ?? [];
    list.push(...seqs.map((s) => msg(conversationId, s)));
    this.messages.set(conversationId, list);
  }

  async listAllConversations(): Promise<Conversation[]> {
    return [...this.messages].map(([id, list]) =>
      aConversation({ id, kind: 'group', lastSeq: list.at(-1)?.seq ?? 0, lastMessage: list.at(-1) ?? null }),
    );
  }

  async getMessages(conversationId: string, opts: { afterSeq?: number; limit?: number }): Promise<Message[]> {
    this.calls.push(`${conversationId}>${opts.afterSeq}`);
    if (this.failOn === conversationId) throw new Error('boom');
    const after = opts.afterSeq ?? 0;
    return (this.messages.get(conversationId) ?? []).filter((m) => m.seq > after).slice(0, opts.limit ?? 50);
  }
}

/** A tracker that has handed out the seqs in `handed` (by conversation) and begins a catch-up. */
function catchingUp(handed: Record<string, number>): SeqTracker {
  const tracker = new SeqTracker();
  for (const [conversationId, seq] of Object.entries(handed)) tracker.track(conversationId, seq);
  tracker.beginCatchUp();
  return tracker;
}

const seqsOf = (events: ServerEvent[], id: string) =>
  events.flatMap((e) => (e.type === 'message.created' && e.conversationId === id ? [e.message.seq] : []));

describe('catchUp', () => {
  it('pages every known conversation from what was handed out, in order, until caught up', async () => {
    const history = new History();
    history.add('a', 1, 2, 3, 4, 5, 6, 7);
    history.add('b', 1, 2);
    history.add('unseen', 1, 2, 3);
    const tracker = catchingUp({ a: 2, b: 2 });
    const emitted: ServerEvent[] = [];
    await catchUp({ api: history, tracker, emit: (e) => emitted.push(e), isCurrent: () => true, pageSize: 2 });
    expect(seqsOf(emitted, 'a')).toEqual([3, 4, 5, 6, 7]);
    expect(seqsOf(emitted, 'b')).toEqual([]);
    expect(seqsOf(emitted, 'unseen')).toEqual([]);
    expect(history.calls).toEqual(['a>2', 'a>4', 'a>6']);
    expect(tracker.handed('unseen')).toBe(3);
    expect(tracker.isCatchingUp('a')).toBe(false);
  });

  it('resolves with the listing, and which conversations it had never heard of', async () => {
    const history = new History();
    history.add('a', 1, 2);
    history.add('new', 1);
    const tracker = catchingUp({ a: 1 });
    const result = await catchUp({ api: history, tracker, emit: () => {}, isCurrent: () => true });
    expect(result?.conversations.map((c) => c.id)).toEqual(['a', 'new']);
    expect(result?.added.map((c) => c.id)).toEqual(['new']);
    // Listed once, known from then on.
    tracker.beginCatchUp();
    const again = await catchUp({ api: history, tracker, emit: () => {}, isCurrent: () => true });
    expect(again?.added).toEqual([]);
  });

  it('merges live events that arrived during the paging, each message once', async () => {
    const history = new History();
    history.add('a', 1, 2, 3, 4);
    const tracker = catchingUp({ a: 1 });
    const emitted: ServerEvent[] = [];
    const api = {
      listAllConversations: () => history.listAllConversations(),
      getMessages: async (id: string, opts: { afterSeq?: number; limit?: number }) => {
        // Messages 4 and 5 arrive live on the socket while the first page is in flight.
        for (const e of tracker.accept({ type: 'message.created', conversationId: 'a', message: msg('a', 4) }))
          emitted.push(e);
        history.add('a', 5);
        for (const e of tracker.accept({ type: 'message.created', conversationId: 'a', message: msg('a', 5) }))
          emitted.push(e);
        return history.getMessages(id, opts);
      },
    };
    await catchUp({ api, tracker, emit: (e) => emitted.push(e), isCurrent: () => true, pageSize: 200 });
    expect(seqsOf(emitted, 'a')).toEqual([2, 3, 4, 5]);
  });

  it('catches up message requests too, and leaves them out of the chat list it returns', async () => {
    const chats = new History();
    chats.add('a', 1);
    const requests = new History();
    requests.add('r', 1, 2);
    const tracker = catchingUp({ r: 1 });
    const emitted: ServerEvent[] = [];
    const api = {
      listAllConversations: () => chats.listAllConversations(),
      listAllRequests: () => requests.listAllConversations(),
      getMessages: (id: string, opts: { afterSeq?: number; limit?: number }) =>
        (id === 'r' ? requests : chats).getMessages(id, opts),
    };
    const result = await catchUp({ api, tracker, emit: (e) => emitted.push(e), isCurrent: () => true });
    expect(seqsOf(emitted, 'r')).toEqual([2]);
    expect(result?.conversations.map((c) => c.id)).toEqual(['a']);
  });

  it('stops touching the tracker once its socket is gone', async () => {
    const history = new History();
    history.add('a', 1, 2, 3);
    const tracker = catchingUp({ a: 1 });
    let current = true;
    const emitted: ServerEvent[] = [];
    const api = {
      listAllConversations: () => history.listAllConversations(),
      getMessages: async (id: string, opts: { afterSeq?: number; limit?: number }) => {
        current = false;
        return history.getMessages(id, opts);
      },
    };
    expect(await catchUp({ api, tracker, emit: (e) => emitted.push(e), isCurrent: () => current })).toBeUndefined();
    expect(emitted).toEqual([]);
    expect(tracker.handed('a')).toBe(1);
    expect(tracker.isCatchingUp('a')).toBe(true);
  });

  it('throws on a failed fetch, leaving the conversation held back for the next attempt', async () => {
    const history = new History();
    history.add('a', 1, 2);
    history.failOn = 'a';
    const tracker = catchingUp({ a: 1 });
    await expect(catchUp({ api: history, tracker, emit: () => {}, isCurrent: () => true })).rejects.toThrow('boom');
    expect(tracker.isCatchingUp('a')).toBe(true);
  });
});

// OutboxSender: a send refused as unavailable with a Retry-After (the cluster's store is catching
// up) is not sent again before then, and goes once it has passed, with the same clientMsgId.
import type { Message } from '@messenger/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessengerError } from './errors.js';
import { Outbox } from './outbox.js';
import { OutboxSender } from './outbox-sender.js';
import { MemoryOutboxStore, type OutboxItem } from './outbox-store.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('OutboxSender', () => {
  it('waits out the Retry-After of an unavailable answer before sending again', async () => {
    vi.useFakeTimers();
    const attempts: { clientMsgId: string; at: number }[] = [];
    const sender = new OutboxSender({
      outbox: new Outbox({ store: new MemoryOutboxStore() }),
      canSend: () => true,
      retry: { minDelayMs: 100, maxDelayMs: 100 },
      send: async (item: OutboxItem) => {
        attempts.push({ clientMsgId: item.clientMsgId, at: Date.now() });
        if (attempts.length === 1)
          throw new MessengerError('unavailable', 'the store is behind the log', { status: 503, retryAfterMs: 3_000 });
        return { clientMsgId: item.clientMsgId, seq: 1 } as Message;
      },
    });
    const sent = sender.enqueue('c1', 'hello', { clientMsgId: 'm1' });
    sender.pump();
    await vi.advanceTimersByTimeAsync(2_900);
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(attempts.map((a) => a.clientMsgId)).toEqual(['m1', 'm1']);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(3_000);
    await expect(sent).resolves.toMatchObject({ clientMsgId: 'm1' });
  });
});

// JetStreamPublisher against the NATS server at 127.0.0.1:4222 (JetStream on).
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { headerSafe, JetStreamPublisher } from './publisher.js';

const SERVERS = 'nats://127.0.0.1:4222';

describe('JetStreamPublisher', () => {
  it('resolves with the stream acknowledgement, flags duplicates, and fails fast, or after its timeout, otherwise', async () => {
    const nc = await connect({ servers: SERVERS });
    const jsm = await jetstreamManager(nc);
    const stream = `pub${Math.random().toString(36).slice(2, 10)}`;
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], duplicate_window: nanos(60_000) });
    const publisher = new JetStreamPublisher(nc, 300);
    try {
      const acks = await Promise.all([
        publisher.publish(`${stream}.a`, 'one', 'k1'),
        publisher.publish(`${stream}.b`, 'two', 'k2'),
        publisher.publish(`${stream}.a`, 'again', 'k1'),
      ]);
      expect(acks).toEqual([
        { stream, seq: 1, duplicate: false },
        { stream, seq: 2, duplicate: false },
        { stream, seq: 1, duplicate: true },
      ]);
      expect((await jsm.streams.getMessage(stream, { seq: 2 }))?.string()).toBe('two');
      // Ids a header cannot carry as they are (CR, LF, spaces at either end, non-ASCII): each is its own message,
      // and its retry is a duplicate of it; none throws (a throw here once escaped from the flush timer).
      const odd = ['k1 ', ' k1', 'a\nb', 'a\r\nb', 'café', '~k1'];
      const first = await Promise.all(odd.map((id, i) => publisher.publish(`${stream}.c`, `odd ${i}`, id)));
      expect(first.map((a) => [a.seq, a.duplicate])).toEqual(odd.map((_, i) => [3 + i, false]));
      const again = await Promise.all(odd.map((id, i) => publisher.publish(`${stream}.c`, `odd again ${i}`, id)));
      expect(again.map((a) => [a.seq, a.duplicate])).toEqual(odd.map((_, i) => [3 + i, true]));
      expect(new Set(odd.map(headerSafe)).size).toBe(odd.length);
      expect(headerSafe('u_1:h-1')).toBe('u_1:h-1');
      // Nobody listens: NATS answers "no responders" (not the timeout below).
      await expect(publisher.publish(`nostream${stream}.x`, 'lost')).rejects.toThrow(/no responders/);
      // A listener that never answers: the timeout.
      const mute = nc.subscribe(`mute${stream}.x`, { callback: () => undefined });
      const started = Date.now();
      await expect(publisher.publish(`mute${stream}.x`, 'unanswered')).rejects.toThrow(/within 300 ms/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      mute.unsubscribe();
    } finally {
      await publisher.close();
      await jsm.streams.delete(stream);
      await nc.close();
    }
  });
});

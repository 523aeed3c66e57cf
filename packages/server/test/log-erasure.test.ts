// Delete-for-everyone erases the text from the cluster's log too, not only from the store: once the
// persister applied the deletion, no record of the partition streams holds the message's text or
// any of its edits. A durable reader that starts after the erasure reads past the holes.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { logStream } from '../src/adapters/nats/subjects.js';
import type { LogRecord } from '../src/core/log-entries.js';
import { deploymentOf, NATS_URL } from './deployment.mjs';
import { CLUSTER, directChat, persisterCaughtUp, sendHttp, serverForFile, signUpMany, waitFor } from './harness.js';

// Embedded mode has no separate log: its store is the only copy, and deletes tombstone it there.
describe.runIf(CLUSTER)('delete for everyone erases the log', () => {
  const server = serverForFile();

  /** Every record of every partition stream of this deployment, as text. */
  async function rawLog(): Promise<string[]> {
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      const texts: string[] = [];
      for (let p = 0; p < server.config.logPartitions; p++) {
        const stream = logStream(deploymentOf(server.dataDir).streamPrefix, p);
        const { first_seq, last_seq } = (await jsm.streams.info(stream)).state;
        for (let seq = first_seq; seq <= last_seq && last_seq > 0; seq++) {
          const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
          if (m) texts.push(m.string());
        }
      }
      return texts;
    } finally {
      await nc.close();
    }
  }

  it('leaves no trace of the text or of its edits in the raw stream messages', async () => {
    const [ann, bob] = await signUpMany(server, 2);
    const conv = await directChat(ann, bob);
    const secret = `secret-${Math.random().toString(36).slice(2)}`;
    const message = await sendHttp(ann, conv, `first ${secret}-created`);
    const kept = await sendHttp(ann, conv, 'this one stays');
    for (const edit of ['edited-once', 'edited-twice']) {
      const res = await ann.call('PATCH', `/v1/conversations/${conv}/messages/${message.id}`, {
        body: `${secret}-${edit}`,
      });
      expect(res.status).toBe(200);
    }
    expect((await rawLog()).some((t) => t.includes(secret))).toBe(true);

    const res = await ann.call('DELETE', `/v1/conversations/${conv}/messages/${message.id}?for=everyone`);
    expect(res.status).toBe(204);
    expect(await persisterCaughtUp(server.url)).toBe(true);
    await waitFor(async () => !(await rawLog()).some((t) => t.includes(secret)), 10_000);
    expect((await rawLog()).some((t) => t.includes('this one stays'))).toBe(true);

    // The store keeps the tombstone and the rest of the conversation.
    const history = (await bob.call('GET', `/v1/conversations/${conv}/messages`)).body.messages;
    expect(history.map((m: any) => [m.id, m.body])).toEqual([
      [message.id, ''],
      [kept.id, 'this one stays'],
    ]);

    // A durable reader from the log's beginning reads past the erased records to the newest one.
    const after = await sendHttp(bob, conv, 'after the erasure');
    const seen: LogRecord[] = [];
    const sub = await server.backend.log.subscribe(`probe-${Date.now()}`, (records) => {
      seen.push(...records);
    });
    try {
      await waitFor(() => seen.some((r) => r.type === 'message.created' && r.message.id === after.id), 15_000);
    } finally {
      await sub.stop();
    }
    expect(seen.some((r) => r.conversationId === conv && r.type === 'message.updated')).toBe(false);
  });
});

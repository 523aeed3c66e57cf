// The embedded log's writer-thread reply, without sockets: what carrying a commit's outcome back to
// the event loop costs per record, as whole records through the structured clone postMessage uses
// (v8.serialize + deserialize) or as positions and seqs with the records rebuilt from the drafts
// (writer-channel.ts). Interleaved rounds on one machine state; the server's code from dist/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { ROOT } from './lib/server.js';

const dist = path.join(ROOT, 'packages', 'server', 'dist', 'adapters', 'sqlite');

export async function writerReplyBench(opts) {
  const { SqliteLogWriter } = await import(path.join(dist, 'log-writer.js'));
  const { slim, expand } = await import(path.join(dist, 'writer-channel.js'));
  const { openDatabase } = await import(path.join(dist, 'db.js'));
  const batch = opts.batch ?? 480;
  const rounds = opts.rounds ?? 40;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-reply-'));
  const writer = new SqliteLogWriter({ db: openDatabase(path.join(dir, 'log.db')), writeStore: false });
  let n = 0;
  const draft = () => {
    const conversationId = `c_01JZ3ABCDEFGHJKMNPQRS${n % 500}`;
    return {
      type: 'message.created',
      conversationId,
      message: {
        id: `m_01JZ3ABCDEFGHJKMNPQRS${n}`,
        conversationId,
        seq: 0,
        senderId: `u_01JZ3ABCDEFGHJKMNPQRS${n % 1000}`,
        clientMsgId: `k_${n++}_0123456789`,
        body: 'hello there, this is a benchmark message of a typical length, 64 c',
        createdAt: new Date().toISOString(),
        editedAt: null,
        deletedAt: null,
        replyToId: null,
        reactions: [],
        attachments: [],
      },
    };
  };
  const clone = (v) => deserialize(serialize(v));
  const times = { records: [], slim: [] };
  for (let round = 0; round < rounds; round++) {
    const drafts = Array.from({ length: batch }, draft);
    const outcome = writer.commit(drafts, []);
    const whole = round % 2 === 0;
    const started = performance.now();
    for (let k = 0; k < 5; k++) {
      if (whole) clone({ type: 'committed', id: 1, seconds: 0, ...outcome });
      else expand(drafts, clone({ type: 'committed', id: 1, seconds: 0, outcomes: slim(outcome) }).outcomes);
    }
    if (round >= 4) (whole ? times.records : times.slim).push(((performance.now() - started) / 5 / batch) * 1000);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  console.log(
    `writer reply, µs per record (median of ${times.slim.length} interleaved rounds of ${batch}): ` +
      `whole records ${median(times.records).toFixed(2)}, positions + rebuild ${median(times.slim).toFixed(2)}`,
  );
}

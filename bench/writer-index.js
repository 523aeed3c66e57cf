// The embedded writer's CPU per message with the search index in the commit (as before issue 19's
// change) and after it (deferred-index.ts: indexed in a later transaction every `--index-every`
// commits, as the writer thread's 20 ms timer does under load). The server's own SqliteLogWriter from
// packages/server/dist, on this thread, the socket benchmark's message text; rounds interleaved.
//   node bench/writer-index.js [--entries=20000] [--batches=100,400] [--rounds=3] [--index-every=5]
import fs from 'node:fs';
import path from 'node:path';
import { freshDataDir } from './lib/server.js';

const dist = (p) => new URL(`../packages/server/dist/${p}`, import.meta.url).href;
const FILLER = 'the quick brown fox jumps over the lazy dog; le café est prêt à midi. 東京で会いましょう';

const arg = (name, fallback) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};

const { openDatabase } = await import(dist('adapters/sqlite/db.js'));
const { SqliteStore } = await import(dist('adapters/sqlite/store.js'));
const { SqliteLogWriter } = await import(dist('adapters/sqlite/log-writer.js'));
const total = Number(arg('entries', 20000));
const batches = arg('batches', '100,400').split(',').map(Number);
const rounds = Number(arg('rounds', 3));
const indexEvery = Number(arg('index-every', 5));
const convs = 500;

async function run(deferIndex, batch) {
  const dir = freshDataDir('writer-index');
  const file = path.join(dir, 'messenger.db');
  const store = new SqliteStore({ db: openDatabase(file) });
  const now = new Date().toISOString();
  for (let c = 0; c < convs; c++)
    await store.conversations.createConversation({
      id: `c${c}`,
      kind: 'direct',
      title: null,
      createdAt: now,
      memberIds: [`ua${c}`, `ub${c}`],
      directKey: `k${c}`,
    });
  await store.close();
  const writer = new SqliteLogWriter({ db: openDatabase(file), writeStore: true, deferIndex });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let commits = 0;
  for (let n = 0; n < total; ) {
    const drafts = [];
    for (let i = 0; i < batch && n < total; i++, n++) {
      const c = n % convs;
      const message = {
        id: `m${n}`,
        conversationId: `c${c}`,
        seq: 0,
        senderId: `ua${c}`,
        clientMsgId: `x${n}`,
        body: `${(Date.now() + n / 1000).toFixed(3)} x${n} ${FILLER}`,
        createdAt: now,
        editedAt: null,
        deletedAt: null,
        replyToId: null,
        reactions: [],
        attachments: [],
      };
      drafts.push({ type: 'message.created', conversationId: `c${c}`, message });
    }
    writer.commit(drafts, []);
    if (deferIndex && ++commits % indexEvery === 0) writer.indexNow();
  }
  writer.indexNow();
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  fs.rmSync(dir, { recursive: true, force: true });
  return { cpuUs: (cpu.user + cpu.system) / total, wallUs: (ms * 1000) / total };
}

console.log(`# writer CPU per message, ${total} messages per run, index every ${indexEvery} commits when deferred`);
for (let r = 1; r <= rounds; r++) {
  for (const batch of batches) {
    for (const deferIndex of [false, true]) {
      const { cpuUs, wallUs } = await run(deferIndex, batch);
      const name = deferIndex ? 'after (deferred)' : 'before (in commit)';
      console.log(
        `round ${r} batch ${String(batch).padStart(4)} ${name.padEnd(18)} cpu ${cpuUs.toFixed(1).padStart(6)} µs/msg  wall ${wallUs.toFixed(1).padStart(6)} µs/msg`,
      );
    }
  }
}

// Micro-benchmark of the cluster's store write, the persister's PostgresStore.apply() (from
// packages/server/dist), without sockets or NATS: batches of message.created records into a fresh
// schema, per-message cost by batch size: wall time, the PostgreSQL backend's CPU (from /proc, told
// apart by application_name) and this process's CPU (building the statement). Variants take parts of
// the search index away to show what each costs: the lexeme trigger; the GIN index as well; unaccent
// alone; all of search (no trigger, no index, an empty text to index).
import { userInfo } from 'node:os';
import { pgBackendCpu } from './lib/pg-cpu.js';

const dist = (p) => new URL(`../packages/server/dist/${p}`, import.meta.url).href;
const BODY = (n) => `${n} the quick brown fox jumps over the lazy dog; le café est prêt à midi. 東京で会いましょう`;

export async function commitCluster(opts = {}) {
  const { PostgresStore } = await import(dist('adapters/postgres/store.js'));
  const { default: pg } = await import('pg');
  const url = process.env.DATABASE_URL ?? `postgres://${userInfo().username}@127.0.0.1:5432/test`;
  const total = opts.entries ?? 5000;
  const convs = opts.conversations ?? 500;
  const appName = `bench_commit_${process.pid}`;
  process.env.PGAPPNAME = appName;
  const out = [];
  for (const variant of String(opts.variants ?? 'full,no-lexeme-trigger,no-search-index,no-unaccent,no-search').split(
    ',',
  )) {
    for (const batch of String(opts.batches ?? '1,10,100')
      .split(',')
      .map(Number)) {
      const schema = `bench_commit_${process.pid}_${out.length}`;
      const store = await PostgresStore.open({ connectionString: url, schema, maxConnections: 1 });
      const admin = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await admin.connect();
      if (variant !== 'full' && variant !== 'no-unaccent')
        await admin.query('DROP TRIGGER messages_lexemes_insert ON messages');
      if (variant === 'no-search-index' || variant === 'no-search')
        await admin.query('DROP INDEX messages_search_spans');
      // The tsvector itself: unaccent left out (identity), or no text to index at all.
      if (variant === 'no-unaccent')
        await admin.query(
          "CREATE OR REPLACE FUNCTION messenger_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1'",
        );
      if (variant === 'no-search')
        await admin.query(
          "CREATE OR REPLACE FUNCTION messenger_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS 'SELECT '''''",
        );
      const now = new Date().toISOString();
      for (let c = 0; c < convs; c++) {
        await store.conversations.createConversation({
          id: `c${c}`,
          kind: 'direct',
          title: null,
          createdAt: now,
          memberIds: [`ua${c}`, `ub${c}`],
          directKey: `k${c}`,
        });
      }
      const cpu = await pgBackendCpu(url, appName);
      const seqs = new Array(convs).fill(0);
      let n = 0;
      const backend0 = await cpu.sample();
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      while (n < total) {
        const records = [];
        for (let i = 0; i < batch && n < total; i++, n++) {
          const c = n % convs;
          const seq = ++seqs[c];
          records.push({
            type: 'message.created',
            conversationId: `c${c}`,
            pos: n + 1,
            message: {
              id: `m${n}`,
              conversationId: `c${c}`,
              seq,
              senderId: `ua${c}`,
              clientMsgId: `x${n}`,
              body: BODY(n),
              createdAt: now,
              editedAt: null,
              deletedAt: null,
              replyToId: null,
              reactions: [],
            },
          });
        }
        await store.records.apply(records);
        if (n % 500 < batch) await cpu.sample();
      }
      const ms = performance.now() - t0;
      const own = process.cpuUsage(own0);
      const backendSec = (await cpu.sample()) - backend0;
      await cpu.close();
      await store.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
      const row = {
        variant,
        batch,
        entries: total,
        wallUsPerMessage: (ms * 1000) / total,
        postgresUsPerMessage: (backendSec * 1e6) / total,
        clientUsPerMessage: (own.user + own.system) / total,
      };
      out.push(row);
      console.log(
        `${variant.padEnd(18)} batch ${String(batch).padStart(4)}: wall ${row.wallUsPerMessage.toFixed(0).padStart(5)} µs/msg  ` +
          `PostgreSQL backend ${row.postgresUsPerMessage.toFixed(0).padStart(5)} µs/msg  this process ${row.clientUsPerMessage.toFixed(0).padStart(4)} µs/msg`,
      );
    }
  }
  return out;
}

#!/usr/bin/env node
// Benchmark entry point.
//   node bench/run.js                      default suite, both modes: socket (embedded 5k/s and 12k/s; cluster 1k, 2k, 4k/s)
//                                          and data on 200k messages (SQLite, PostgreSQL)
//   node bench/run.js socket [--connections=1000] [--rate=5000[,12000]] [--duration=20] [--mode=fixed|ramp] [--backend=embedded|cluster] [--split]
//                            [--workers=2] [--sources=4] [--step=2000] [--cpu-prof] [--drain-ms=5000] [--worker-roles=persister,fanout,notifier]
//                            [--warmup=S [--warmup-rate=500]]   an unjudged phase before the first
//                            [--nats-sync=always]   cluster: a private nats-server (>= 2.10) fsyncing every write, not the shared one
//   node bench/run.js data [--messages=1000000] [--heavy-conversations=1000] [--samples=300] [--keep]
//                          [--backend=embedded|cluster] [--data-dir=<seeded dir> [--drop]] [--batch=N] [--seed-only]
//   node bench/run.js commit [--entries=20000] [--batches=1,10,100,1000]   write path without sockets
//   node bench/run.js reply [--batch=480] [--rounds=40]   the writer thread's commit reply: whole records vs positions
//   node bench/run.js commit --backend=cluster [--entries=5000] [--batches=1,10,100]   the persister's PostgreSQL write
//   node bench/run.js persist [--entries=20000] [--batches=100,500] [--partitions=4]   the persister alone: JetStream to PostgreSQL
//   node bench/run.js explain --data-dir=<seeded dir>      search SQL: match counts, plan, timings
//   node bench/run.js profile <file.cpuprofile> [--top=25] [--from=S --to=S] [--stages [--messages=N]]
//   node bench/run.js sockets [--count=100000] [--sources=64] [--gens=N] [--hold=60] [--backend=cluster [--split=false] [--seed=http] [--keep]]   idle sockets per gateway
//                             [--gateways=N]   cluster: N gateway processes (default 1), the sockets split evenly, figures per gateway
//                             [--sample=1000 [--sample-rate=200]]   then a message to each of a sample (on by default with --gateways > 1)
//   node bench/run.js biggroup [--members=1000] [--rate=5] [--duration=20] [--backend=cluster [--split]]   fan-out to one big group
//   node bench/run.js storm [--clients=10000] [--procs=4] [--rate=20] [--backend=cluster]                 kill -9 + restart, SDK reconnect
//   node bench/run.js soak [--minutes=30] [--rate=125] [--clients=200]                reconnect churn, RSS + p99 plot
//   node bench/run.js bus [--deliveries=20] [--rounds=20000]   the gateway bus's cost per event (no network)
//   node bench/run.js chats [--rates=100,500] [--duration=10] [--pairs=200] [--cpu-prof] [--keep]   cluster: chat creation -> member's conversation.updated
//   node bench/run.js signin [--rate=2000] [--duration=10] [--burst=false] [--concurrency=8] [--accounts=40]   sign-ins/s during a message load
//   node bench/run.js nats [--rates=2000,4000,8000,16000] [--consumers=0,3] [--duration=8] [--partitions=4] [--nats-sync=always]   JetStream appends alone
//   node bench/run.js uploads [--rate=2000] [--duration=25] [--count=10] [--size-mib=100] [--uploads=false] [--warmup=S]   10 x 100 MiB uploads during a message load
import { socketBench } from './socket.js';
import { dataBench } from './data.js';
import { summarizeProfile } from './profile-summary.js';
import { commitCluster } from './commit-cluster.js';
import { commitMicro } from './commit-micro.js';
import { writerReplyBench } from './writer-reply.js';
import { persistCluster } from './persist-cluster.js';
import { searchExplain } from './search-explain.js';
import { socketsBench } from './sockets.js';
import { bigGroupBench } from './biggroup.js';
import { stormBench } from './storm.js';
import { soakBench } from './soak.js';
import { natsBench } from './nats.js';
import { busBench } from './bus.js';
import { chatsBench } from './chats.js';
import { signinBench } from './signin.js';
import { uploadsBench } from './uploads.js';

function parseArgs(argv) {
  const opts = {};
  const positional = [];
  for (const arg of argv) {
    const m = arg.match(/^--([a-z0-9-]+)(?:=(.*))?$/);
    if (!m) {
      positional.push(arg);
      continue;
    }
    const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    const raw = m[2] ?? 'true';
    opts[key] = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return { positional, opts };
}

const { positional, opts } = parseArgs(process.argv.slice(2));
const cmd = positional[0] ?? 'suite';

try {
  if (cmd === 'socket') await socketBench(opts);
  else if (cmd === 'data') await dataBench(opts);
  else if (cmd === 'commit') await (opts.backend === 'cluster' ? commitCluster(opts) : commitMicro(opts));
  else if (cmd === 'persist') await persistCluster(opts);
  else if (cmd === 'reply') await writerReplyBench(opts);
  else if (cmd === 'explain') await searchExplain(opts);
  else if (cmd === 'sockets') await socketsBench(opts);
  else if (cmd === 'biggroup') await bigGroupBench(opts);
  else if (cmd === 'storm') await stormBench(opts);
  else if (cmd === 'soak') await soakBench(opts);
  else if (cmd === 'nats') await natsBench(opts);
  else if (cmd === 'bus') await busBench(opts);
  else if (cmd === 'chats') await chatsBench(opts);
  else if (cmd === 'signin') await signinBench(opts);
  else if (cmd === 'uploads') await uploadsBench(opts);
  else if (cmd === 'profile') summarizeProfile(positional[1], opts);
  else if (cmd === 'suite') {
    // Both modes: embedded (one process, SQLite), then cluster (PostgreSQL + NATS JetStream + Redis
    // on this machine; the gateway and the workers in two processes, as `npm run cluster` runs them).
    await socketBench({ ...opts, rate: opts.rate ?? '5000,12000', duration: opts.duration ?? 20 });
    await dataBench({ ...opts, messages: opts.messages ?? 200_000 });
    await socketBench({
      ...opts,
      backend: 'cluster',
      split: true,
      rate: opts.clusterRate ?? '1000,2000,4000',
      duration: opts.duration ?? 20,
    });
    await dataBench({ ...opts, backend: 'cluster', messages: opts.messages ?? 200_000 });
  } else {
    console.error(
      `unknown command "${cmd}" (socket | data | commit | reply | explain | profile | sockets | biggroup | storm | soak | nats | bus | chats | signin | suite)`,
    );
    process.exit(2);
  }
  process.exit(0);
} catch (error) {
  console.error(error);
  process.exit(1);
}

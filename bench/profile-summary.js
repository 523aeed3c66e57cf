// Summarizes a V8 .cpuprofile: self time per function (and per file), top N.
import fs from 'node:fs';
import path from 'node:path';

export function summarizeProfile(file, opts = {}) {
  if (!file) throw new Error('usage: node bench/run.js profile <file.cpuprofile>');
  const top = opts.top ?? 25;
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const dt = prof.timeDeltas;
  // Optional window (seconds since the profile started), e.g. one benchmark phase: --from=12.3 --to=30.1
  const from = (opts.from ?? 0) * 1e6;
  const to = (opts.to ?? Infinity) * 1e6;
  let t = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += dt[i] ?? 0;
    if (t < from || t > to) continue;
    selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fnAgg = new Map();
  const fileAgg = new Map();
  for (const [id, us] of selfUs) {
    const cf = byId.get(id).callFrame;
    const where = cf.url ? shortUrl(cf.url) : '(native)';
    const key = `${cf.functionName || '(anonymous)'}  ${where}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fnAgg.set(key, (fnAgg.get(key) ?? 0) + us);
    const pkg = cf.url ? groupOf(cf.url) : cf.functionName.startsWith('(') ? cf.functionName : '(native/builtin)';
    fileAgg.set(pkg, (fileAgg.get(pkg) ?? 0) + us);
  }
  const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  console.log(
    `${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled${opts.from !== undefined || opts.to !== undefined ? ` (window ${opts.from ?? 0}-${opts.to ?? 'end'} s)` : ''}`,
  );
  console.log(`\nTop ${top} functions by self time:`);
  for (const [k, us] of [...fnAgg].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  if (opts.stages) printStages(prof, byId, selfUs, total, opts.messages);
  console.log('\nSelf time by area:');
  for (const [k, us] of [...fileAgg].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${k}`);
}

// Stages of the embedded send path, for `--stages`: each sample goes to the stage of the nearest frame
// (leaf first) that one of these names, so a socket write under the fan-out counts as a socket write.
const STAGES = [
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['idle (waiting for I/O)', (f) => f.functionName === '(idle)'],
  ['V8/native outside JS', (f) => f.functionName === '(program)'],
  [
    'socket writes (write, cork/uncork, writev)',
    (f, u) =>
      /^(writev|writeBuffer|writevGeneric|writeGeneric|createWriteWrap|uncork|cork|clearBuffer|onwrite|afterWriteDispatched)$/.test(
        f.functionName,
      ) ||
      (/streams\/writable|stream_base_commons/.test(u) && f.functionName !== 'onStreamRead') ||
      (/node:net/.test(u) && /write/i.test(f.functionName)),
  ],
  ['metrics (prom-client)', (_, u) => /prom-client|observability\//.test(u)],
  ['validation (zod)', (_, u) => /\/zod\//.test(u)],
  [
    'frame read and parse (ws receiver, TCP read)',
    (f, u) => /ws\/lib\/(receiver|websocket)|streams\/readable|node:net/.test(u) || f.functionName === 'onStreamRead',
  ],
  ['pings (ws sender, heartbeat)', (_, u) => /ws\/lib\/sender/.test(u)],
  ['event encoding and framing (hub)', (_, u) => /gateway\/(hub|frames)\.js|internal\/encoding/.test(u)],
  ['JSON.parse of the frame, dispatch, reply encoding (session)', (_, u) => /gateway\/session\.js/.test(u)],
  ['membership check', (f, u) => /sqlite\/conversations\.js/.test(u) && f.functionName === 'membership'],
  [
    'membership check',
    (f, u) => /core\/conversations\/conversations\.js/.test(u) && f.functionName === 'requireMember',
  ],
  ['block check (safety)', (_, u) => /sqlite\/safety\.js|core\/safety\//.test(u)],
  ['rate limit', (_, u) => /core\/rate-limit\.js/.test(u)],
  [
    'hand-off to the writer thread and back',
    (f, u) => /writer-channel|internal\/worker|messageport|event_target/.test(u) || f.functionName === 'postMessage',
  ],
  ['event log: batching, resolving appends, notify', (_, u) => /sqlite\/event-log\.js/.test(u)],
  ['notifier worker', (_, u) => /workers\/notify\.js/.test(u)],
  [
    'fan-out: plan, members, routes, bus',
    (_, u) => /workers\/(fanout|member-cache)|routing\/|memory\/(routes|gateway-bus)/.test(u),
  ],
  ['attachment presenting (media)', (_, u) => /core\/media\/|server\/dist\/server\.js/.test(u)],
  ['send use case (messaging.ts, ids, rules)', (_, u) => /core\/messages\/|domain\//.test(u)],
  ['SQLite commit (writer thread)', (f, u) => /better-sqlite3/.test(u) && f.functionName === 'sqliteTransaction'],
  [
    'SQLite rows: log, message, chat (writer thread; on the event loop, rebuilding records)',
    (_, u) => /sqlite\/(log-writer|apply|messages|writer-worker)\.js|sql\/apply/.test(u),
  ],
  ['search index (writer thread)', (_, u) => /sqlite\/search\.js|core\/search\//.test(u)],
  ['other SQLite reads (conversation views)', (_, u) => /adapters\/sqlite\//.test(u)],
  ['promise machinery', (f) => /^(runMicrotasks|processTicksAndRejections)$/.test(f.functionName)],
];

function printStages(prof, byId, selfUs, total, messages) {
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = (id) => {
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame;
      const url = f.url ?? '';
      for (const [name, test] of STAGES) if (test(f, url)) return name;
    }
    return 'other (node core, unattributed)';
  };
  const agg = new Map();
  for (const [id, us] of selfUs) {
    const stage = stageOf(id);
    agg.set(stage, (agg.get(stage) ?? 0) + us);
  }
  console.log(`\nBy stage${messages ? ` (µs per message over ${messages} messages)` : ''}:`);
  for (const [k, us] of [...agg].sort((a, b) => b[1] - a[1]))
    console.log(
      `  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms${messages ? `  ${(us / messages).toFixed(1).padStart(6)} µs` : ''}  ${k}`,
    );
}

function shortUrl(url) {
  const u = url.replace(/^file:\/\//, '');
  const i = u.indexOf('node_modules/');
  if (i >= 0) return u.slice(i + 'node_modules/'.length);
  const j = u.indexOf('packages/');
  return j >= 0 ? u.slice(j) : u;
}

function groupOf(url) {
  const u = url.replace(/^file:\/\//, '');
  const nm = u.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (nm) return nm[1];
  const pk = u.match(/packages\/([^/]+)\/(?:dist|src)\/(.*?)\/?[^/]*$/);
  if (pk) return `${pk[1]}/${pk[2] || '.'}`;
  if (u.startsWith('node:')) return 'node core';
  return u;
}

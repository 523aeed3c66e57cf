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
  console.log('\nSelf time by area:');
  for (const [k, us] of [...fileAgg].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${k}`);
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

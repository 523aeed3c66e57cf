// Embedded server as a child process: spawn (fresh DATA_DIR unless given), wait for /readyz,
// sample /proc/<pid>/{stat,status}, stop with SIGTERM.
import { execSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DATA_ROOT = path.join(ROOT, 'bench', '.data');
// BENCH_SERVER_MAIN=<other build's dist/main.js> runs another build of the server (an A/B on one machine state).
export const MAIN = process.env.BENCH_SERVER_MAIN ?? path.join(ROOT, 'packages', 'server', 'dist', 'main.js');
const CLK_TCK = 100; // getconf CLK_TCK on Linux

export function freshDataDir(name) {
  const dir = path.join(DATA_ROOT, `${name}-${Date.now().toString(36)}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the server. opts: { port, dataDir, cpuProf (dir or null), env, nofile }.
 * Returns { pid, url, startMs, child, stop(), stats() }.
 */
export async function startServer(opts) {
  const port = opts.port ?? 18000 + Math.floor(Math.random() * 2000);
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  const nodeArgs = [];
  if (opts.cpuProf) {
    fs.mkdirSync(opts.cpuProf, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`);
  }
  const nofile = opts.nofile ?? 65536;
  // Raise the soft fd limit as far as the hard limit allows, only for the server's own shell.
  const script = `ulimit -n ${nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"`;
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: opts.dataDir,
    RATE_LIMIT_MESSAGES: '0',
    RATE_LIMIT_SIGNUPS: '0',
    MAX_UNAUTHENTICATED_SOCKETS_PER_IP: '0',
    MAX_SOCKETS_PER_USER: '0',
    RATE_LIMIT_FRAMES: '0',
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const started = performance.now();
  const child = spawn('sh', ['-c', script, process.execPath, ...nodeArgs, MAIN], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  // BENCH_SERVER_LOG=<file> keeps the server's (warn and above) JSON log for a post-mortem.
  const keepLog = process.env.BENCH_SERVER_LOG
    ? fs.createWriteStream(process.env.BENCH_SERVER_LOG, { flags: 'a' })
    : null;
  child.stdout.on('data', (d) => keepLog?.write(d));
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 20000) stderr = stderr.slice(-10000);
  });
  let exited = null;
  const exitPromise = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve((exited = { code, signal }))),
  );
  const url = `http://127.0.0.1:${port}`;
  let startMs = NaN;
  for (;;) {
    if (exited) throw new Error(`server exited during start (${JSON.stringify(exited)}):\n${stderr}`);
    try {
      const res = await fetch(`${url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) {
        startMs = performance.now() - started;
        break;
      }
    } catch {}
    if (performance.now() - started > (opts.readyTimeoutMs ?? 30_000)) {
      child.kill('SIGKILL');
      throw new Error(`server not ready after ${(opts.readyTimeoutMs ?? 30_000) / 1000} s:\n${stderr}`);
    }
    await sleep(10);
  }
  const pid = child.pid; // `exec` keeps the pid: sh is replaced by node
  return {
    pid,
    url,
    port,
    startMs,
    spawnedAt: started,
    child,
    get stderr() {
      return stderr;
    },
    stats: () => procStats(pid),
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exitPromise;
      clearTimeout(timer);
      return exited;
    },
  };
}

/** CPU seconds (user+system) and RSS/peak RSS in MiB of a process, from /proc. */
export function procStats(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    const cpuSec = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number((status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm')) ?? [])[1] ?? NaN);
    const threads = Number((status.match(/^Threads:\s+(\d+)/m) ?? [])[1] ?? NaN);
    return { at: performance.now(), cpuSec, rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024, threads };
  } catch {
    return null;
  }
}

/** CPU seconds per thread of a process, by thread id (the main thread's id is the pid). */
export function threadCpu(pid) {
  const out = new Map();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {}
  return out;
}

/**
 * Where a process's CPU went between two threadCpu samples: the main thread (the event loop), the
 * busiest other thread (in the embedded server, the SQLite writer thread) and all the rest (GC
 * helpers, libuv pool), in CPU seconds. Threads share the name "node", so the writer is told by load.
 */
export function threadSplit(pid, a, b) {
  const deltas = [...b].map(([tid, sec]) => [tid, sec - (a.get(tid) ?? 0)]);
  const main = deltas.find(([tid]) => tid === pid)?.[1] ?? 0;
  const others = deltas.filter(([tid]) => tid !== pid).sort((x, y) => y[1] - x[1]);
  const busiest = others[0]?.[1] ?? 0;
  const rest = others.slice(1).reduce((sum, [, sec]) => sum + sec, 0);
  return { main, busiest, rest };
}

/** CPU% between two procStats samples (100% = one core). */
export function cpuPercent(a, b) {
  if (!a || !b || b.at <= a.at) return NaN;
  return ((b.cpuSec - a.cpuSec) / ((b.at - a.at) / 1000)) * 100;
}

export function machineInfo() {
  const cpus = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (cpus.match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? 'unknown';
  const cores = (cpus.match(/^processor\s*:/gm) ?? []).length;
  const mem = fs.readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s+(\d+)/m)?.[1];
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  let git = 'unknown';
  try {
    git = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
    if (execSync('git status --porcelain packages', { cwd: ROOT }).toString().trim())
      git += ' + uncommitted changes in packages/';
  } catch {}
  return {
    git,
    model,
    cores,
    memGiB: mem ? (Number(mem) / 1048576).toFixed(1) : '?',
    node: process.version,
    load,
    date: new Date().toISOString(),
  };
}

/** Whole-machine CPU counters from /proc/stat (jiffies). */
export function systemStats() {
  const stat = fs.readFileSync('/proc/stat', 'utf8');
  const f = stat.split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  // Context switches on all CPUs since boot: how often processes are put to sleep and woken.
  const ctxt = Number((stat.match(/^ctxt\s+(\d+)/m) ?? [])[1] ?? NaN);
  return {
    at: performance.now(),
    busy: user + nice + system + irq + softirq,
    idle: idle + iowait,
    steal,
    ctxt,
    load: fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
  };
}

/**
 * Machine share over a window, in cores: busy (all processes), steal (taken by the hypervisor),
 * and `others` = busy minus the given processes' CPU (server + this benchmark).
 */
export function machineShare(a, b, ownCpuSec) {
  const secs = (b.at - a.at) / 1000;
  const cores = (b.busy - a.busy) / CLK_TCK / secs;
  return {
    busyCores: +cores.toFixed(2),
    stealCores: +((b.steal - a.steal) / CLK_TCK / secs).toFixed(2),
    idleCores: +((b.idle - a.idle) / CLK_TCK / secs).toFixed(2),
    otherProcessesCores: +(cores - ownCpuSec / secs).toFixed(2),
    contextSwitchesPerSecond: Math.round((b.ctxt - a.ctxt) / secs),
    loadAvg1: b.load,
  };
}

/** Kernel TCP counters (/proc/net/netstat TcpExt): accept-queue overflows and SYN drops on listening sockets. */
export function tcpExt() {
  try {
    const lines = fs
      .readFileSync('/proc/net/netstat', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0].split(/\s+/).slice(1);
    const vals = lines[1].split(/\s+/).slice(1).map(Number);
    const get = (k) => vals[names.indexOf(k)];
    return {
      listenOverflows: get('ListenOverflows'),
      listenDrops: get('ListenDrops'),
      tcpTimeouts: get('TCPTimeouts'),
    };
  } catch {
    return null;
  }
}

/**
 * Accept queue of listening TCP ports from /proc/net/tcp: the largest rx_queue of their LISTEN
 * sockets (rx_queue of a LISTEN socket = connections waiting for accept()); NaN when none is found.
 * The kernel lists listening sockets first, so reading stops at the first other one: with 100,000
 * local connections the whole file is 200,000 lines.
 */
export function acceptQueue(...ports) {
  const hexes = new Set(ports.map((port) => `:${port.toString(16).toUpperCase().padStart(4, '0')}`));
  let max = NaN;
  let fd = null;
  try {
    fd = fs.openSync('/proc/net/tcp', 'r');
    const buf = Buffer.alloc(65536);
    let rest = '';
    let header = true;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const lines = (rest + buf.toString('latin1', 0, n)).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        if (header) {
          header = false;
          continue;
        }
        const f = line.trim().split(/\s+/);
        if (f.length < 5) continue;
        if (f[3] !== '0A') return max;
        if (!hexes.has(f[1].slice(f[1].lastIndexOf(':')))) continue;
        const queued = parseInt(f[4].split(':')[1], 16);
        if (!(queued <= max)) max = queued;
      }
    }
  } catch {
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
  return max;
}

/**
 * CPU seconds used so far by every process of each backing service (by command name): postgres,
 * nats-server, redis-server. Counts all their clients, not only the server under test.
 */
export function serviceCpu() {
  const out = { postgres: 0, 'nats-server': 0, 'redis-server': 0 };
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const name = comm.startsWith('postgres') ? 'postgres' : comm;
      if (!(name in out)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime + stime, plus cutime + cstime: the postmaster's reaped backends (exited connections).
      out[name] += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLK_TCK;
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/**
 * The environment of a cluster-mode server on this machine's PostgreSQL, NATS JetStream and Redis,
 * isolated by a schema, stream prefix and key prefix derived from the data directory.
 */
export function clusterEnv(dataDir) {
  const tagId = `bench_${path
    .basename(dataDir)
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()}`;
  return {
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://127.0.0.1:5432/test',
    DATABASE_SCHEMA: tagId,
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    LOG_STREAM_PREFIX: tagId.replace(/_/g, '-'),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `${tagId}:`,
  };
}

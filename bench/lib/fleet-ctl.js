// Parent side of bench/lib/fleet.js: spawn generator processes with a raised fd limit
// (sh -c 'ulimit -n ...; exec node ...') and talk to them over IPC.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

/** Spawns `script` (a path or URL) as a child with an IPC channel. nofile: wanted soft fd limit (capped at the hard limit). */
export function spawnChild(script, { nofile = 1048576, args = [], nodeArgs = [], name = 'child', nice = 0 } = {}) {
  const file = script instanceof URL ? fileURLToPath(script) : script;
  // nice > 0: the generator yields the CPU to the server (and everyone else) when both want it.
  const sh = `ulimit -n ${nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${nice > 0 ? `nice -n ${Math.round(nice)} ` : ''}"$0" "$@"`;
  const proc = spawn('sh', ['-c', sh, process.execPath, ...nodeArgs, file, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const handlers = new Set();
  proc.on('message', (m) => {
    if (m.type === 'error') log(`${name}: ${m.message}`);
    for (const h of handlers) h(m);
  });
  let exited = false;
  proc.on('exit', (code, signal) => {
    exited = true;
    if (code !== 0 && signal !== 'SIGKILL') log(`${name} exited (${code ?? signal})`);
  });
  return {
    proc,
    get exited() {
      return exited;
    },
    on(fn) {
      handlers.add(fn);
      return () => handlers.delete(fn);
    },
    /** Sends msg and resolves with the first message of type `reply`. */
    request(msg, reply, timeoutMs = 600_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => (off(), reject(new Error(`${name}: no "${reply}" within ${timeoutMs} ms`))),
          timeoutMs,
        );
        const off = this.on((m) => {
          if (m.type === reply) {
            clearTimeout(timer);
            off();
            resolve(m);
          }
        });
        proc.send(msg);
      });
    },
    /** Waits up to graceMs for the child to exit by itself (so --cpu-prof files get written), then SIGKILL. */
    async kill(graceMs = 3000) {
      const t0 = Date.now();
      while (!exited && Date.now() - t0 < graceMs) await new Promise((r) => setTimeout(r, 50));
      if (!exited) proc.kill('SIGKILL');
    },
  };
}

export function spawnFleet(index, { cpuProfDir, nice = 0 } = {}) {
  return spawnChild(new URL('./fleet.js', import.meta.url), {
    name: `fleet ${index}`,
    nice,
    nodeArgs: cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [],
  });
}

/** Asks each child to close its sockets (bounded), then kills it: the end of every bench with children. */
export async function closeChildren(children, timeoutMs = 10_000) {
  for (const child of children) {
    try {
      await child.request({ type: 'close' }, 'closed', timeoutMs);
    } catch {}
    await child.kill();
  }
}

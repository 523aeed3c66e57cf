// Runs the real server as a child process (node dist/main.js), so tests can kill -9 it: a plain one
// whose errors go to the test's output (ServerProcess), or one with a name and a log file among a
// private cluster's processes (MessengerProcess).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { sleep } from './harness/wait.js';
import { Proc } from './services/proc.js';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/**
 * A port to start a server on, free when asked. Not from the kernel's ephemeral range (32768-60999
 * on Linux), where bind(0) would find one: a port found free there can become the source port of
 * some outgoing connection (a NATS route, a database pool) before the server binds it, and that
 * server then fails to start. Each vitest worker draws from its own 2,000 ports, and never twice.
 */
export async function freePort(): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 0) % 6;
  const base = 20_000 + worker * 2_000;
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = base + Math.floor(Math.random() * 2_000);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${base}-${base + 1_999}`);
}

/** The server's environment in tests: no rate limits, no web client, quiet logs, on 127.0.0.1:`port`. */
function serverEnv(base: NodeJS.ProcessEnv, env: NodeJS.ProcessEnv, port: number): NodeJS.ProcessEnv {
  return {
    ...base,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MESSAGES: '0',
    RATE_LIMIT_SIGNUPS: '0',
    MAX_UNAUTHENTICATED_SOCKETS_PER_IP: '0',
    MAX_SOCKETS_PER_USER: '0',
    RATE_LIMIT_FRAMES: '0',
    WEB_DIR: '',
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
}

/** Resolves once `url`/readyz answers 200; throws at once when `exited()` says the process is gone. */
async function waitReady(what: string, url: string, exited: () => string | null, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      /* not up yet */
    }
    const why = exited();
    if (why !== null) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export class ServerProcess {
  child: ChildProcess | null = null;
  readonly url: string;
  constructor(
    readonly port: number,
    readonly env: NodeJS.ProcessEnv,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(timeoutMs = 15_000): Promise<void> {
    const child = spawn(process.execPath, [MAIN], {
      env: serverEnv(process.env, this.env, this.port),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.child = child;
    const exited = () => (child.exitCode !== null ? `server exited with ${child.exitCode}` : null);
    await waitReady('server', this.url, exited, timeoutMs);
  }

  /** kill -9: no chance to flush or say goodbye. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(sig);
    await exited;
    this.child = null;
  }
}

/** One messenger process with some roles, its output in `logFile`, among a private cluster's processes. */
export class MessengerProcess extends Proc {
  constructor(
    name: string,
    readonly port: number,
    readonly env: NodeJS.ProcessEnv,
    logFile: string,
  ) {
    super(name, logFile);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    this.spawn(process.execPath, [MAIN], { env: serverEnv({ PATH: process.env.PATH }, this.env, this.port) });
    const exited = () => (this.running ? null : `${this.name} exited at start: ${this.tail()}`);
    await waitReady(this.name, this.url, exited, timeoutMs);
  }
}

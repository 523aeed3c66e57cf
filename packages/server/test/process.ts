// Runs the real server as a child process (node dist/main.js), so tests can kill -9 it.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

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
    this.child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_MESSAGES: '0',
        RATE_LIMIT_SIGNUPS: '0',
        WEB_DIR: '',
        ...this.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if ((await fetch(`${this.url}/readyz`)).status === 200) return;
      } catch {
        /* not up yet */
      }
      if (this.child.exitCode !== null) throw new Error(`server exited with ${this.child.exitCode}`);
      if (Date.now() > deadline) throw new Error('server did not become ready');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** kill -9: no chance to flush or say goodbye. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.child = null;
  }
}

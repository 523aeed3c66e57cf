// A child process of a test (a backing service or a server) with its output kept in a file, that
// can be killed, paused and resumed, and that records whether it died without being asked to.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A child process with its output kept in a file, and a record of whether it died on its own. */
export class Proc {
  child: ChildProcess | null = null;
  /** Exits nobody asked for (crashes), with the tail of the output. */
  readonly crashes: string[] = [];
  private expectingExit = false;

  constructor(
    readonly name: string,
    readonly logFile: string,
  ) {}

  spawn(
    cmd: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; cwd?: string } = {},
  ): ChildProcess {
    const out = fs.openSync(this.logFile, 'a');
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: ['ignore', out, out],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    fs.closeSync(out);
    this.expectingExit = false;
    this.child = child;
    child.once('exit', (code, signal) => {
      if (!this.expectingExit) this.crashes.push(`${this.name} exited on its own (${signal ?? code}):\n${this.tail()}`);
      if (this.child === child) this.child = null;
    });
    return child;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async signal(sig: NodeJS.Signals, timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.expectingExit = true;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  kill9(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGSTOP/SIGCONT: the process keeps its sockets but does nothing. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  tail(lines = 40): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

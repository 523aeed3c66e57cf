// A private redis-server for the tests that kill it, or that find none at the default port.
import path from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../harness/wait.js';
import { Proc, tcpOpen } from './proc.js';

export class RedisService extends Proc {
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    super('redis-server', path.join(dir, 'redis.log'));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** No persistence: a restart comes back empty, as a lost cache node would. */
  async start(): Promise<void> {
    this.spawn('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
    ]);
    await waitFor(
      'redis-server',
      async () => {
        if (!this.running) throw new Error(`redis-server died: ${this.tail()}`);
        return tcpOpen(this.port);
      },
      10_000,
    );
  }

  /** A short-lived client for inspecting keys. */
  client(): Redis {
    const redis = new Redis(this.url, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: false });
    redis.on('error', () => {});
    return redis;
  }
}

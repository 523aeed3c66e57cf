// A private redis-server for the tests that kill it, or that find none at the default port. With
// `locked`, it runs deploy/redis/redis.conf (users, no `default`, the server's command list) and
// its `url` logs in as the server's restricted user, as production does.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { waitFor } from '../harness/wait.js';
import { Proc, tcpOpen } from './proc.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/** The production Redis configuration a locked test server is derived from. */
export const REDIS_CONF = path.join(REPO, 'deploy/redis/redis.conf');
export const REDIS_PASSWORDS = { messenger: 'test-messenger-pw', admin: 'test-admin-pw' } as const;

/**
 * The production file with this test's port, address and directory, and known passwords. Its
 * `~messenger:*` becomes `~<keyPrefix>*`: the servers under test use REDIS_KEY_PREFIX = keyPrefix.
 * Throws if the file no longer has a line this relies on.
 */
export function redisConfig(template: string, o: { port: number; dir: string; keyPrefix: string }): string {
  let conf = template;
  const replace = (what: string, pattern: RegExp, value: string) => {
    if (!pattern.test(conf)) throw new Error(`${REDIS_CONF} has no ${what} (${pattern}); redisConfig must follow it`);
    conf = conf.replace(pattern, value);
  };
  replace('bind', /^bind .*$/mu, 'bind 127.0.0.1');
  replace('port', /^port .*$/mu, `port ${o.port}`);
  replace('messenger password', /^(user messenger on )>\S+/mu, `$1>${REDIS_PASSWORDS.messenger}`);
  replace('messenger key pattern', /^(user messenger .*)~messenger:\*/mu, `$1~${o.keyPrefix}*`);
  replace('admin password', /^(user admin on )>\S+/mu, `$1>${REDIS_PASSWORDS.admin}`);
  replace('default user off', /^user default off$/mu, 'user default off');
  return `${conf}\ndir ${JSON.stringify(o.dir)}\n`;
}

export class RedisService extends Proc {
  constructor(
    readonly port: number,
    readonly dir: string,
    /** Run the production users; the servers under test must use this REDIS_KEY_PREFIX. */
    readonly locked?: { keyPrefix: string },
  ) {
    super('redis-server', path.join(dir, 'redis.log'));
  }

  /** What the messenger connects with: the restricted user when locked. */
  get url(): string {
    return this.locked
      ? `redis://messenger:${REDIS_PASSWORDS.messenger}@127.0.0.1:${this.port}`
      : `redis://127.0.0.1:${this.port}`;
  }

  /** Every right: for tests that inspect or clean up keys. */
  get adminUrl(): string {
    return this.locked ? `redis://admin:${REDIS_PASSWORDS.admin}@127.0.0.1:${this.port}` : this.url;
  }

  /** No persistence: a restart comes back empty, as a lost cache node would. */
  async start(): Promise<void> {
    if (this.locked) {
      const file = path.join(this.dir, 'redis.conf');
      const conf = redisConfig(fs.readFileSync(REDIS_CONF, 'utf8'), {
        port: this.port,
        dir: this.dir,
        keyPrefix: this.locked.keyPrefix,
      });
      fs.writeFileSync(file, conf);
      this.spawn('redis-server', [file]);
    } else {
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
    }
    await waitFor(
      'redis-server',
      async () => {
        if (!this.running) throw new Error(`redis-server died: ${this.tail()}`);
        return tcpOpen(this.port);
      },
      10_000,
    );
  }

  /** A short-lived client for inspecting keys (as admin when locked). */
  client(): Redis {
    const redis = new Redis(this.adminUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: false });
    redis.on('error', () => {});
    return redis;
  }
}

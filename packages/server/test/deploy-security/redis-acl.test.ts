// deploy/redis/redis.conf as shipped: the Redis adapters' contract suites pass through its
// restricted `messenger` user (under REDIS_KEY_PREFIX=messenger:), so a command or key pattern the
// code needs and the file lacks fails here; what the user must not do is refused.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAttemptLimiter } from '../../src/adapters/redis/attempt-limiter.js';
import { RedisPresence } from '../../src/adapters/redis/presence.js';
import { RedisRoutes } from '../../src/adapters/redis/routes.js';
import { presenceContract } from '../../src/core/presence/presence.contract.js';
import { routesContract } from '../../src/core/routing/routes.contract.js';
import { tempDir } from '../harness.js';
import { freePort } from '../process.js';
import { RedisService } from '../services/redis.js';

const redis = new RedisService(0, tempDir('redis-acl-'), { keyPrefix: 'messenger:' });
let n = 0;
/** The production prefix with a suffix per store, so the suites do not see each other's keys. */
const keyPrefix = () => `messenger:${++n}:`;

beforeAll(async () => {
  (redis as { port: number }).port = await freePort();
  await redis.start();
}, 30_000);
afterAll(async () => {
  await redis.kill9().catch(() => {});
});

presenceContract('RedisPresence as the deploy/redis user', async () => {
  return new RedisPresence({ url: redis.url, keyPrefix: keyPrefix() });
});
routesContract('RedisRoutes as the deploy/redis user', async () => {
  return new RedisRoutes({ url: redis.url, keyPrefix: keyPrefix() });
});

describe('the deploy/redis users', () => {
  it('lets the attempt limiter and the gateway registry work', async () => {
    const limiter = new RedisAttemptLimiter({ url: redis.url, keyPrefix: keyPrefix() });
    const routes = new RedisRoutes({ url: redis.url, keyPrefix: keyPrefix() });
    try {
      expect(await limiter.take('signin:u', 2, 60_000)).toBeGreaterThanOrEqual(0);
      await limiter.refund('signin:u');
      await limiter.reset('signin:u');
      expect(await routes.markGatewayAlive('g_1', 10_000)).toEqual({ known: false });
      await routes.markGatewayAlive('g_1', 0);
    } finally {
      await limiter.close();
      await routes.close();
    }
  });

  it('refuses anonymous clients, keys outside the prefix and commands the server does not use', async () => {
    const anonymous = new Redis(`redis://127.0.0.1:${redis.port}`, {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      enableReadyCheck: false,
    });
    const user = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    anonymous.on('error', () => {});
    try {
      await expect(anonymous.connect().then(() => anonymous.get('messenger:x'))).rejects.toThrow();
      await expect(user.set('other:x', '1')).rejects.toThrow(/NOPERM/u);
      await expect(user.keys('messenger:*')).rejects.toThrow(/NOPERM/u);
      await expect(user.flushall()).rejects.toThrow(/NOPERM/u);
      await expect(user.call('CONFIG', 'GET', '*')).rejects.toThrow(/NOPERM/u);
      // A script cannot reach past the key pattern either.
      await expect(user.eval("return redis.call('GET', 'other:x')", 0)).rejects.toThrow(/can't access|NOPERM/u);
      expect(await user.set('messenger:x', '1')).toBe('OK');
    } finally {
      anonymous.disconnect();
      user.disconnect();
    }
  });
});

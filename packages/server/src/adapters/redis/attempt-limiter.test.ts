// RedisAttemptLimiter against the Redis at 127.0.0.1:6379 (REDIS_TEST_URL), each limiter under its own key prefix.
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { attemptLimiterContract } from '../../core/users/attempt-limiter.contract.js';
import { RedisAttemptLimiter } from './attempt-limiter.js';

const URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const root = `test:${Math.random().toString(36).slice(2, 10)}:`;

afterAll(async () => {
  const redis = new Redis(URL);
  const keys = await redis.keys(`${root}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

attemptLimiterContract(
  'RedisAttemptLimiter',
  async () => new RedisAttemptLimiter({ url: URL, keyPrefix: `${root}${Math.random().toString(36).slice(2, 8)}:` }),
);

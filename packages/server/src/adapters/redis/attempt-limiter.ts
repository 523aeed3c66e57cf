// RedisAttemptLimiter: sign-in attempt counts shared by every gateway. Keys:
//   <p>attempts:<key>   counter, expiring when its window ends (set by the window's first attempt)
import type { Redis } from 'ioredis';
import type { AttemptLimiter } from '../../core/users/attempt-limiter.js';
import { closeRedis, connectRedis, guarded, type RedisDeps } from './client.js';

/**
 * KEYS the counter; ARGV limit, window (ms). Counts one attempt and returns 0, or returns the ms left
 * in the window without counting once the limit is reached. A counter that lost its expiry (it
 * cannot, but a stray write could) gets one, so that it can never block for good.
 */
const TAKE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local left = redis.call('PTTL', KEYS[1])
if n >= tonumber(ARGV[1]) and left > 0 then return left end
if left <= 0 then
  redis.call('SET', KEYS[1], 1, 'PX', ARGV[2])
  return 0
end
redis.call('INCR', KEYS[1])
return 0`;

/** KEYS the counter: one attempt fewer, never below zero, the expiry kept. */
const REFUND = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 1`;

export class RedisAttemptLimiter implements AttemptLimiter {
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;

  constructor(deps: RedisDeps) {
    ({ redis: this.redis, owned: this.owned } = connectRedis(deps));
    this.prefix = `${deps.keyPrefix ?? ''}attempts:`;
  }

  async take(key: string, limit: number, windowMs: number): Promise<number> {
    return guarded(async () => Number(await this.redis.eval(TAKE, 1, this.prefix + key, limit, windowMs)));
  }

  async refund(key: string): Promise<void> {
    await guarded(() => this.redis.eval(REFUND, 1, this.prefix + key));
  }

  async reset(key: string): Promise<void> {
    await guarded(() => this.redis.del(this.prefix + key));
  }

  async close(): Promise<void> {
    await closeRedis(this.redis, this.owned);
  }
}

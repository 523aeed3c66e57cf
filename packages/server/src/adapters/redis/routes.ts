// RedisRoutes: the cluster's UserServerDB. Keys:
//   <p>routes:{u}   ZSET gatewayId -> route expiry (ms), expired members pruned on each add (so at
//                   least every heartbeat while the user is connected; the key expires otherwise)
//   <p>gateways     ZSET gatewayId -> liveness expiry (ms), refreshed by markGatewayAlive
// A gateway that was marked alive and then stopped refreshing is dead: lookups drop its routes
// within its liveness TTL, long before each route's own TTL. Gateways never marked rely on route TTLs.
import type { Routes } from '../../core/routing/routes.js';
import { closeRedis, connectRedis, guarded, results, type RedisDeps } from './client.js';

/** How long a dead gateway's liveness entry is kept; its routes have expired on their own by then. */
const FORGET_GATEWAY_MS = 86_400_000;

/**
 * Adds a gateway's routes: KEYS the routes keys of the users, ARGV expiry (ms), gatewayId, ttl (ms),
 * now (ms). Drops expired members first; key expiries are set when absent and only ever extended.
 * One command for a connect's route or a whole heartbeat slice; the keys then span many users' hash
 * slots, which one Redis allows (a Redis Cluster deployment would have to group the slice by slot).
 */
const ADD_ROUTES = `
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[4])
  redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[i], ARGV[3], 'NX')
  redis.call('PEXPIRE', KEYS[i], ARGV[3], 'GT')
end
return 1`;

/** Removes a gateway's routes: KEYS the routes keys of the users, ARGV gatewayId. One command per slice. */
const REMOVE_ROUTES = `
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1`;

/**
 * The live routes of many users in one command (a read-only script: Redis refuses writes in it): KEYS the routes keys of the users, then the
 * gateways key; ARGV now (ms). Returns, per user, the gateways of its unexpired routes whose gateway
 * has not lapsed (a gateway never marked alive counts as alive). Reads only: adds prune.
 */
const LOOKUP_ROUTES = `#!lua flags=no-writes
local users = #KEYS - 1
local now = tonumber(ARGV[1])
local found, named, order = {}, {}, {}
for i = 1, users do
  local live = redis.call('ZRANGE', KEYS[i], '(' .. ARGV[1], '+inf', 'BYSCORE')
  found[i] = live
  for _, gateway in ipairs(live) do
    if not named[gateway] then
      named[gateway] = true
      order[#order + 1] = gateway
    end
  end
end
local dead = {}
if #order > 0 then
  local alive = redis.call('ZMSCORE', KEYS[users + 1], unpack(order))
  for j, gateway in ipairs(order) do
    if alive[j] and tonumber(alive[j]) <= now then dead[gateway] = true end
  end
end
for i = 1, users do
  local kept = {}
  for _, gateway in ipairs(found[i]) do
    if not dead[gateway] then kept[#kept + 1] = gateway end
  end
  found[i] = kept
end
return found`;

/** Users per lookup script call: bounds how long one call keeps Redis busy (a big group's fan-out). */
const LOOKUP_SLICE = 1000;

type ScriptedRedis = {
  messengerAddRoutes(...args: (string | number)[]): Promise<unknown>;
  messengerRemoveRoutes(...args: (string | number)[]): Promise<unknown>;
  messengerLookupRoutes(...args: (string | number)[]): Promise<string[][]>;
};

export class RedisRoutes implements Routes {
  private readonly redis;
  private readonly owned;
  private readonly prefix: string;
  private readonly now: () => number;

  constructor(deps: RedisDeps & { now?: () => number }) {
    ({ redis: this.redis, owned: this.owned } = connectRedis(deps));
    this.prefix = deps.keyPrefix ?? '';
    this.now = deps.now ?? Date.now;
    // No fixed key count: the first argument is the number of keys.
    this.redis.defineCommand('messengerAddRoutes', { lua: ADD_ROUTES });
    this.redis.defineCommand('messengerRemoveRoutes', { lua: REMOVE_ROUTES });
    this.redis.defineCommand('messengerLookupRoutes', { lua: LOOKUP_ROUTES });
  }

  async add(userId: string, gatewayId: string, ttlMs: number): Promise<void> {
    await this.addMany([userId], gatewayId, ttlMs);
  }

  async addMany(userIds: string[], gatewayId: string, ttlMs: number): Promise<void> {
    if (userIds.length === 0) return;
    const keys = userIds.map((userId) => this.routesKey(userId));
    const now = this.now();
    await guarded(() =>
      (this.redis as unknown as ScriptedRedis).messengerAddRoutes(
        keys.length,
        ...keys,
        now + ttlMs,
        gatewayId,
        ttlMs,
        now,
      ),
    );
  }

  async remove(userId: string, gatewayId: string): Promise<void> {
    await guarded(() => this.redis.zrem(this.routesKey(userId), gatewayId));
  }

  async removeMany(userIds: string[], gatewayId: string): Promise<void> {
    if (userIds.length === 0) return;
    const keys = userIds.map((userId) => this.routesKey(userId));
    await guarded(() =>
      (this.redis as unknown as ScriptedRedis).messengerRemoveRoutes(keys.length, ...keys, gatewayId),
    );
  }

  /**
   * One script call per slice of users, the slices sent together: one round trip, and one command
   * for Redis and the client to handle instead of one per user.
   */
  async lookup(userIds: string[]): Promise<Map<string, string[]>> {
    const now = this.now();
    const redis = this.redis as unknown as ScriptedRedis;
    const slices: Promise<string[][]>[] = [];
    for (let i = 0; i < userIds.length; i += LOOKUP_SLICE) {
      const keys = userIds.slice(i, i + LOOKUP_SLICE).map((userId) => this.routesKey(userId));
      slices.push(redis.messengerLookupRoutes(keys.length + 1, ...keys, this.gatewaysKey(), now));
    }
    const found = (await guarded(() => Promise.all(slices))).flat();
    const out = new Map<string, string[]>();
    userIds.forEach((userId, i) => {
      const live = found[i];
      if (live && live.length > 0) out.set(userId, live);
    });
    return out;
  }

  /** Called by each gateway every few seconds; `ttlMs` 0 declares it gone at once (clean shutdown). */
  async markGatewayAlive(gatewayId: string, ttlMs: number): Promise<{ known: boolean }> {
    const now = this.now();
    const replies = await guarded(async () =>
      results(
        await this.redis
          .multi()
          .zadd(this.gatewaysKey(), now + ttlMs, gatewayId)
          .zremrangebyscore(this.gatewaysKey(), '-inf', now - FORGET_GATEWAY_MS)
          .exec(),
      ),
    );
    // ZADD counts new members: 1 means the registry did not know this gateway.
    return { known: Number(replies[0]) === 0 };
  }

  async close(): Promise<void> {
    await closeRedis(this.redis, this.owned);
  }

  private routesKey(userId: string): string {
    return `${this.prefix}routes:{${userId}}`;
  }

  private gatewaysKey(): string {
    return `${this.prefix}gateways`;
  }
}

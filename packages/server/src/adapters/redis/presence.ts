// RedisPresence: the cluster's presence KV. Per user (one hash slot, tag {userId}):
//   <p>presence:{u}:devices  ZSET deviceId -> expiry (ms)    <p>presence:{u}:status  HASH deviceId -> online|away
//   <p>presence:{u}:seen     last seen (ms), kept for `lastSeenRetentionMs`
//   <p>presence:{u}:announced the status last announced to contacts (by whichever gateway)
// A device that stops refreshing is not deleted by Redis but read as expired: its expiry score is
// then the user's last seen, so expiry of the last device still yields offline with a lastSeenAt.
import type { PresenceInfo } from '@messenger/protocol';
import type { Presence } from '../../core/presence/presence.js';
import { closeRedis, connectRedis, guarded, results, type RedisDeps } from './client.js';

/** Removes a device; when no live device is left, clears the user's devices and records `at` as last seen. */
const REMOVE_DEVICE = `
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[2], '+inf') > 0 then return 0 end
local expired = redis.call('ZCARD', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
if removed == 1 or expired > 0 then redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4]) end
return 1`;

/**
 * Sets a device: KEYS devices, status; ARGV expiry (ms), deviceId, status, keep (ms). One command
 * (not a MULTI block), so the client's auto-pipelining batches a connect wave's or a heartbeat's.
 */
const SET_DEVICE = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
for i = 1, 2 do
  redis.call('PEXPIRE', KEYS[i], ARGV[4], 'NX')
  redis.call('PEXPIRE', KEYS[i], ARGV[4], 'GT')
end
return 1`;

type ScriptedRedis = { messengerSetDevice(devices: string, status: string, expiresAt: number, deviceId: string, state: string, keepMs: number): Promise<unknown> };

const DAY_MS = 86_400_000;

export class RedisPresence implements Presence {
  private readonly redis;
  private readonly owned;
  private readonly prefix: string;
  private readonly retentionMs: number;
  private readonly now: () => number;

  constructor(deps: RedisDeps & { lastSeenRetentionMs?: number; now?: () => number }) {
    ({ redis: this.redis, owned: this.owned } = connectRedis(deps));
    this.prefix = deps.keyPrefix ?? '';
    this.retentionMs = deps.lastSeenRetentionMs ?? 30 * DAY_MS;
    this.now = deps.now ?? Date.now;
    this.redis.defineCommand('messengerSetDevice', { numberOfKeys: 2, lua: SET_DEVICE });
  }

  async setDevice(userId: string, deviceId: string, status: 'online' | 'away', ttlMs: number): Promise<void> {
    const k = this.keys(userId);
    // The keys outlive the device by the retention, so its expiry can still be read as last seen.
    const keep = ttlMs + this.retentionMs;
    await guarded(() => (this.redis as unknown as ScriptedRedis).messengerSetDevice(k.devices, k.status, this.now() + ttlMs, deviceId, status, keep));
  }

  async removeDevice(userId: string, deviceId: string, at: Date): Promise<void> {
    const k = this.keys(userId);
    await guarded(() => this.redis.eval(REMOVE_DEVICE, 3, k.devices, k.status, k.seen, deviceId, this.now(), at.getTime(), this.retentionMs));
  }

  async get(userIds: string[]): Promise<Map<string, PresenceInfo>> {
    const now = this.now();
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) {
      const k = this.keys(userId);
      pipeline
        .call('ZRANGE', k.devices, `(${now}`, '+inf', 'BYSCORE')
        // [member, score] flat or as one pair, depending on the client's reply parsing.
        .call('ZRANGE', k.devices, now, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
        .hgetall(k.status)
        .get(k.seen);
    }
    const replies = await guarded(async () => results(await pipeline.exec()));
    const out = new Map<string, PresenceInfo>();
    userIds.forEach((userId, i) => {
      const [live, lastExpired, statuses, seen] = replies.slice(i * 4, i * 4 + 4) as [string[], unknown[], Record<string, string>, string | null];
      if (live.length > 0) {
        const online = live.some((deviceId) => statuses[deviceId] === 'online');
        out.set(userId, { status: online ? 'online' : 'away', lastSeenAt: null });
        return;
      }
      const lastSeen = Math.max(Number(seen ?? 0), Number(lastExpired.flat()[1] ?? 0));
      out.set(userId, { status: 'offline', lastSeenAt: lastSeen > 0 ? new Date(lastSeen).toISOString() : null });
    });
    return out;
  }

  async claimAnnouncement(userId: string, status: string): Promise<boolean> {
    const previous = await guarded(() => this.redis.set(this.keys(userId).announced, status, 'PX', this.retentionMs, 'GET'));
    return previous !== status;
  }

  async clearAnnouncement(userId: string): Promise<void> {
    await guarded(() => this.redis.del(this.keys(userId).announced));
  }

  async close(): Promise<void> {
    await closeRedis(this.redis, this.owned);
  }

  private keys(userId: string) {
    const base = `${this.prefix}presence:{${userId}}`;
    return { devices: `${base}:devices`, status: `${base}:status`, seen: `${base}:seen`, announced: `${base}:announced` };
  }
}

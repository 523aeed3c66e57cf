// RedisPresence: the cluster's presence KV. Per user (one hash slot, tag {userId}):
//   <p>presence:{u}:devices  ZSET deviceId -> expiry (ms)    <p>presence:{u}:status  HASH deviceId -> online|away
//   <p>presence:{u}:seen     last seen (ms), kept for `lastSeenRetentionMs`
//   <p>presence:{u}:announced the status last announced to contacts (by whichever gateway)
// A device that stops refreshing is not deleted by Redis but read as expired: its expiry score is
// then the user's last seen, so expiry of the last device still yields offline with a lastSeenAt.
import type { PresenceInfo } from '@messenger/protocol';
import type { DeviceEntry, Presence } from '../../core/presence/presence.js';
import { closeRedis, connectRedis, guarded, results, type RedisDeps } from './client.js';

/**
 * Removes devices: KEYS devices, status and seen of each device's user in turn; ARGV now (ms), at
 * (ms), keep (ms), then the deviceId of each. When a user has no live device left, clears its
 * devices and records `at` as last seen. One command for a whole slice of closed sockets: a mass
 * disconnect otherwise queues one script per socket behind each other, past the command timeout.
 */
const REMOVE_DEVICES = `
for i = 1, #KEYS, 3 do
  local device = ARGV[(i - 1) / 3 + 4]
  local removed = redis.call('ZREM', KEYS[i], device)
  redis.call('HDEL', KEYS[i + 1], device)
  if redis.call('ZCOUNT', KEYS[i], '(' .. ARGV[1], '+inf') == 0 then
    local expired = redis.call('ZCARD', KEYS[i])
    redis.call('DEL', KEYS[i], KEYS[i + 1])
    if removed == 1 or expired > 0 then redis.call('SET', KEYS[i + 2], ARGV[2], 'PX', ARGV[3]) end
  end
end
return 1`;

/**
 * Sets devices: KEYS devices and status of each device in turn; ARGV expiry (ms), keep (ms), then
 * deviceId and status of each. Expiries are set when absent and only ever extended. One command
 * for a whole heartbeat slice: the keys then span many users' hash slots, which one Redis allows
 * (a Redis Cluster deployment would have to group the slice by slot).
 */
const SET_DEVICES = `
for i = 1, #KEYS, 2 do
  redis.call('ZADD', KEYS[i], ARGV[1], ARGV[i + 2])
  redis.call('HSET', KEYS[i + 1], ARGV[i + 2], ARGV[i + 3])
  for k = i, i + 1 do
    redis.call('PEXPIRE', KEYS[k], ARGV[2], 'NX')
    redis.call('PEXPIRE', KEYS[k], ARGV[2], 'GT')
  end
end
return 1`;

/**
 * Reads users' combined presence (as get() does) and claims it as announced, atomically per user:
 * KEYS devices, status, seen and announced of each user in turn; ARGV now (ms), keep (ms). Returns
 * per user a status and a last seen (ms, 0 if none), the status false when it was the one
 * announced last. One command for a whole batch of announcements, not five (or one) per user; its
 * keys span many users' hash slots, as SET_DEVICES's do.
 */
const CLAIM_ANNOUNCEMENTS = `
local out = {}
for i = 1, #KEYS, 4 do
  local live = redis.call('ZRANGE', KEYS[i], '(' .. ARGV[1], '+inf', 'BYSCORE')
  local status = 'offline'
  local seen = 0
  if #live > 0 then
    status = 'away'
    for _, device in ipairs(live) do
      if redis.call('HGET', KEYS[i + 1], device) == 'online' then
        status = 'online'
        break
      end
    end
  else
    local last = redis.call('ZRANGE', KEYS[i], ARGV[1], '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
    if last[2] then seen = tonumber(last[2]) end
    local recorded = tonumber(redis.call('GET', KEYS[i + 2]) or '0')
    if recorded > seen then seen = recorded end
  end
  if redis.call('SET', KEYS[i + 3], status, 'PX', ARGV[2], 'GET') == status then status = false end
  out[#out + 1] = status
  out[#out + 1] = seen
end
return out`;

/** Users per claim call: bounds how long one call keeps Redis busy (a connect wave's announcements). */
const CLAIM_SLICE = 500;

type ScriptedRedis = {
  messengerSetDevices(...args: (string | number)[]): Promise<unknown>;
  messengerRemoveDevices(...args: (string | number)[]): Promise<unknown>;
  messengerClaimAnnouncements(...args: (string | number)[]): Promise<(PresenceInfo['status'] | number | null)[]>;
};

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
    // No fixed key count: the first argument is the number of keys.
    this.redis.defineCommand('messengerSetDevices', { lua: SET_DEVICES });
    this.redis.defineCommand('messengerRemoveDevices', { lua: REMOVE_DEVICES });
    this.redis.defineCommand('messengerClaimAnnouncements', { lua: CLAIM_ANNOUNCEMENTS });
  }

  async setDevice(userId: string, deviceId: string, status: 'online' | 'away', ttlMs: number): Promise<void> {
    await this.setDevices([{ userId, deviceId, status }], ttlMs);
  }

  async setDevices(devices: DeviceEntry[], ttlMs: number): Promise<void> {
    if (devices.length === 0) return;
    const keys: string[] = [];
    const args: string[] = [];
    for (const { userId, deviceId, status } of devices) {
      const base = this.base(userId);
      keys.push(`${base}:devices`, `${base}:status`);
      args.push(deviceId, status);
    }
    // The keys outlive the device by the retention, so its expiry can still be read as last seen.
    const keep = ttlMs + this.retentionMs;
    await guarded(() =>
      (this.redis as unknown as ScriptedRedis).messengerSetDevices(
        keys.length,
        ...keys,
        this.now() + ttlMs,
        keep,
        ...args,
      ),
    );
  }

  async removeDevice(userId: string, deviceId: string, at: Date): Promise<void> {
    await this.removeDevices([{ userId, deviceId }], at);
  }

  async removeDevices(devices: Omit<DeviceEntry, 'status'>[], at: Date): Promise<void> {
    if (devices.length === 0) return;
    const keys: string[] = [];
    for (const { userId } of devices) {
      const k = this.keys(userId);
      keys.push(k.devices, k.status, k.seen);
    }
    await guarded(() =>
      (this.redis as unknown as ScriptedRedis).messengerRemoveDevices(
        keys.length,
        ...keys,
        this.now(),
        at.getTime(),
        this.retentionMs,
        ...devices.map((d) => d.deviceId),
      ),
    );
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
      const [live, lastExpired, statuses, seen] = replies.slice(i * 4, i * 4 + 4) as [
        string[],
        unknown[],
        Record<string, string>,
        string | null,
      ];
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
    const previous = await guarded(() =>
      this.redis.set(this.keys(userId).announced, status, 'PX', this.retentionMs, 'GET'),
    );
    return previous !== status;
  }

  async claimAnnouncements(userIds: string[]): Promise<Map<string, PresenceInfo>> {
    const now = this.now();
    const redis = this.redis as unknown as ScriptedRedis;
    // One script call per slice, all issued in this turn: auto-pipelining sends them as one write.
    const slices: Promise<(PresenceInfo['status'] | number | null)[]>[] = [];
    for (let i = 0; i < userIds.length; i += CLAIM_SLICE) {
      const keys: string[] = [];
      for (const userId of userIds.slice(i, i + CLAIM_SLICE)) {
        const base = this.base(userId);
        keys.push(`${base}:devices`, `${base}:status`, `${base}:seen`, `${base}:announced`);
      }
      slices.push(redis.messengerClaimAnnouncements(keys.length, ...keys, now, this.retentionMs));
    }
    const replies = (await guarded(() => Promise.all(slices))).flat();
    const claimed = new Map<string, PresenceInfo>();
    userIds.forEach((userId, i) => {
      const status = replies[i * 2] as PresenceInfo['status'] | null;
      if (!status) return;
      const seen = Number(replies[i * 2 + 1]);
      claimed.set(userId, {
        status,
        lastSeenAt: status === 'offline' && seen > 0 ? new Date(seen).toISOString() : null,
      });
    });
    return claimed;
  }

  async clearAnnouncement(userId: string): Promise<void> {
    await guarded(() => this.redis.del(this.keys(userId).announced));
  }

  async close(): Promise<void> {
    await closeRedis(this.redis, this.owned);
  }

  private base(userId: string): string {
    return `${this.prefix}presence:{${userId}}`;
  }

  private keys(userId: string) {
    const base = this.base(userId);
    return {
      devices: `${base}:devices`,
      status: `${base}:status`,
      seen: `${base}:seen`,
      announced: `${base}:announced`,
    };
  }
}

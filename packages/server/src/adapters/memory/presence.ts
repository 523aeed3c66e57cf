// In-process presence: the embedded default. Device entries expire like Redis keys with a TTL.
import type { PresenceInfo } from '@messenger/protocol';
import type { DeviceEntry, Presence } from '../../core/presence/presence.js';

interface Device {
  status: 'online' | 'away';
  expiresAt: number;
}

export class MemoryPresence implements Presence {
  private readonly devices = new Map<string, Map<string, Device>>();
  private readonly lastSeen = new Map<string, string>();
  private readonly announced = new Map<string, string>();
  private readonly now: () => number;

  constructor(deps: { now?: () => number } = {}) {
    this.now = deps.now ?? Date.now;
  }

  async setDevice(userId: string, deviceId: string, status: 'online' | 'away', ttlMs: number): Promise<void> {
    let devices = this.devices.get(userId);
    if (!devices) this.devices.set(userId, (devices = new Map()));
    devices.set(deviceId, { status, expiresAt: this.now() + ttlMs });
  }

  async setDevices(devices: DeviceEntry[], ttlMs: number): Promise<void> {
    for (const d of devices) await this.setDevice(d.userId, d.deviceId, d.status, ttlMs);
  }

  async removeDevice(userId: string, deviceId: string, at: Date): Promise<void> {
    const devices = this.devices.get(userId);
    if (!devices) return;
    devices.delete(deviceId);
    this.expire(userId, devices);
    if (devices.size === 0) {
      this.devices.delete(userId);
      this.lastSeen.set(userId, at.toISOString());
    }
  }

  async removeDevices(devices: Omit<DeviceEntry, 'status'>[], at: Date): Promise<void> {
    for (const d of devices) await this.removeDevice(d.userId, d.deviceId, at);
  }

  async get(userIds: string[]): Promise<Map<string, PresenceInfo>> {
    const out = new Map<string, PresenceInfo>();
    for (const userId of userIds) {
      const devices = this.devices.get(userId);
      if (devices) this.expire(userId, devices);
      const live = this.devices.get(userId);
      if (!live || live.size === 0) {
        out.set(userId, { status: 'offline', lastSeenAt: this.lastSeen.get(userId) ?? null });
        continue;
      }
      const online = [...live.values()].some((d) => d.status === 'online');
      out.set(userId, { status: online ? 'online' : 'away', lastSeenAt: null });
    }
    return out;
  }

  async claimAnnouncement(userId: string, status: string): Promise<boolean> {
    if (this.announced.get(userId) === status) return false;
    this.announced.set(userId, status);
    return true;
  }

  async claimAnnouncements(userIds: string[]): Promise<Map<string, PresenceInfo>> {
    const infos = await this.get(userIds);
    const claimed = new Map<string, PresenceInfo>();
    for (const [userId, info] of infos)
      if (await this.claimAnnouncement(userId, info.status)) claimed.set(userId, info);
    return claimed;
  }

  async clearAnnouncement(userId: string): Promise<void> {
    this.announced.delete(userId);
  }

  async close(): Promise<void> {}

  private expire(userId: string, devices: Map<string, Device>): void {
    const now = this.now();
    let latest = 0;
    for (const [id, device] of devices) {
      if (device.expiresAt <= now) {
        devices.delete(id);
        latest = Math.max(latest, device.expiresAt);
      }
    }
    if (devices.size === 0) {
      this.devices.delete(userId);
      if (latest > 0) this.lastSeen.set(userId, new Date(latest).toISOString());
    }
  }
}

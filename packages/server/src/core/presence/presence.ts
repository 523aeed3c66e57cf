// Presence: which devices of a user are connected and how (the seed's presence KV).
import type { PresenceInfo } from '@messenger/protocol';

export interface DeviceEntry {
  userId: string;
  deviceId: string;
  status: 'online' | 'away';
}

export interface Presence {
  /** A device is connected (or refreshed its heartbeat). Entries expire after `ttlMs` without a refresh. */
  setDevice(userId: string, deviceId: string, status: 'online' | 'away', ttlMs: number): Promise<void>;
  /** `setDevice` for each device in one call: a gateway's heartbeat refreshes its sockets this way. */
  setDevices(devices: DeviceEntry[], ttlMs: number): Promise<void>;
  /** A device went away cleanly; `lastSeenAt` is recorded when it was the user's last one. */
  removeDevice(userId: string, deviceId: string, at: Date): Promise<void>;
  /** `removeDevice` for each device in one call: a mass disconnect cleans up this way, not per socket. */
  removeDevices(devices: Omit<DeviceEntry, 'status'>[], at: Date): Promise<void>;
  /** Combined over devices: online if any is online, away if all are away, else offline with lastSeenAt. */
  get(userIds: string[]): Promise<Map<string, PresenceInfo>>;
  /**
   * Records `status` as the last one announced to the user's contacts; true when it differs from
   * the previous record (the caller then announces it). Shared by every gateway, so a user whose
   * devices sit on different gateways is announced once per change, not once per gateway.
   */
  claimAnnouncement(userId: string, status: string): Promise<boolean>;
  /**
   * For each user, reads the combined presence (as `get`) and claims it (as `claimAnnouncement`)
   * in one step; returns the users whose claim succeeded, with the presence to announce.
   */
  claimAnnouncements(userIds: string[]): Promise<Map<string, PresenceInfo>>;
  /** Forgets the last announced status: the next claim succeeds whatever its status. */
  clearAnnouncement(userId: string): Promise<void>;
  close(): Promise<void>;
}

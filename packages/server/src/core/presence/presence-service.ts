// Presence and typing: ephemeral signals that never touch the log or the store's messages.
// Changes are announced to connected contacts after a short coalescing delay, and only when the
// combined status differs from what was last announced (by any gateway), so a flapping connection
// floods nobody.
import { LIMITS, type PresenceInfo } from '@messenger/protocol';
import type { Deliverer, Outgoing } from '../routing/delivery.js';
import type { Conversations } from '../conversations/conversations.js';
import type { ConversationStore } from '../conversations/conversation-store.js';
import type { DeviceEntry, Presence } from './presence.js';
import type { PresenceVisibility } from './presence-visibility.js';
import type { Reach } from '../safety/reach.js';

/** Announcements delivered per event-loop turn (up to ANNOUNCE_SLICE × group size socket writes). */
const ANNOUNCE_SLICE = 32;

export class PresenceService {
  private readonly presence: Presence;
  private readonly visibility: PresenceVisibility;
  private readonly store: Pick<ConversationStore, 'contacts' | 'memberIds'>;
  private readonly deliverer: Deliverer;
  private readonly conversations: Conversations;
  private readonly reach: Reach;
  private readonly coalesceMs: number;
  private readonly batchWindowMs: number;
  /** Users whose presence changed, with the time their announcement is due, in due order. */
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly typingAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(deps: {
    presence: Presence;
    presenceVisibility: PresenceVisibility;
    conversationStore: Pick<ConversationStore, 'contacts' | 'memberIds'>;
    deliverer: Deliverer;
    conversations: Conversations;
    reach: Reach;
    coalesceMs: number;
    now?: () => number;
  }) {
    this.presence = deps.presence;
    this.visibility = deps.presenceVisibility;
    this.store = deps.conversationStore;
    this.deliverer = deps.deliverer;
    this.conversations = deps.conversations;
    this.reach = deps.reach;
    this.coalesceMs = deps.coalesceMs;
    this.batchWindowMs = Math.min(50, deps.coalesceMs);
    this.now = deps.now ?? Date.now;
  }

  async deviceUp(userId: string, deviceId: string, status: 'online' | 'away', ttlMs: number): Promise<void> {
    await this.presence.setDevice(userId, deviceId, status, ttlMs);
    this.schedule(userId);
  }

  /** `deviceUp` for many devices in one presence call: the sockets a gateway accepted in one turn. */
  async devicesUp(devices: DeviceEntry[], ttlMs: number): Promise<void> {
    if (devices.length === 0) return;
    await this.presence.setDevices(devices, ttlMs);
    for (const { userId } of devices) this.schedule(userId);
  }

  /** Heartbeat: keeps devices' entries alive without announcing anything (one call per slice of sockets). */
  async refresh(devices: DeviceEntry[], ttlMs: number): Promise<void> {
    await this.presence.setDevices(devices, ttlMs);
  }

  async deviceDown(userId: string, deviceId: string): Promise<void> {
    await this.presence.removeDevice(userId, deviceId, new Date(this.now()));
    this.schedule(userId);
  }

  /** `deviceDown` for many devices in one presence call: the closed sockets of a mass disconnect. */
  async devicesDown(devices: Omit<DeviceEntry, 'status'>[]): Promise<void> {
    await this.presence.removeDevices(devices, new Date(this.now()));
    for (const { userId } of devices) this.schedule(userId);
  }

  /** GetStatus: only the caller's contacts; hidden and blocked users (either way) look offline. */
  async status(callerId: string, userIds: string[]): Promise<Record<string, PresenceInfo>> {
    const { contacts: visible, blocked } = await this.reach.presenceOf(callerId, userIds);
    const hidden = await this.visibility.hiddenPresence(visible);
    for (const id of blocked) hidden.add(id);
    const infos = await this.presence.get(visible.filter((id) => !hidden.has(id)));
    const out: Record<string, PresenceInfo> = {};
    for (const id of visible)
      out[id] = hidden.has(id)
        ? { status: 'offline', lastSeenAt: null }
        : (infos.get(id) ?? { status: 'offline', lastSeenAt: null });
    return out;
  }

  /**
   * While hidden, no presence event about the user is sent (the contract) and GetStatus says
   * offline; showing presence again announces the real state.
   */
  async setVisible(userId: string, visible: boolean): Promise<void> {
    await this.visibility.setPresenceVisible(userId, visible);
    if (visible) {
      await this.presence.clearAnnouncement(userId);
      this.schedule(userId);
    } else {
      await this.presence.claimAnnouncement(userId, 'hidden');
    }
  }

  /**
   * A block was set or lifted between two users: each sees the other offline from now on, or again
   * as they are (when they are contacts).
   */
  async blockChanged(a: string, b: string, blocked: boolean): Promise<void> {
    const offline = { status: 'offline' as const, lastSeenAt: null };
    const [ofA, ofB] = blocked ? [offline, offline] : [(await this.status(b, [a]))[a], (await this.status(a, [b]))[b]];
    const outgoing: Outgoing[] = [];
    if (ofA) outgoing.push({ userIds: [b], event: { type: 'presence', userId: a, ...ofA } });
    if (ofB) outgoing.push({ userIds: [a], event: { type: 'presence', userId: b, ...ofB } });
    if (outgoing.length > 0) await this.deliverer.deliverMany(outgoing);
  }

  /**
   * At most one typing event per user per conversation per 2 s; a throttled call is still a success.
   * Nobody sees the typing of a member who has not accepted the chat, nor across a block.
   */
  async typing(userId: string, conversationId: string): Promise<void> {
    const membership = await this.conversations.requireMember(conversationId, userId);
    if (!this.reach.signalsShown(membership)) return;
    const key = `${userId}\u0000${conversationId}`;
    const now = this.now();
    if (now - (this.typingAt.get(key) ?? -Infinity) < LIMITS.typingIntervalMs) return;
    this.typingAt.set(key, now);
    if (this.typingAt.size > 50_000)
      for (const [k, at] of this.typingAt) if (now - at >= LIMITS.typingIntervalMs) this.typingAt.delete(k);
    const others = (await this.store.memberIds(conversationId)).filter((id) => id !== userId);
    await this.deliverer.deliver(await this.reach.unblocked(userId, others), {
      type: 'typing',
      conversationId,
      userId,
    });
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }

  /**
   * A user's change is announced `coalesceMs` after it (plus up to `batchWindowMs`), together
   * with every other change that came due by then: one timer for all users, and one delivery
   * batch (one route lookup, one bus message per gateway) for all the announcements of a batch.
   * A connect wave of a 1,000-member group otherwise costs 1,000 route lookups of 999 users each.
   */
  private schedule(userId: string): void {
    if (this.pending.has(userId)) return;
    this.pending.set(userId, this.now() + this.coalesceMs);
    this.arm();
  }

  private arm(): void {
    if (this.timer || this.pending.size === 0) return;
    // Insertion order is due order (a constant delay after a monotonic-enough clock).
    const due = this.pending.values().next().value!;
    this.timer = setTimeout(this.fire, Math.max(0, due - this.now()) + this.batchWindowMs);
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = null;
    const now = this.now();
    const batch: string[] = [];
    for (const [userId, due] of this.pending) {
      if (due > now) break;
      batch.push(userId);
      this.pending.delete(userId);
    }
    this.arm();
    // Presence is best effort: a backing service being down must not take the process with it.
    if (batch.length > 0) this.flush(batch).catch(() => undefined);
  };

  private async flush(userIds: string[]): Promise<void> {
    const hidden = await this.visibility.hiddenPresence(userIds);
    const visible = userIds.filter((id) => !hidden.has(id));
    if (visible.length === 0) return;
    // The status read and the claim are one step per user (one Redis command in a cluster). The
    // record is shared by every gateway: a second device connecting on another gateway finds
    // "online" already announced and stays quiet.
    const claimed = await this.presence.claimAnnouncements(visible);
    const outgoing = await Promise.all(
      [...claimed].map(async ([userId, info]): Promise<Outgoing | null> => {
        try {
          return {
            userIds: await this.reach.presenceAudience(userId),
            event: { type: 'presence', userId, status: info.status, lastSeenAt: info.lastSeenAt },
          };
        } catch {
          return null;
        }
      }),
    );
    const batch = outgoing.filter((o): o is Outgoing => o !== null);
    // In slices, one event-loop turn each: a turn's writes stay corked until the turn ends, and a
    // connect wave of a 1,000-member group is a million of them; the memory they hold would
    // outlive a few scavenges and end up in a long major GC while messages are being delivered.
    for (let i = 0; i < batch.length; i += ANNOUNCE_SLICE) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      await this.deliverer.deliverMany(batch.slice(i, i + ANNOUNCE_SLICE));
    }
  }
}

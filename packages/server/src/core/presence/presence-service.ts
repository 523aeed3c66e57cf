// Presence and typing: ephemeral signals that never touch the log or the store's messages.
// Changes are announced to connected contacts after a short coalescing delay, and only when the
// combined status differs from what was last announced (by any gateway), so a flapping connection
// floods nobody.
import { LIMITS, type PresenceInfo } from '@messenger/protocol';
import type { Deliverer } from '../routing/delivery.js';
import type { Store } from '../store.js';
import type { Conversations } from '../conversations/conversations.js';
import type { Presence } from './presence.js';

export class PresenceService {
  private readonly presence: Presence;
  private readonly store: Store;
  private readonly deliverer: Deliverer;
  private readonly conversations: Conversations;
  private readonly coalesceMs: number;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly typingAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(deps: { presence: Presence; store: Store; deliverer: Deliverer; conversations: Conversations; coalesceMs: number; now?: () => number }) {
    this.presence = deps.presence;
    this.store = deps.store;
    this.deliverer = deps.deliverer;
    this.conversations = deps.conversations;
    this.coalesceMs = deps.coalesceMs;
    this.now = deps.now ?? Date.now;
  }

  async deviceUp(userId: string, deviceId: string, status: 'online' | 'away', ttlMs: number): Promise<void> {
    await this.presence.setDevice(userId, deviceId, status, ttlMs);
    this.schedule(userId);
  }

  /** Heartbeat: keeps a device's entry alive without announcing anything. */
  async refresh(userId: string, deviceId: string, status: 'online' | 'away', ttlMs: number): Promise<void> {
    await this.presence.setDevice(userId, deviceId, status, ttlMs);
  }

  async deviceDown(userId: string, deviceId: string): Promise<void> {
    await this.presence.removeDevice(userId, deviceId, new Date(this.now()));
    this.schedule(userId);
  }

  /** GetStatus: only users who share a conversation with the caller; hidden users look offline. */
  async status(callerId: string, userIds: string[]): Promise<Record<string, PresenceInfo>> {
    const contacts = new Set(await this.store.contacts(callerId));
    const visible = userIds.filter((id) => contacts.has(id));
    const hidden = await this.store.hiddenPresence(visible);
    const infos = await this.presence.get(visible.filter((id) => !hidden.has(id)));
    const out: Record<string, PresenceInfo> = {};
    for (const id of visible) out[id] = hidden.has(id) ? { status: 'offline', lastSeenAt: null } : (infos.get(id) ?? { status: 'offline', lastSeenAt: null });
    return out;
  }

  /**
   * While hidden, no presence event about the user is sent (the contract) and GetStatus says
   * offline; showing presence again announces the real state.
   */
  async setVisible(userId: string, visible: boolean): Promise<void> {
    await this.store.setPresenceVisible(userId, visible);
    if (visible) {
      await this.presence.clearAnnouncement(userId);
      this.schedule(userId);
    } else {
      await this.presence.claimAnnouncement(userId, 'hidden');
    }
  }

  /** At most one typing event per user per conversation per 2 s; a throttled call is still a success. */
  async typing(userId: string, conversationId: string): Promise<void> {
    await this.conversations.requireMember(conversationId, userId);
    const key = `${userId}\u0000${conversationId}`;
    const now = this.now();
    if (now - (this.typingAt.get(key) ?? -Infinity) < LIMITS.typingIntervalMs) return;
    this.typingAt.set(key, now);
    if (this.typingAt.size > 50_000) for (const [k, at] of this.typingAt) if (now - at >= LIMITS.typingIntervalMs) this.typingAt.delete(k);
    const others = (await this.store.memberIds(conversationId)).filter((id) => id !== userId);
    await this.deliverer.deliver(others, { type: 'typing', conversationId, userId });
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(userId: string): void {
    if (this.timers.has(userId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(userId);
      // Presence is best effort: a backing service being down must not take the process with it.
      this.flush(userId).catch(() => undefined);
    }, this.coalesceMs);
    timer.unref();
    this.timers.set(userId, timer);
  }

  private async flush(userId: string): Promise<void> {
    if ((await this.store.hiddenPresence([userId])).has(userId)) return;
    const info = (await this.presence.get([userId])).get(userId) ?? { status: 'offline' as const, lastSeenAt: null };
    await this.announce(userId, info, false);
  }

  private async announce(userId: string, info: PresenceInfo, force: boolean): Promise<void> {
    // The record is shared by every gateway (Redis in a cluster): a second device connecting on
    // another gateway finds "online" already announced and stays quiet.
    if (!(await this.presence.claimAnnouncement(userId, info.status)) && !force) return;
    const contacts = await this.store.contacts(userId);
    await this.deliverer.deliver(contacts, { type: 'presence', userId, status: info.status, lastSeenAt: info.lastSeenAt });
  }
}

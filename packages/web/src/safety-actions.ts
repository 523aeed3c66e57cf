// What the safety screens do: accept or decline message requests, block, administer a group,
// report, find people, and the operator's reports and suspensions. Each keeps the app state in step.
import type { HttpApi } from '@messenger/sdk';
import type { Conversation, MemberRole, Report, User } from '@messenger/protocol';
import type { AppStateCell } from './app-state.js';

export class SafetyActions {
  readonly #api: HttpApi;
  readonly #cell: AppStateCell;
  /**
   * Requests declined on this device. The server still sends their events (the decline's own
   * conversation.updated among them) with `request: true`, which would bring them back.
   */
  readonly #declined = new Set<string>();

  constructor(deps: { api: HttpApi; cell: AppStateCell }) {
    this.#api = deps.api;
    this.#cell = deps.cell;
  }

  async allRequests(): Promise<Conversation[]> {
    const all: Conversation[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#api.safety.listRequests({ limit: 200, ...(cursor ? { cursor } : {}) });
      all.push(...page.conversations);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  }

  async accept(conversationId: string): Promise<void> {
    this.#cell.upsertConversation(await this.#api.safety.acceptRequest(conversationId));
  }

  async decline(conversationId: string): Promise<void> {
    this.#declined.add(conversationId);
    try {
      await this.#api.safety.declineRequest(conversationId);
    } catch (error) {
      this.#declined.delete(conversationId);
      throw error;
    }
    this.#cell.removeConversation(conversationId);
  }

  /** Whether a request was declined here: its events should not show it again. */
  declined(conversationId: string): boolean {
    return this.#declined.has(conversationId);
  }

  async refreshBlocked(): Promise<User[]> {
    const users = await this.#api.safety.listBlocked().catch(() => null);
    if (users) this.#cell.set({ blocked: users.map((u) => u.id) });
    return users ?? [];
  }

  async block(userId: string): Promise<void> {
    await this.#api.safety.block(userId);
    this.#cell.set({ blocked: [...new Set([userId, ...this.#cell.state.blocked])] });
  }

  async unblock(userId: string): Promise<void> {
    await this.#api.safety.unblock(userId);
    this.#cell.set({ blocked: this.#cell.state.blocked.filter((id) => id !== userId) });
  }

  async updateGroup(conversationId: string, body: { title?: string; membersCanAdd?: boolean }): Promise<void> {
    this.#cell.upsertConversation(await this.#api.safety.updateConversation(conversationId, body));
  }

  /** Uploads the photo, then makes it the group's avatar; `null` removes it. Admins only (403). */
  async setGroupAvatar(conversationId: string, file: Blob | null): Promise<void> {
    const upload = file ? await this.#api.upload(file) : null;
    const updated = await this.#api.safety.updateConversation(conversationId, { avatarUploadId: upload?.id ?? null });
    this.#cell.upsertConversation(updated);
  }

  async setRole(conversationId: string, userId: string, role: MemberRole): Promise<void> {
    this.#cell.upsertConversation(await this.#api.safety.setMemberRole(conversationId, userId, role));
  }

  async removeMember(conversationId: string, userId: string): Promise<void> {
    await this.#api.safety.removeMember(conversationId, userId);
    this.#cell.patchConversation(conversationId, (c) => ({
      ...c,
      members: c.members.filter((m) => m.userId !== userId),
    }));
  }

  report(input: { conversationId: string; messageId?: string; userId?: string; reason: string }): Promise<Report> {
    return this.#api.safety.report(input);
  }

  searchPeople(q: string): Promise<User[]> {
    return this.#api.searchPeople(q, 8);
  }

  reports(): Promise<Report[]> {
    return this.#api.safety.adminReports();
  }

  suspend(userId: string, reason: string): Promise<void> {
    return this.#api.safety.suspendUser(userId, reason);
  }

  unsuspend(userId: string): Promise<void> {
    return this.#api.safety.unsuspendUser(userId);
  }
}

// MemoryBlocks: blocks in one process's memory, for unit tests and tools; the servers keep them in
// SQLite or PostgreSQL, where they outlive the process.
import type { BlockStore } from '../../core/safety/block-store.js';

export class MemoryBlocks implements BlockStore {
  /** blocker -> blocked -> when. */
  private readonly byBlocker = new Map<string, Map<string, string>>();
  /** conversation id -> its two members, for the direct chats the caller registers. */
  private readonly directs = new Map<string, [string, string]>();

  /** Makes `blockedInDirectChat` know a direct chat (memory has no conversations of its own). */
  registerDirectChat(conversationId: string, a: string, b: string): void {
    this.directs.set(conversationId, [a, b]);
  }

  async block(blockerId: string, blockedId: string, at: string): Promise<void> {
    let blocked = this.byBlocker.get(blockerId);
    if (!blocked) this.byBlocker.set(blockerId, (blocked = new Map()));
    if (!blocked.has(blockedId)) blocked.set(blockedId, at);
  }

  async unblock(blockerId: string, blockedId: string): Promise<void> {
    this.byBlocker.get(blockerId)?.delete(blockedId);
  }

  async blockedBy(blockerId: string): Promise<string[]> {
    return [...(this.byBlocker.get(blockerId) ?? new Map<string, string>())]
      .sort((x, y) => (x[1] === y[1] ? x[0].localeCompare(y[0]) : x[1] < y[1] ? 1 : -1))
      .map(([id]) => id);
  }

  async blockedEither(userId: string, others: string[]): Promise<Set<string>> {
    return new Set(others.filter((o) => this.byBlocker.get(userId)?.has(o) || this.byBlocker.get(o)?.has(userId)));
  }

  async blockedInDirectChat(conversationId: string, senderId: string): Promise<boolean> {
    const pair = this.directs.get(conversationId);
    if (!pair?.includes(senderId)) return false;
    const other = pair[0] === senderId ? pair[1] : pair[0];
    return this.byBlocker.get(other)?.has(senderId) ?? false;
  }
}

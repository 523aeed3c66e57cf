// Member ids per conversation for the log's consumers (fan-out, notifier). Membership changes reach
// a consumer as conversation.updated records in log order, in the same partition as the
// conversation's messages: `forget` on that record drops the entry before anything later is read.
import type { ConversationStore } from '../core/conversations/conversation-store.js';

export class MemberCache {
  private readonly entries = new Map<string, string[]>();

  constructor(
    private readonly store: Pick<ConversationStore, 'memberIds'>,
    private readonly capacity = 50_000,
  ) {}

  async get(conversationId: string): Promise<string[]> {
    const cached = this.entries.get(conversationId);
    if (cached) return cached;
    const ids = await this.store.memberIds(conversationId);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(conversationId, ids);
    return ids;
  }

  /** Fills the cache for every conversation of a batch at once (a store may answer them in one query). */
  async prefetch(conversationIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(conversationIds)].filter((id) => !this.entries.has(id));
    await Promise.all(missing.map((id) => this.get(id)));
  }

  /** The members as a record of the log says they are (a new chat's), read from it instead of the store. */
  remember(conversationId: string, ids: string[]): void {
    this.entries.delete(conversationId);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(conversationId, ids);
  }

  forget(conversationId: string): void {
    this.entries.delete(conversationId);
  }
}

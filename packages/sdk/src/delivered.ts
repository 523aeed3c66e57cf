// Delivery receipts, coalesced: a burst of messages costs one `delivered` request per conversation.

export interface DeliveredReceipt {
  conversationId: string;
  seq: number;
}

/** Pure: the client decides when to drain (about every 200 ms) and sends what comes out. */
export class DeliveredCoalescer {
  readonly #noted = new Map<string, number>();
  readonly #sent = new Map<string, number>();

  /** Returns whether there is now something to send. */
  note(conversationId: string, seq: number): boolean {
    if (seq > (this.#noted.get(conversationId) ?? 0)) this.#noted.set(conversationId, seq);
    return this.#noted.get(conversationId)! > (this.#sent.get(conversationId) ?? 0);
  }

  /** The highest noted seq of every conversation not yet acknowledged that high, marked as sent. */
  drain(): DeliveredReceipt[] {
    const out: DeliveredReceipt[] = [];
    for (const [conversationId, seq] of this.#noted) {
      if (seq <= (this.#sent.get(conversationId) ?? 0)) continue;
      this.#sent.set(conversationId, seq);
      out.push({ conversationId, seq });
    }
    return out;
  }

  /**
   * A send that did not go through is owed again, unless a higher one went out since. Forgetting
   * the older acknowledged value is harmless: the server keeps the maximum it was told.
   */
  failed(receipt: DeliveredReceipt): void {
    if (this.#sent.get(receipt.conversationId) === receipt.seq) this.#sent.delete(receipt.conversationId);
  }

  pending(): boolean {
    for (const [conversationId, seq] of this.#noted) if (seq > (this.#sent.get(conversationId) ?? 0)) return true;
    return false;
  }
}

/**
 * Receipts owed for messages that arrived while this user had no device online: the SDK never
 * handed those out as events (it does not page conversations the app has no history of), so the
 * conversation list is the only place they show. One receipt up to `lastSeq` per conversation whose
 * newest message is someone else's and that the user's own `deliveredSeq` has not reached.
 */
export function owedDelivered(
  conversations: ReadonlyArray<{
    id: string;
    lastSeq: number;
    lastMessage: { senderId: string } | null;
    members: ReadonlyArray<{ userId: string; deliveredSeq: number }>;
  }>,
  userId: string,
): DeliveredReceipt[] {
  const out: DeliveredReceipt[] = [];
  for (const c of conversations) {
    if (!c.lastMessage || c.lastMessage.senderId === userId || c.lastSeq <= 0) continue;
    const mine = c.members.find((m) => m.userId === userId);
    if (mine && mine.deliveredSeq >= c.lastSeq) continue;
    out.push({ conversationId: c.id, seq: c.lastSeq });
  }
  return out;
}

// The delivery receipts a client sends: noted as others' messages reach it (live, or owed from a
// chat list), sent over the socket a moment later, coalesced, and kept while offline.
import type { Conversation } from '@messenger/protocol';
import { DeliveredCoalescer, type DeliveredReceipt, owedDelivered } from './delivered.js';

export interface DeliveredSenderDeps {
  /** Asked at each note, so the client's options are read as they are then. */
  enabled(): boolean;
  delayMs(): number;
  ready(): boolean;
  send(receipt: DeliveredReceipt): Promise<unknown>;
}

export class DeliveredSender {
  readonly #coalescer = new DeliveredCoalescer();
  readonly #deps: DeliveredSenderDeps;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(deps: DeliveredSenderDeps) {
    this.#deps = deps;
  }

  /** A live message of someone else's. */
  noteMessage(conversationId: string, seq: number): void {
    if (this.#deps.enabled() && this.#coalescer.note(conversationId, seq)) this.#schedule();
  }

  /** Receipts owed for the messages of `conversations` that came while no device of the user's was online. */
  noteOwed(userId: string, conversations: Conversation[]): void {
    if (!this.#deps.enabled()) return;
    let owed = false;
    for (const r of owedDelivered(conversations, userId)) owed = this.#coalescer.note(r.conversationId, r.seq) || owed;
    if (owed) this.#schedule();
  }

  /** After a ready: what was noted while offline goes out. */
  resume(): void {
    if (this.#coalescer.pending()) this.#schedule();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // Receipts noted while offline stay owed and go out after the next ready.
      if (!this.#deps.ready()) return;
      for (const receipt of this.#coalescer.drain()) {
        this.#deps.send(receipt).catch(() => this.#coalescer.failed(receipt));
      }
    }, this.#deps.delayMs());
  }
}

// Per-conversation "highest seq handed to the app", so that across reconnects the app sees every message once, in seq order.
import type { Message, ServerEvent } from '@messenger/protocol';

export interface CatchUpTarget {
  conversationId: string;
  /** What the app has; fetch messages after it. */
  afterSeq: number;
  /** The conversation's lastSeq when listed: a page at or past it means caught up. */
  lastSeq: number;
}

export interface CatchUpPlan {
  /** Conversations with missed messages, to be paged with `afterSeq`. */
  targets: CatchUpTarget[];
  /** Buffered live events of conversations that turned out to have missed nothing: emit now. */
  ready: ServerEvent[];
}

/**
 * Pure and synchronous: the client feeds it live events and fetched pages and emits what it returns.
 * A conversation is "known" once the app was handed a seq for it (or seeded it); only known ones are
 * caught up, because for the rest the app has no history to continue.
 */
export class SeqTracker {
  readonly #handed = new Map<string, number>();
  /** Conversations the app was told about in any way: a seq, an event, or a catch-up listing. */
  readonly #seen = new Set<string>();
  /** Conversations being caught up, with their live events held back until the gap is filled. */
  readonly #buffers = new Map<string, ServerEvent[]>();
  /**
   * Conversations first met in a listing, positioned at its lastSeq without any message handed
   * out. A message at or below that position may still arrive live: it was in flight (the store
   * can be ahead of fan-out) and the app has not had it, so it is handed out once.
   */
  readonly #listed = new Map<string, { upTo: number; emitted: Set<number> }>();

  handed(conversationId: string): number | undefined {
    return this.#handed.get(conversationId);
  }

  /** Whether the app has heard of this conversation (a tracked seq, any of its events, or a listing). */
  isKnown(conversationId: string): boolean {
    return this.#seen.has(conversationId) || this.#handed.has(conversationId);
  }

  /** Never lowers: a seed older than what was already emitted must not cause duplicates. */
  track(conversationId: string, seq: number): void {
    this.#seen.add(conversationId);
    const old = this.#handed.get(conversationId);
    if (old === undefined || seq > old) this.#handed.set(conversationId, seq);
  }

  /** The app loaded this conversation's history itself, up to `seq`. */
  seed(conversationId: string, seq: number): void {
    this.#listed.delete(conversationId);
    this.track(conversationId, seq);
  }

  isCatchingUp(conversationId: string): boolean {
    return this.#buffers.has(conversationId);
  }

  /** A live event from the socket; returns what to hand to the app now (possibly nothing). */
  accept(event: ServerEvent): ServerEvent[] {
    const conversationId = conversationOf(event);
    if (conversationId === undefined) return [event];
    this.#seen.add(conversationId);
    const buffer = this.#buffers.get(conversationId);
    if (buffer) {
      buffer.push(event);
      return [];
    }
    if (event.type === 'message.created') {
      const seq = event.message.seq;
      const listed = this.#listed.get(conversationId);
      if (listed && seq <= listed.upTo) {
        if (listed.emitted.has(seq)) return [];
        listed.emitted.add(seq);
        return [event];
      }
      const handed = this.#handed.get(conversationId);
      if (handed !== undefined && seq <= handed) return [];
      this.#handed.set(conversationId, seq);
      this.#listed.delete(conversationId);
    } else if (event.type === 'conversation.updated' && event.conversation.lastSeq === 0) {
      // A brand-new conversation: knowing it from seq 0 lets the next catch-up deliver messages
      // sent to it while we were away. A non-zero lastSeq cannot be trusted the same way, since
      // the event may overtake the message.created events it counts.
      this.track(conversationId, 0);
    }
    return [event];
  }

  /**
   * Called when a new socket is ready, before any of its events: from now on live events of
   * known conversations are held back until catch-up decides what the app missed. Buffers from
   * an interrupted catch-up are kept; the fresh one will dedupe them.
   */
  beginCatchUp(): void {
    for (const conversationId of this.#handed.keys()) {
      if (!this.#buffers.has(conversationId)) this.#buffers.set(conversationId, []);
    }
  }

  /** Given the server's conversation list, decides which conversations need paging. */
  plan(conversations: ReadonlyArray<{ id: string; lastSeq: number }>): CatchUpPlan {
    const targets: CatchUpTarget[] = [];
    const ready: ServerEvent[] = [];
    const listed = new Set<string>();
    for (const { id, lastSeq } of conversations) {
      listed.add(id);
      const handed = this.#handed.get(id);
      if (handed === undefined) {
        // Unseen: the app has no history to continue, so only remember where "now" is (and let
        // messages that were still in flight at that point through, once).
        this.track(id, lastSeq);
        if (lastSeq > 0) this.#listed.set(id, { upTo: lastSeq, emitted: new Set() });
      } else if (lastSeq > handed && this.#buffers.has(id)) {
        targets.push({ conversationId: id, afterSeq: handed, lastSeq });
      } else {
        ready.push(...this.finish(id));
      }
    }
    // Known but not listed (the caller left, or was removed): nothing to fetch, release its events.
    for (const id of [...this.#buffers.keys()]) if (!listed.has(id)) ready.push(...this.finish(id));
    return { targets, ready };
  }

  /** A fetched page of a conversation being caught up; returns the messages the app has not had. */
  caughtUp(conversationId: string, messages: readonly Message[]): ServerEvent[] {
    const out: ServerEvent[] = [];
    const sorted = [...messages].sort((a, b) => a.seq - b.seq);
    for (const message of sorted) {
      const handed = this.#handed.get(conversationId) ?? 0;
      if (message.seq <= handed) continue;
      this.#handed.set(conversationId, message.seq);
      out.push({ type: 'message.created', conversationId, message });
    }
    return out;
  }

  /** Ends a conversation's catch-up; its held-back live events come out, minus what the pages already gave. */
  finish(conversationId: string): ServerEvent[] {
    const buffer = this.#buffers.get(conversationId);
    if (!buffer) return [];
    this.#buffers.delete(conversationId);
    return buffer.flatMap((event) => this.accept(event));
  }
}

/** The conversation an event belongs to; presence and a user's profile belong to none. */
export function conversationOf(event: ServerEvent): string | undefined {
  switch (event.type) {
    case 'presence':
    case 'user.updated':
      return undefined;
    case 'conversation.updated':
      return event.conversation.id;
    default:
      return event.conversationId;
  }
}

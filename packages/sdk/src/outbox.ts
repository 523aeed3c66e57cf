// The outbox's state: which messages are unsent, which failed, and which one each conversation sends next.
import type { ErrorCode } from '@messenger/protocol';
import type { OutboxItem, OutboxStore } from './outbox-store.js';

export interface OutboxDeps {
  store: OutboxStore;
  /** Called after every change with a copy of the items, after they were saved. */
  onChange?: (items: OutboxItem[]) => void;
}

/**
 * Pure apart from the store: no timers, no sockets. Every change is saved before it is announced,
 * so what the app shows as pending is what survives a reload.
 */
export class Outbox {
  readonly #store: OutboxStore;
  readonly #onChange: (items: OutboxItem[]) => void;
  #items: OutboxItem[];
  /** In memory only: after a reload, waiting out an old rate limit is not worth persisting. */
  readonly #notBefore = new Map<string, number>();
  readonly #attempts = new Map<string, number>();

  constructor(deps: OutboxDeps) {
    this.#store = deps.store;
    this.#onChange = deps.onChange ?? (() => {});
    this.#items = deps.store.load();
  }

  items(): OutboxItem[] {
    return this.#items.map((item) => ({ ...item }));
  }

  get(clientMsgId: string): OutboxItem | undefined {
    const item = this.#items.find((i) => i.clientMsgId === clientMsgId);
    return item && { ...item };
  }

  /** Returns false when the clientMsgId is already queued: the caller joins the existing send. */
  add(item: OutboxItem): boolean {
    if (this.#items.some((i) => i.clientMsgId === item.clientMsgId)) return false;
    this.#items = [...this.#items, { ...item }];
    this.#changed();
    return true;
  }

  /** Acked or discarded. */
  remove(clientMsgId: string): boolean {
    const before = this.#items.length;
    this.#items = this.#items.filter((i) => i.clientMsgId !== clientMsgId);
    this.#forget(clientMsgId);
    if (this.#items.length === before) return false;
    this.#changed();
    return true;
  }

  fail(clientMsgId: string, error: { code: ErrorCode; message: string }): boolean {
    this.#forget(clientMsgId);
    return this.#update(clientMsgId, (item) => ({
      ...item,
      state: 'failed',
      error: { code: error.code, message: error.message },
    }));
  }

  /** The item's files as they stand (an upload finished, or moved on). */
  setAttachments(clientMsgId: string, attachments: OutboxItem['attachments']): boolean {
    return this.#update(clientMsgId, (item) => ({ ...item, ...(attachments ? { attachments } : {}) }));
  }

  /** Back to pending and due at once, whether it had failed or was waiting out a delay. */
  retry(clientMsgId: string): boolean {
    this.#forget(clientMsgId);
    const item = this.#items.find((i) => i.clientMsgId === clientMsgId);
    if (!item) return false;
    if (item.state === 'pending') return true;
    return this.#update(clientMsgId, ({ error: _error, ...rest }) => ({ ...rest, state: 'pending' }));
  }

  /** Keeps the item (and everything after it in its conversation) back until `atMs`. Returns the failures so far. */
  defer(clientMsgId: string, atMs: number): number {
    const attempts = (this.#attempts.get(clientMsgId) ?? 0) + 1;
    this.#attempts.set(clientMsgId, attempts);
    this.#notBefore.set(clientMsgId, atMs);
    return attempts;
  }

  /** Retryable failures of this item since it was queued or last retried by hand. */
  attempts(clientMsgId: string): number {
    return this.#attempts.get(clientMsgId) ?? 0;
  }

  /**
   * What to send now: per conversation its oldest pending item, unless that one is already on the
   * wire or waiting out a delay. One at a time per conversation keeps the user's own messages in
   * the order they were written, since the server numbers them in the order they arrive.
   */
  due(inFlight: ReadonlySet<string>, nowMs: number): OutboxItem[] {
    const heads = new Map<string, OutboxItem>();
    for (const item of this.#items) {
      if (item.state !== 'pending' || heads.has(item.conversationId)) continue;
      heads.set(item.conversationId, item);
    }
    return [...heads.values()]
      .filter((item) => !inFlight.has(item.clientMsgId) && (this.#notBefore.get(item.clientMsgId) ?? 0) <= nowMs)
      .map((item) => ({ ...item }));
  }

  /** The earliest moment a deferred item becomes due, to set one timer for. */
  nextWakeAt(): number | undefined {
    let earliest: number | undefined;
    for (const [id, at] of this.#notBefore) {
      if (!this.#items.some((i) => i.clientMsgId === id && i.state === 'pending')) continue;
      if (earliest === undefined || at < earliest) earliest = at;
    }
    return earliest;
  }

  #update(clientMsgId: string, change: (item: OutboxItem) => OutboxItem): boolean {
    let found = false;
    this.#items = this.#items.map((item) => {
      if (item.clientMsgId !== clientMsgId) return item;
      found = true;
      return change(item);
    });
    if (found) this.#changed();
    return found;
  }

  #forget(clientMsgId: string): void {
    this.#notBefore.delete(clientMsgId);
    this.#attempts.delete(clientMsgId);
  }

  #changed(): void {
    this.#store.save(this.items());
    this.#onChange(this.items());
  }
}

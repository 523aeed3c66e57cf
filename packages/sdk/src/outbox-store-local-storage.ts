// An OutboxStore on the browser's localStorage: unsent messages survive a reload and are re-sent on the next connect.
import { isOutboxItem, type OutboxItem, type OutboxStore } from './outbox-store.js';

/** The part of the Web Storage API used here, so tests and non-browser hosts can pass their own. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Use one key per user: two tabs of the same user may share it, since a re-send with the same
 * clientMsgId is stored once by the server, but two users must not.
 */
export class LocalStorageOutboxStore implements OutboxStore {
  readonly #key: string;
  readonly #storage: KeyValueStorage;

  constructor(key = 'messenger.outbox', storage?: KeyValueStorage) {
    const fallback = (globalThis as { localStorage?: KeyValueStorage }).localStorage;
    if (!storage && !fallback) throw new Error('LocalStorageOutboxStore: no localStorage here; pass a storage');
    this.#key = key;
    this.#storage = storage ?? (fallback as KeyValueStorage);
  }

  load(): OutboxItem[] {
    const raw = this.#storage.getItem(this.#key);
    if (raw === null) return [];
    try {
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed.filter(isOutboxItem) : [];
    } catch {
      return [];
    }
  }

  save(items: OutboxItem[]): void {
    try {
      if (items.length === 0) this.#storage.removeItem(this.#key);
      else this.#storage.setItem(this.#key, JSON.stringify(items));
    } catch {
      // Quota exceeded or storage disabled (private mode): the items still go out from memory;
      // only their survival across a reload is lost, which is all this store adds.
    }
  }
}

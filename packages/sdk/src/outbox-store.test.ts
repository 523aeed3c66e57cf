// One behaviour suite, run against every OutboxStore.
import { describe, expect, it } from 'vitest';
import { LocalStorageOutboxStore, type KeyValueStorage } from './outbox-store-local-storage.js';
import { MemoryOutboxStore, type OutboxItem, type OutboxStore } from './outbox-store.js';

/** A real, tiny Web Storage: what localStorage is, minus the browser. */
class MapStorage implements KeyValueStorage {
  readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

const item = (n: number, state: OutboxItem['state'] = 'pending'): OutboxItem => ({
  clientMsgId: `id-${n}`,
  conversationId: 'c1',
  body: `body ${n}`,
  replyToId: n === 2 ? 'm1' : null,
  state,
  ...(state === 'failed' ? { error: { code: 'forbidden' as const, message: 'no' } } : {}),
  createdAt: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
});

const implementations: Array<[string, () => { make(): OutboxStore }]> = [
  [
    'MemoryOutboxStore',
    () => {
      const store = new MemoryOutboxStore();
      return { make: () => store };
    },
  ],
  [
    'LocalStorageOutboxStore',
    () => {
      const storage = new MapStorage();
      return { make: () => new LocalStorageOutboxStore('outbox.u1', storage) };
    },
  ],
];

describe.each(implementations)('%s', (_name, setup) => {
  it('starts empty', () => {
    expect(setup().make().load()).toEqual([]);
  });

  it('gives back what was saved, in order, with every field', () => {
    const { make } = setup();
    const items = [item(1), item(2), item(3, 'failed')];
    make().save(items);
    expect(make().load()).toEqual(items);
  });

  it('is not changed by mutating what was saved or loaded', () => {
    const { make } = setup();
    const items = [item(1)];
    const store = make();
    store.save(items);
    items[0]!.body = 'changed';
    store.load()[0]!.body = 'changed too';
    expect(store.load()[0]!.body).toBe('body 1');
  });

  it('saving an empty list empties it', () => {
    const { make } = setup();
    make().save([item(1)]);
    make().save([]);
    expect(make().load()).toEqual([]);
  });
});

describe('LocalStorageOutboxStore', () => {
  it('survives a "reload": a new store object on the same storage and key sees the items', () => {
    const storage = new MapStorage();
    new LocalStorageOutboxStore('k', storage).save([item(1)]);
    expect(new LocalStorageOutboxStore('k', storage).load()).toEqual([item(1)]);
    expect(new LocalStorageOutboxStore('other', storage).load()).toEqual([]);
  });

  it('ignores corrupt or foreign values instead of breaking the client', () => {
    const storage = new MapStorage();
    storage.setItem('k', '{not json');
    expect(new LocalStorageOutboxStore('k', storage).load()).toEqual([]);
    storage.setItem('k', JSON.stringify([item(1), { clientMsgId: 5 }, null]));
    expect(new LocalStorageOutboxStore('k', storage).load()).toEqual([item(1)]);
  });

  it('keeps working when the storage refuses writes (quota, private mode)', () => {
    const full: KeyValueStorage = {
      getItem: () => null,
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {},
    };
    expect(() => new LocalStorageOutboxStore('k', full).save([item(1)])).not.toThrow();
  });
});

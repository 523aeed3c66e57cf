// The UploadStore contract, run from store.contract.ts against SQLite and PostgreSQL.
import { describe, expect, it } from 'vitest';
import type { Drop, Ensure, UploadRecord } from './upload-store.js';
import { type StoreHarness, storeWorlds } from '../store-harness.contract.js';

let n = 0;
function upload(ownerId: string, createdAt: string, patch: Partial<UploadRecord> = {}): UploadRecord {
  n += 1;
  const id = `up_${n}_${Math.random().toString(36).slice(2, 8)}`;
  return {
    id,
    ownerId,
    name: `photo ${n}.jpg`,
    contentType: 'image/jpeg',
    size: 1234,
    sha256: 'ab'.repeat(32),
    width: 640,
    height: 480,
    durationMs: null,
    blobKey: `u/${id}`,
    thumbnailKey: `t/${id}`,
    createdAt,
    attachedAt: null,
    conversationId: null,
    messageId: null,
    ...patch,
  };
}

export function uploadStoreContract(name: string, harness: StoreHarness): void {
  describe(`UploadStore contract: ${name}`, () => {
    const world = storeWorlds(harness);

    it('creates and reads back every field', async () => {
      const { store, alice } = await world();
      const a = upload(alice.id, '2026-01-02T03:04:05.678Z', { width: null, height: null, durationMs: 4_321 });
      await store.uploads.create(a, noEnsure);
      expect(await store.uploads.get(a.id)).toEqual(a);
      expect(await store.uploads.get('up_missing')).toBeNull();
    });

    it('lets only the uploader claim an upload, and only once', async () => {
      const { store, alice, bob, conv } = await world();
      const a = upload(alice.id, new Date().toISOString());
      await store.uploads.create(a, noEnsure);
      const at = new Date().toISOString();
      const to = { conversationId: conv, messageId: 'm_1' };
      expect(await store.uploads.claim(a.id, bob.id, to, at)).toBe(false);
      const tries = await Promise.all([1, 2, 3].map(() => store.uploads.claim(a.id, alice.id, to, at)));
      expect(tries.filter(Boolean)).toHaveLength(1);
      expect(await store.uploads.claim(a.id, alice.id, { conversationId: conv, messageId: 'm_2' }, at)).toBe(false);
      expect(await store.uploads.get(a.id)).toMatchObject({ attachedAt: at, conversationId: conv, messageId: 'm_1' });
      expect((await store.uploads.ofMessage('m_1')).map((u) => u.id)).toEqual([a.id]);
      expect(await store.uploads.claim('up_missing', alice.id, to, at)).toBe(false);
    });

    it('lists never-attached uploads older than a time, oldest first', async () => {
      const { store, alice, conv } = await world();
      const old1 = upload(alice.id, '2020-01-01T00:00:00.000Z');
      const old2 = upload(alice.id, '2020-01-01T00:00:01.000Z');
      const attached = upload(alice.id, '2020-01-01T00:00:00.500Z');
      const fresh = upload(alice.id, '2999-01-01T00:00:00.000Z');
      for (const u of [old2, fresh, attached, old1]) await store.uploads.create(u, noEnsure);
      await store.uploads.claim(
        attached.id,
        alice.id,
        { conversationId: conv, messageId: 'm_x' },
        '2020-01-01T00:01:00.000Z',
      );
      const due = (await store.uploads.unattachedBefore('2021-01-01T00:00:00.000Z', 100)).filter(
        (u) => u.ownerId === alice.id,
      );
      expect(due.map((u) => u.id)).toEqual([old1.id, old2.id]);
      expect(await store.uploads.unattachedBefore('2021-01-01T00:00:00.000Z', 1)).toHaveLength(1);
    });

    it('lists a user’s uploads and removes idempotently', async () => {
      const { store, alice, bob } = await world();
      const [a1, a2, b1] = [upload(alice.id, now()), upload(alice.id, now()), upload(bob.id, now())];
      for (const u of [a1, a2, b1]) await store.uploads.create(u, noEnsure);
      expect((await store.uploads.ofOwner(alice.id)).map((u) => u.id).sort()).toEqual([a1.id, a2.id].sort());
      expect(await store.uploads.remove(a1.id, noDrop)).toBe(true);
      expect(await store.uploads.remove(a1.id, noDrop)).toBe(false);
      expect(await store.uploads.get(a1.id)).toBeNull();
      expect((await store.uploads.ofOwner(alice.id)).map((u) => u.id)).toEqual([a2.id]);
    });

    it('counts the uploads that share a key, and drops objects only when the last one goes', async () => {
      const { store, alice, bob } = await world();
      const [blobKey, thumbnailKey] = [key(), key()];
      const a = upload(alice.id, now(), { blobKey, thumbnailKey });
      const b = upload(bob.id, now(), { blobKey, thumbnailKey });
      const ensured: string[][] = [];
      for (const u of [a, b]) await store.uploads.create(u, async (keys) => void ensured.push(keys));
      expect(ensured).toEqual([
        [blobKey, thumbnailKey],
        [blobKey, thumbnailKey],
      ]);
      expect(await store.uploads.references(blobKey)).toBe(2);
      const dropped: string[][] = [];
      const drop: Drop = async (keys) => void dropped.push(keys);
      expect(await store.uploads.remove(a.id, drop)).toBe(true);
      expect(await store.uploads.references(thumbnailKey)).toBe(1);
      expect(await store.uploads.remove(b.id, drop)).toBe(true);
      expect(await store.uploads.remove(b.id, drop)).toBe(false);
      expect(dropped).toEqual([[], [blobKey, thumbnailKey]]);
      expect(await store.uploads.references(blobKey)).toBe(0);
    });

    it('counts a key used as one upload’s file and another’s thumbnail', async () => {
      const { store, alice } = await world();
      const shared = key();
      const a = upload(alice.id, now(), { blobKey: shared, thumbnailKey: shared });
      const b = upload(alice.id, now(), { blobKey: key(), thumbnailKey: shared });
      for (const u of [a, b]) await store.uploads.create(u, noEnsure);
      const dropped: string[][] = [];
      await store.uploads.remove(a.id, async (keys) => void dropped.push(keys));
      await store.uploads.release([shared, 'u/never-recorded'], async (keys) => void dropped.push(keys));
      expect(dropped).toEqual([[], ['u/never-recorded']]);
      await store.uploads.remove(b.id, async (keys) => void dropped.push(keys));
      expect(dropped[2]).toEqual([b.blobKey, shared]);
    });

    it('keeps the row when dropping fails, and records nothing when ensuring fails', async () => {
      const { store, alice } = await world();
      const a = upload(alice.id, now(), { blobKey: key(), thumbnailKey: null });
      await store.uploads.create(a, noEnsure);
      const broken = () => Promise.reject(new Error('storage down'));
      await expect(store.uploads.remove(a.id, broken)).rejects.toThrow('storage down');
      expect(await store.uploads.get(a.id)).toEqual(a);
      const b = upload(alice.id, now(), { blobKey: a.blobKey });
      await expect(store.uploads.create(b, broken)).rejects.toThrow('storage down');
      expect(await store.uploads.get(b.id)).toBeNull();
      expect(await store.uploads.references(a.blobKey)).toBe(1);
    });

    // The two orders of "B of the same bytes is recorded while A's object is deleted": B's row must
    // never be left pointing at a deleted object. `objects` stands for the blob store.
    const sharing = async () => {
      const { store, alice, bob } = await world();
      const shared = key();
      const objects = new Set([shared]);
      const a = upload(alice.id, now(), { blobKey: shared, thumbnailKey: null });
      await store.uploads.create(a, noEnsure);
      const b = upload(bob.id, now(), { blobKey: shared, thumbnailKey: null });
      /** Once both are done: B's object is there, and only B refers to it. */
      const settled = async (...both: Promise<unknown>[]) => {
        await Promise.all(both);
        expect(objects.has(shared)).toBe(true);
        expect(await store.uploads.references(shared)).toBe(1);
      };
      return { store, objects, a, b, settled };
    };

    it('an upload recorded while the last one sharing its key is removed gets its object back', async () => {
      const { store, objects, a, b, settled } = await sharing();
      const dropping = gate();
      const removing = store.uploads.remove(a.id, async (keys) => {
        dropping.reached();
        await dropping.opened;
        for (const k of keys) objects.delete(k);
      });
      await dropping.reaching;
      const creating = store.uploads.create(b, rewrite(objects));
      await sleep(150);
      dropping.open();
      await settled(removing, creating);
    });

    it('a removal that starts while an upload of the same bytes is recorded keeps the object', async () => {
      const { store, objects, a, b, settled } = await sharing();
      const ensuring = gate();
      const creating = store.uploads.create(b, async (keys) => {
        // As Media does: look, then (after the pause) write what was missing when it looked.
        const missing = keys.filter((k) => !objects.has(k));
        ensuring.reached();
        await ensuring.opened;
        await rewrite(objects)(missing);
      });
      await ensuring.reaching;
      const removing = store.uploads.remove(a.id, async (keys) => {
        for (const k of keys) objects.delete(k);
      });
      await sleep(150);
      ensuring.open();
      await settled(removing, creating);
    });
  });
}

const now = () => new Date().toISOString();
const key = () => `sha256/ab/${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
const noEnsure: Ensure = async () => undefined;
const noDrop: Drop = async () => undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rewrite =
  (objects: Set<string>): Ensure =>
  async (keys) => {
    for (const k of keys) objects.add(k);
  };

/** A point a callback waits at until the test opens it, and a promise of its reaching there. */
function gate() {
  let reached!: () => void;
  let open!: () => void;
  const reaching = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { reached, reaching, open, opened };
}

// The UploadStore contract, run from store.contract.ts against SQLite and PostgreSQL.
import { describe, expect, it } from 'vitest';
import type { UploadRecord } from './upload-store.js';
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
      await store.uploads.create(a);
      expect(await store.uploads.get(a.id)).toEqual(a);
      expect(await store.uploads.get('up_missing')).toBeNull();
    });

    it('lets only the uploader claim an upload, and only once', async () => {
      const { store, alice, bob, conv } = await world();
      const a = upload(alice.id, new Date().toISOString());
      await store.uploads.create(a);
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
      for (const u of [old2, fresh, attached, old1]) await store.uploads.create(u);
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
      for (const u of [a1, a2, b1]) await store.uploads.create(u);
      expect((await store.uploads.ofOwner(alice.id)).map((u) => u.id).sort()).toEqual([a1.id, a2.id].sort());
      expect(await store.uploads.remove(a1.id)).toBe(true);
      expect(await store.uploads.remove(a1.id)).toBe(false);
      expect(await store.uploads.get(a1.id)).toBeNull();
      expect((await store.uploads.ofOwner(alice.id)).map((u) => u.id)).toEqual([a2.id]);
    });
  });
}

const now = () => new Date().toISOString();

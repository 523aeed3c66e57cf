// The BlobStore contract, run against every implementation (disk, S3).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { expect, it } from 'vitest';
import { describeFresh } from '../close-after-each.contract.js';
import type { BlobStore } from './blob-store.js';

export interface BlobStoreHarness {
  /** A fresh, empty store. */
  open(): Promise<BlobStore>;
}

async function bytes(stream: Readable | null): Promise<Buffer> {
  if (!stream) throw new Error('no object');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A stream of `total` random bytes in 64 KiB chunks, that fails after `failAfter` bytes when given. */
function source(data: Buffer, failAfter?: number): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && at >= failAfter) {
        this.destroy(new Error('client went away'));
        return;
      }
      const next = data.subarray(at, at + 65_536);
      at += next.length;
      this.push(next.length > 0 ? next : null);
    },
  });
}

export function blobStoreContract(name: string, harness: BlobStoreHarness): void {
  describeFresh(`BlobStore contract: ${name}`, harness, (open) => {
    it('puts a stream and reads back the same bytes, whole and by range', async () => {
      const store = await open();
      const data = randomBytes(300_000);
      expect(await store.put('u/a1', source(data))).toEqual({ size: data.length });
      expect(await store.stat('u/a1')).toEqual({ size: data.length });
      const back = await bytes(await store.get('u/a1'));
      expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
      expect(await bytes(await store.get('u/a1', { start: 10, end: 19 }))).toEqual(data.subarray(10, 20));
      const last = data.length - 1;
      expect(await bytes(await store.get('u/a1', { start: last, end: last }))).toEqual(data.subarray(last));
    });

    it('puts a local file, which stays for the caller', async () => {
      const store = await open();
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'putfile-')), 'upload');
      const data = randomBytes(100_000);
      fs.writeFileSync(file, data);
      expect(await store.putFile('u/from-file', file)).toEqual({ size: data.length });
      expect(fs.readFileSync(file)).toEqual(data);
      expect(await bytes(await store.get('u/from-file'))).toEqual(data);
      fs.rmSync(file);
      expect(await bytes(await store.get('u/from-file'))).toEqual(data);
    });

    it('answers null for a key it does not hold', async () => {
      const store = await open();
      expect(await store.get('u/missing')).toBeNull();
      expect(await store.stat('u/missing')).toBeNull();
    });

    it('stores an empty object', async () => {
      const store = await open();
      expect(await store.put('u/empty', Readable.from([]))).toEqual({ size: 0 });
      expect(await store.stat('u/empty')).toEqual({ size: 0 });
      expect((await bytes(await store.get('u/empty'))).length).toBe(0);
    });

    it('replaces an object put again under the same key', async () => {
      const store = await open();
      await store.put('u/b', Readable.from([Buffer.from('first version')]));
      await store.put('u/b', Readable.from([Buffer.from('second')]));
      expect(await text((await store.get('u/b'))!)).toBe('second');
    });

    it('leaves nothing behind when the stream fails midway', async () => {
      const store = await open();
      await expect(store.put('u/broken', source(randomBytes(400_000), 200_000))).rejects.toThrow();
      expect(await store.stat('u/broken')).toBeNull();
      expect(await store.get('u/broken')).toBeNull();
    });

    it('deletes idempotently', async () => {
      const store = await open();
      await store.put('u/c', Readable.from([Buffer.from('x')]));
      await store.delete('u/c');
      await store.delete('u/c');
      expect(await store.stat('u/c')).toBeNull();
    });

    it('refuses keys that could leave its namespace', async () => {
      const store = await open();
      await expect(store.put('../escape', Readable.from([Buffer.from('x')]))).rejects.toThrow(/invalid blob key/);
      await expect(store.get('u/../../etc/passwd')).rejects.toThrow(/invalid blob key/);
    });

    it('answers ping', async () => {
      const store = await open();
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

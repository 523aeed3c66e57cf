// S3BlobStore against s3rver, a real S3-protocol server written in Node and started here: this
// machine has no Ceph or MinIO binaries. S3_TEST_ENDPOINT (set by the test services' global setup,
// or by hand for a real store) is used when present; otherwise the file starts its own s3rver.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { S3RVER_CREDENTIALS, startS3rver } from '../../../test/services/s3.js';
import { blobStoreContract } from '../../core/media/blob-store.contract.js';
import { S3BlobStore } from './blob-store.js';

let endpoint = process.env.S3_TEST_ENDPOINT ?? '';
let stop: (() => Promise<void>) | null = null;
beforeAll(async () => {
  if (endpoint) return;
  const started = await startS3rver(fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-')));
  endpoint = started.url;
  stop = started.stop;
});
afterAll(async () => {
  await stop?.();
});

async function bytes(stream: Readable | null): Promise<Buffer> {
  if (!stream) throw new Error('no object');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const open = () =>
  S3BlobStore.open({
    endpoint,
    bucket: `blobs-${randomBytes(6).toString('hex')}`,
    region: 'us-east-1',
    ...S3RVER_CREDENTIALS,
  });

blobStoreContract('S3BlobStore', { open });

/** Runs `test` on a store with a bucket of its own and its S3 client, to spy on; then undoes the spies and closes it. */
async function withStore(test: (store: S3BlobStore, client: S3Client) => Promise<void>): Promise<void> {
  const store = await open();
  try {
    await test(store, (store as unknown as { client: S3Client }).client);
  } finally {
    vi.restoreAllMocks();
    await store.close();
  }
}

const tempFile = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'putfile-')), name);

describe('S3BlobStore on S3', () => {
  it('puts a file of several parts from its byte ranges, and an empty one', () =>
    withStore(async (store, client) => {
      const [big, empty] = [tempFile('big'), tempFile('empty')];
      const data = randomBytes(2 * 8 * 1024 * 1024 + 12_345);
      fs.writeFileSync(big, data);
      const send = vi.spyOn(client, 'send');
      expect(await store.putFile('u/big-file', big)).toEqual({ size: data.length });
      const parts = send.mock.calls.filter(([c]) => c instanceof UploadPartCommand).map(([c]) => c.input);
      expect(parts.map((p) => (p as { ContentLength: number }).ContentLength).sort((a, b) => a - b)).toEqual([
        12_345,
        8 * 1024 * 1024,
        8 * 1024 * 1024,
      ]);
      const back = await bytes(await store.get('u/big-file'));
      expect(back.equals(data)).toBe(true);
      fs.writeFileSync(empty, '');
      expect(await store.putFile('u/empty-file', empty)).toEqual({ size: 0 });
      expect(await store.stat('u/empty-file')).toEqual({ size: 0 });
    }));

  it('aborts a multipart put of a file when a part fails, leaving no object', () =>
    withStore(async (store, client) => {
      const file = tempFile('big');
      fs.writeFileSync(file, randomBytes(3 * 8 * 1024 * 1024));
      const send = client.send.bind(client);
      const sent: string[] = [];
      vi.spyOn(client, 'send').mockImplementation((async (command: { constructor: { name: string }; input: any }) => {
        sent.push(command.constructor.name);
        if (command instanceof UploadPartCommand && command.input.PartNumber === 2)
          throw Object.assign(new Error('refused'), { $metadata: { httpStatusCode: 400 } });
        return send(command as never);
      }) as never);
      await expect(store.putFile('u/broken-file', file)).rejects.toThrow('refused');
      expect(sent).toContain('AbortMultipartUploadCommand');
      expect(sent).not.toContain('CompleteMultipartUploadCommand');
      vi.restoreAllMocks();
      expect(await store.stat('u/broken-file')).toBeNull();
    }));

  it('puts an object larger than one multipart part', () =>
    withStore(async (store) => {
      const data = randomBytes(9 * 1024 * 1024);
      const chunks = Array.from({ length: 9 }, (_, i) => data.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
      expect(await store.put('u/big', Readable.from(chunks))).toEqual({ size: data.length });
      expect(await store.stat('u/big')).toEqual({ size: data.length });
    }));
});

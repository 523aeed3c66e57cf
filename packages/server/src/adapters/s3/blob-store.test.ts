// S3BlobStore against s3rver, a real S3-protocol server written in Node and started here: this
// machine has no Ceph or MinIO binaries. S3_TEST_ENDPOINT (set by the test services' global setup,
// or by hand for a real store) is used when present; otherwise the file starts its own s3rver.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const open = () =>
  S3BlobStore.open({
    endpoint,
    bucket: `blobs-${randomBytes(6).toString('hex')}`,
    region: 'us-east-1',
    ...S3RVER_CREDENTIALS,
  });

blobStoreContract('S3BlobStore', { open });

describe('S3BlobStore on S3', () => {
  it('puts an object larger than one multipart part', async () => {
    const store = await open();
    try {
      const data = randomBytes(9 * 1024 * 1024);
      const chunks = Array.from({ length: 9 }, (_, i) => data.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
      expect(await store.put('u/big', Readable.from(chunks))).toEqual({ size: data.length });
      expect(await store.stat('u/big')).toEqual({ size: data.length });
    } finally {
      await store.close();
    }
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { blobStoreContract } from '../../core/media/blob-store.contract.js';
import { DiskBlobStore } from './blob-store.js';

const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'blobs-'));

blobStoreContract('DiskBlobStore', { open: async () => new DiskBlobStore({ dir: dir() }) });

describe('DiskBlobStore on disk', () => {
  it('keeps no temporary file after a put, and clears those a crash left', async () => {
    const root = dir();
    const store = new DiskBlobStore({ dir: root });
    await store.put('u/x', Readable.from([Buffer.from('hello')]));
    expect(fs.readdirSync(path.join(root, '.tmp'))).toEqual([]);
    expect(fs.readFileSync(path.join(root, 'u/x'), 'utf8')).toBe('hello');
    fs.writeFileSync(path.join(root, '.tmp', 'left-by-a-crash.part'), 'half');
    new DiskBlobStore({ dir: root });
    expect(fs.readdirSync(path.join(root, '.tmp'))).toEqual([]);
  });
});

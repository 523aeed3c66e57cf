// The spool: one pass counts, hashes and writes a body; an oversize one stops early; a broken
// one leaves nothing; write-behind flushes do not change a byte.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spool } from './spool.js';

const dirs: string[] = [];
const newDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `data` as a stream of chunks of uneven sizes (as sockets deliver), counting those read. */
function chunked(data: Buffer, sizes = [65_536, 1, 4096, 100_000, 7]) {
  const seen = { chunks: 0 };
  let at = 0;
  const stream = new Readable({
    read() {
      if (at >= data.length) return void this.push(null);
      const next = data.subarray(at, at + sizes[seen.chunks++ % sizes.length]!);
      at += next.length;
      this.push(next);
    },
  });
  return { stream, seen };
}

describe('spool', () => {
  it('hashes, counts and writes a many-chunk body in the one pass, keeping its head', async () => {
    const dir = newDir();
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const { stream, seen } = chunked(data);
    const got = await spool(stream, dir, data.length);
    expect(seen.chunks).toBeGreaterThan(50);
    expect(got.size).toBe(data.length);
    expect(got.sha256).toBe(sha(data));
    expect(got.head).toEqual(data.subarray(0, 8192));
    expect(fs.readFileSync(got.file).equals(data)).toBe(true);
    expect(fs.statSync(got.file).mode & 0o777).toBe(0o600);
  });

  it('keeps a short head whole, and spools an empty body', async () => {
    const dir = newDir();
    const small = await spool(Readable.from([Buffer.from('a,b\n'), Buffer.from('1,2\n')]), dir, 100);
    expect(small.head.toString()).toBe('a,b\n1,2\n');
    const empty = await spool(Readable.from([]), dir, 100);
    expect([empty.size, empty.sha256, empty.head.length]).toEqual([0, sha(Buffer.alloc(0)), 0]);
  });

  it('flushes behind the writes without changing a byte', async () => {
    const dir = newDir();
    const data = randomBytes(2 * 1024 * 1024);
    const handle = await fs.promises.open(path.join(dir, 'probe'), 'w');
    const datasync = vi.spyOn(Object.getPrototypeOf(handle) as fs.promises.FileHandle, 'datasync');
    await handle.close();
    const got = await spool(chunked(data).stream, dir, data.length, { writeBehindBytes: 256 * 1024 });
    expect(datasync.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(got.sha256).toBe(sha(data));
    expect(fs.readFileSync(got.file).equals(data)).toBe(true);
  });

  it('refuses a body past the limit with 413 while it streams, reading little of it, keeping nothing', async () => {
    const dir = newDir();
    const max = 1024 * 1024;
    const data = randomBytes(max * 8);
    const { stream, seen } = chunked(data, [65_536]);
    await expect(spool(stream, dir, max, { writeBehindBytes: 256 * 1024 })).rejects.toMatchObject({
      code: 'message_too_big',
    });
    // The chunk past the limit, plus what the stream buffers ahead: far from the whole body.
    expect(seen.chunks * 65_536).toBeLessThan(max * 2);
    expect(fs.readdirSync(dir)).toEqual([]);
    // One byte over is over; exactly the limit is not.
    await expect(spool(Readable.from([data.subarray(0, max + 1)]), dir, max)).rejects.toMatchObject({
      code: 'message_too_big',
    });
    expect((await spool(Readable.from([data.subarray(0, max)]), dir, max)).size).toBe(max);
  });

  it('answers 400 for a body that breaks off, keeping nothing', async () => {
    const dir = newDir();
    let sent = 0;
    const broken = new Readable({
      read() {
        if (sent++ === 5) this.destroy(new Error('client went away'));
        else this.push(randomBytes(65_536));
      },
    });
    await expect(spool(broken, dir, 10 * 1024 * 1024)).rejects.toMatchObject({ code: 'invalid_request' });
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

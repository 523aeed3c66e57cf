// BlobStore on the local disk, under DATA_DIR/uploads: the embedded default. Every object is
// written to a temporary file, fsync'd, then renamed into place (and its directory fsync'd), so a
// crash leaves either the old state or the whole new file, never half of one. A file already on
// disk (an upload's spool file, on the same file system) is fsync'd and hard-linked, not copied.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { type BlobStore, type ByteRange, checkBlobKey } from '../../core/media/blob-store.js';

export class DiskBlobStore implements BlobStore {
  private readonly root: string;
  private readonly tmp: string;
  readonly keepsFiles = true;

  constructor(deps: { dir: string }) {
    this.root = path.resolve(deps.dir);
    this.tmp = path.join(this.root, '.tmp');
    fs.mkdirSync(this.tmp, { recursive: true });
    // Temporary files of a process that crashed mid-write belong to no object.
    for (const name of fs.readdirSync(this.tmp)) fs.rmSync(path.join(this.tmp, name), { force: true });
  }

  private file(key: string): string {
    checkBlobKey(key);
    return path.join(this.root, key);
  }

  async put(key: string, body: Readable): Promise<{ size: number }> {
    const target = this.file(key);
    const tmp = path.join(this.tmp, `${randomBytes(9).toString('hex')}.part`);
    let size = 0;
    try {
      body.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      await pipeline(body, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
      // fsync through a second descriptor: it flushes the file's pages whichever descriptor wrote them.
      await syncPath(tmp, 'r+');
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.rename(tmp, target);
      await syncPath(path.dirname(target), 'r');
      return { size };
    } catch (error) {
      await fs.promises.rm(tmp, { force: true });
      throw error;
    }
  }

  async putFile(key: string, file: string): Promise<{ size: number }> {
    const target = this.file(key);
    const tmp = path.join(this.tmp, `${randomBytes(9).toString('hex')}.link`);
    try {
      await syncPath(file, 'r+');
      const { size } = await fs.promises.stat(file);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      try {
        // A second name for the same inode, renamed over the target: the caller keeps its file.
        await fs.promises.link(file, tmp);
      } catch (error) {
        // Another file system: copy it through a temporary file as put does.
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
        return await this.put(key, fs.createReadStream(file));
      }
      await fs.promises.rename(tmp, target);
      await syncPath(path.dirname(target), 'r');
      return { size };
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable | null> {
    const file = this.file(key);
    try {
      // Opened before answering, so a missing file is a null here rather than an error mid-stream.
      const handle = await fs.promises.open(file, 'r');
      // Reads of 256 KiB: a quarter of the events of 64 KiB ones, and a download holds about two
      // of them (one read ahead, one in the socket's queue), so ten at once hold a few MiB, not 20+.
      return handle.createReadStream({
        highWaterMark: 256 * 1024,
        ...(range ? { start: range.start, end: range.end } : {}),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const stats = await fs.promises.stat(this.file(key));
      return { size: stats.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.promises.rm(this.file(key), { force: true });
  }

  async ping(): Promise<void> {
    await fs.promises.access(this.root, fs.constants.W_OK);
  }

  async close(): Promise<void> {}
}

async function syncPath(file: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await fs.promises.open(file, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

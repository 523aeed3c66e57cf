// Spools an upload's body to a private temporary file while counting and hashing it, in the one
// pass that writes it: no upload is ever held whole in memory, nothing reads the file back to learn
// its size or SHA-256, and an oversize one stops at the first write past the limit (what arrived
// during the write before it, BUFFER_BYTES at most, is all that is read beyond).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../domain/errors.js';
import { Slots } from '../../domain/slots.js';

export interface Spooled {
  file: string;
  size: number;
  sha256: string;
  /** The first bytes (up to HEAD_BYTES): enough to tell text from binary. */
  head: Buffer;
}

export interface SpoolOptions {
  /**
   * Write the file's data out to disk each time this many more bytes have arrived (0: leave it to
   * the kernel). For a file that is kept (a disk store links it into place and fsyncs it): spread
   * over the upload, the fsync that makes it durable finds little left to write, instead of queueing
   * the whole file in front of every other fsync on that disk (the database's commits).
   */
  writeBehindBytes?: number;
}

/**
 * What a kept upload uses for SpoolOptions.writeBehindBytes: what a commit may find ahead of it in
 * the disk's queue (tens of ms), against one fdatasync (a journal commit) per this many bytes.
 */
export const WRITE_BEHIND_BYTES = 4 * 1024 * 1024;

const HEAD_BYTES = 8192;

/**
 * Bytes held ahead of the disk per upload: several socket reads go out in one writev (fewer system
 * calls, and the socket is paused less often), and ten uploads still hold only a few MiB.
 */
const BUFFER_BYTES = 256 * 1024;

/**
 * Write-behind flushes of all uploads, one at a time: each is a few MiB in the disk's queue at
 * most, so a database commit waiting behind it waits that long, not for gigabytes.
 */
const flushes = new Slots(1);

/**
 * Writes `body` to a new file in `dir`; removes it and throws 413 message_too_big past `maxBytes`.
 * A body that breaks off is 400; a disk that fails is its own error (the server's, not the client's).
 */
export async function spool(
  body: Readable,
  dir: string,
  maxBytes: number,
  options: SpoolOptions = {},
): Promise<Spooled> {
  await fs.promises.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${randomBytes(9).toString('hex')}.upload`);
  const handle = await fs.promises.open(file, 'wx', 0o600);
  const writer = new SpoolWriter(handle, maxBytes, options.writeBehindBytes ?? 0);
  try {
    await pipeline(body, writer);
  } catch (error) {
    await fs.promises.rm(file, { force: true });
    if (error instanceof AppError) throw error;
    if (writer.diskError) throw writer.diskError;
    // The client went away or sent a broken body: nothing to keep, nothing for us to answer for.
    throw new AppError('invalid_request', 'the upload did not arrive whole');
  }
  return { file, size: writer.size, sha256: writer.hash.digest('hex'), head: writer.head() };
}

/** Counts, hashes and writes each chunk as it arrives; owns (and closes) the file handle. */
class SpoolWriter extends Writable {
  size = 0;
  readonly hash = createHash('sha256');
  diskError: Error | null = null;
  private readonly handle: fs.promises.FileHandle;
  private readonly maxBytes: number;
  private readonly writeBehindBytes: number;
  private readonly first = Buffer.alloc(HEAD_BYTES);
  private firstBytes = 0;
  private written = 0;
  private flushedTo = 0;
  private flushing: Promise<void> | null = null;

  constructor(handle: fs.promises.FileHandle, maxBytes: number, writeBehindBytes: number) {
    super({ highWaterMark: BUFFER_BYTES });
    this.handle = handle;
    this.maxBytes = maxBytes;
    this.writeBehindBytes = writeBehindBytes;
  }

  head(): Buffer {
    return this.first.subarray(0, this.firstBytes);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.take([chunk]).then(() => done(), done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (error?: Error | null) => void): void {
    this.take(chunks.map((c) => c.chunk)).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    Promise.resolve(this.flushing).then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // close() waits for a write or flush still under way on the handle.
    this.handle.close().then(
      () => done(error),
      (closeError: Error) => done(error ?? this.failed(closeError)),
    );
  }

  private async take(chunks: Buffer[]): Promise<void> {
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.length;
    this.size += bytes;
    if (this.size > this.maxBytes) throw new AppError('message_too_big', `the upload is over ${this.maxBytes} bytes`);
    for (const chunk of chunks) {
      this.hash.update(chunk);
      if (this.firstBytes < HEAD_BYTES) this.firstBytes += chunk.copy(this.first, this.firstBytes);
    }
    try {
      await writeAll(this.handle, chunks, this.written);
    } catch (error) {
      throw this.failed(error as Error);
    }
    this.written += bytes;
    if (this.writeBehindBytes > 0 && this.written - this.flushedTo >= this.writeBehindBytes) await this.flush();
  }

  /** Starts flushing what is written so far; waits for the previous flush first (one ahead at most). */
  private async flush(): Promise<void> {
    await this.flushing;
    this.flushedTo = this.written;
    const flushing = flushes.run(async () => {
      if (this.destroyed) return;
      try {
        await this.handle.datasync();
      } catch (error) {
        throw this.failed(error as Error);
      }
    });
    // Awaited at the next flush or at the end; a failure there fails the upload.
    flushing.catch(() => undefined);
    this.flushing = flushing;
  }

  private failed(error: Error): Error {
    this.diskError ??= error;
    return error;
  }
}

/** writev until every byte is written (a write may take fewer than asked, e.g. past IOV_MAX buffers). */
async function writeAll(handle: fs.promises.FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers.filter((buffer) => buffer.length > 0);
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, at);
    if (bytesWritten === 0) throw new Error('the spool file took no bytes');
    at += bytesWritten;
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const buffer of rest) {
      if (skip >= buffer.length) skip -= buffer.length;
      else {
        next.push(skip > 0 ? buffer.subarray(skip) : buffer);
        skip = 0;
      }
    }
    rest = next;
  }
}

/** Removes every file a crashed process left in `dir`. */
export function clearSpool(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { force: true, recursive: true });
}

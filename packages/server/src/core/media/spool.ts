// Spools an upload's body to a private temporary file while counting and hashing it, so that no
// upload is ever held whole in memory and an oversize one stops at the first byte past the limit.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../domain/errors.js';

export interface Spooled {
  file: string;
  size: number;
  sha256: string;
  /** The first bytes (up to HEAD_BYTES): enough to tell text from binary. */
  head: Buffer;
}

const HEAD_BYTES = 8192;

/** Writes `body` to a new file in `dir`; removes it and throws 413 message_too_big past `maxBytes`. */
export async function spool(body: Readable, dir: string, maxBytes: number): Promise<Spooled> {
  await fs.promises.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${randomBytes(9).toString('hex')}.upload`);
  const hash = createHash('sha256');
  const heads: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) {
        done(new AppError('message_too_big', `the upload is over ${maxBytes} bytes`));
        return;
      }
      hash.update(chunk);
      if (headBytes < HEAD_BYTES) {
        heads.push(chunk.subarray(0, HEAD_BYTES - headBytes));
        headBytes += Math.min(chunk.length, HEAD_BYTES - headBytes);
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, meter, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    await fs.promises.rm(file, { force: true });
    if (error instanceof AppError) throw error;
    // The client went away or sent a broken body: nothing to keep, nothing for us to answer for.
    throw new AppError('invalid_request', 'the upload did not arrive whole');
  }
  return { file, size, sha256: hash.digest('hex'), head: Buffer.concat(heads) };
}

/** Removes every file a crashed process left in `dir`. */
export function clearSpool(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { force: true, recursive: true });
}

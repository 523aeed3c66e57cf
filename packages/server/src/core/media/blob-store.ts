// BlobStore: the bytes of uploaded files, by key. Embedded mode keeps them on disk under DATA_DIR
// (adapters/disk), cluster mode in S3-compatible object storage (adapters/s3) so that every
// gateway reads what any other one wrote. The upload store holds what is known about each file.
import type { Readable } from 'node:stream';

/** Inclusive byte offsets, as in an HTTP Range header; `end` is at most size - 1. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  /**
   * Writes the whole stream under `key`, durably, and answers its size. All or nothing: a reader
   * sees either no object or every byte (a failed or aborted stream leaves nothing behind, not
   * even a part of it), so a committed upload never points at half a file. Putting a key again
   * replaces its object in the same way. Keys are [A-Za-z0-9._/-], chosen by the caller.
   */
  put(key: string, body: Readable): Promise<{ size: number }>;
  /**
   * As put, from a local file, which stays where it is for the caller to remove (a disk store links
   * it into place instead of copying its bytes): an upload may need to write it again.
   */
  putFile(key: string, file: string): Promise<{ size: number }>;
  /**
   * True when putFile keeps the file's own bytes on this machine's disk (a link, not a copy): they
   * are then worth writing out while the file is still being written (spool's write-behind).
   */
  readonly keepsFiles?: boolean;
  /** The object's bytes (only `range`'s when given); null when there is no such key. */
  get(key: string, range?: ByteRange): Promise<Readable | null>;
  /** The object's size, or null when there is no such key. */
  stat(key: string): Promise<{ size: number } | null>;
  /** Removes the object; idempotent (an absent key is not an error). */
  delete(key: string): Promise<void>;
  /** Answers when the storage can be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Throws on a key the port does not accept (and on any `..` segment, which no adapter may see). */
export function checkBlobKey(key: string): void {
  if (!KEY.test(key) || key.split('/').some((part) => part === '.' || part === '..') || key.length > 512)
    throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
}

/**
 * The key of bytes whose hex SHA-256 is `sha256`: every upload of the same bytes shares one object.
 * Rows keep their key, so files stored before (under `u/<id>` and `t/<id>`) keep theirs.
 */
export function contentKey(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a hex SHA-256: ${JSON.stringify(sha256)}`);
  return `sha256/${sha256.slice(0, 2)}/${sha256.slice(2)}`;
}

/** Deletes each of `keys` (what UploadStore.remove and release hand over once nothing refers to them). */
export function dropper(blobs: BlobStore): (keys: string[]) => Promise<void> {
  return async (keys) => {
    for (const key of keys) await blobs.delete(key);
  };
}

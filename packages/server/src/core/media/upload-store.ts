// UploadStore: what is known about each uploaded file (its bytes are in the BlobStore), and to
// which message it was attached. SQLite in embedded mode, PostgreSQL in cluster mode.
// Blob keys are content-addressed (contentKey), so uploads of the same bytes share an object: the
// store counts the rows that refer to a key and takes a lock per key (for the process in SQLite, in
// the database in PostgreSQL) around recording an upload and around dropping its objects.
import type { Upload } from '@messenger/protocol';

/** The file as an upload answer describes it, but with blob keys where the answer has signed URLs. */
export interface UploadRecord extends Omit<Upload, 'url' | 'thumbnailUrl'> {
  ownerId: string;
  blobKey: string;
  thumbnailKey: string | null;
  attachedAt: string | null;
  conversationId: string | null;
  messageId: string | null;
}

/** The message an upload is attached to. */
export interface AttachedTo {
  conversationId: string;
  messageId: string;
}

export interface UploadStore {
  /**
   * Records a new upload, durably. Its blobs were written before, without the lock; `ensure` runs
   * under the lock of its keys before the row goes in and writes again any blob a removal deleted
   * meanwhile. When `ensure` fails, nothing is recorded.
   */
  create(upload: UploadRecord, ensure: Ensure): Promise<void>;
  get(id: string): Promise<UploadRecord | null>;
  /**
   * Attaches the upload to a message, atomically and at most once: true only for the call that
   * attached it, when `ownerId` uploaded it and it was not attached before. Everyone else gets false.
   */
  claim(id: string, ownerId: string, to: AttachedTo, at: string): Promise<boolean>;
  /** Never-attached uploads created before `before`, oldest first: what the sweeper deletes. */
  unattachedBefore(before: string, limit: number): Promise<UploadRecord[]>;
  /** Every upload of a user (account deletion). */
  ofOwner(ownerId: string): Promise<UploadRecord[]>;
  /** The uploads attached to a message (deleting the message deletes them). */
  ofMessage(messageId: string): Promise<UploadRecord[]>;
  /**
   * Forgets the upload; true when this call removed it. Idempotent. Under the lock of its keys,
   * `drop` first gets those no other upload refers to; when it fails the row stays (a retry finds it).
   */
  remove(id: string, drop: Drop): Promise<boolean>;
  /** Hands `drop` those of `keys` that no upload refers to, under their lock (an upload that failed). */
  release(keys: readonly string[], drop: Drop): Promise<void>;
  /** How many uploads refer to the key, as their file or their thumbnail. */
  references(key: string): Promise<number>;
}

/** Writes again those of the keys whose objects are missing. */
export type Ensure = (keys: string[]) => Promise<void>;
/** Deletes the objects of keys nothing refers to any more. */
export type Drop = (keys: string[]) => Promise<void>;

/** An upload's blob keys: its file, and its thumbnail when it has one. */
export function keysOf(upload: Pick<UploadRecord, 'blobKey' | 'thumbnailKey'>): string[] {
  return upload.thumbnailKey && upload.thumbnailKey !== upload.blobKey
    ? [upload.blobKey, upload.thumbnailKey]
    : [upload.blobKey];
}

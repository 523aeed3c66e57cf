// UploadStore: what is known about each uploaded file (its bytes are in the BlobStore), and to
// which message it was attached. SQLite in embedded mode, PostgreSQL in cluster mode.

export interface UploadRecord {
  id: string;
  ownerId: string;
  name: string;
  /** The type sniffed from the bytes (the client's word only for text), as served. */
  contentType: string;
  /** Bytes of the stored file (for images: the re-encoded one, without metadata). */
  size: number;
  /** Hex SHA-256 of the stored bytes. */
  sha256: string;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  blobKey: string;
  thumbnailKey: string | null;
  createdAt: string;
  attachedAt: string | null;
  conversationId: string | null;
  messageId: string | null;
}

export interface UploadStore {
  /** Records a new upload, durably; its blobs were written before. */
  create(upload: UploadRecord): Promise<void>;
  get(id: string): Promise<UploadRecord | null>;
  /**
   * Attaches the upload to a message, atomically and at most once: true only for the call that
   * attached it, when `ownerId` uploaded it and it was not attached before. Everyone else gets false.
   */
  claim(id: string, ownerId: string, to: { conversationId: string; messageId: string }, at: string): Promise<boolean>;
  /** Never-attached uploads created before `before`, oldest first: what the sweeper deletes. */
  unattachedBefore(before: string, limit: number): Promise<UploadRecord[]>;
  /** Every upload of a user (account deletion). */
  ofOwner(ownerId: string): Promise<UploadRecord[]>;
  /** The uploads attached to a message (deleting the message deletes them). */
  ofMessage(messageId: string): Promise<UploadRecord[]>;
  /** Forgets the upload; true when this call removed it. Idempotent. */
  remove(id: string): Promise<boolean>;
}

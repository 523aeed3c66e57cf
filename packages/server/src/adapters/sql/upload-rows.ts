// The uploads table's row, the same columns in SQLite and PostgreSQL; only how times and sizes
// arrive differs (ISO text and numbers in SQLite, Date and bigint-as-string in PostgreSQL).
import type { UploadRecord } from '../../core/media/upload-store.js';

export interface UploadRow<Time, Size> {
  id: string;
  owner_id: string;
  name: string;
  content_type: string;
  size: Size;
  sha256: string;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  blob_key: string;
  thumbnail_key: string | null;
  created_at: Time;
  attached_at: Time | null;
  conversation_id: string | null;
  message_id: string | null;
}

/** Every column, in the order of UPLOAD_VALUES. */
export const UPLOAD_COLUMNS =
  'id, owner_id, name, content_type, size, sha256, width, height, duration_ms, blob_key, thumbnail_key, created_at, attached_at, conversation_id, message_id';

export function uploadValues(u: UploadRecord): unknown[] {
  return [
    u.id,
    u.ownerId,
    u.name,
    u.contentType,
    u.size,
    u.sha256,
    u.width,
    u.height,
    u.durationMs,
    u.blobKey,
    u.thumbnailKey,
    u.createdAt,
    u.attachedAt,
    u.conversationId,
    u.messageId,
  ];
}

export function uploadFromRow<Time, Size>(r: UploadRow<Time, Size>, iso: (t: Time) => string): UploadRecord {
  return {
    id: r.id,
    ownerId: r.owner_id,
    name: r.name,
    contentType: r.content_type,
    // PostgreSQL's bigint arrives as a string; uploads stay far below 2^53 bytes.
    size: Number(r.size),
    sha256: r.sha256,
    width: r.width,
    height: r.height,
    durationMs: r.duration_ms,
    blobKey: r.blob_key,
    thumbnailKey: r.thumbnail_key,
    createdAt: iso(r.created_at),
    attachedAt: r.attached_at === null ? null : iso(r.attached_at),
    conversationId: r.conversation_id,
    messageId: r.message_id,
  };
}

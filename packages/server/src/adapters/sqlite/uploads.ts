// UploadStore in SQLite.
import type { UploadRecord, UploadStore } from '../../core/media/upload-store.js';
import type { Db } from './db.js';

interface UploadRow {
  id: string;
  owner_id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  blob_key: string;
  thumbnail_key: string | null;
  created_at: string;
  attached_at: string | null;
  conversation_id: string | null;
  message_id: string | null;
}

const toRecord = (r: UploadRow): UploadRecord => ({
  id: r.id,
  ownerId: r.owner_id,
  name: r.name,
  contentType: r.content_type,
  size: r.size,
  sha256: r.sha256,
  width: r.width,
  height: r.height,
  durationMs: r.duration_ms,
  blobKey: r.blob_key,
  thumbnailKey: r.thumbnail_key,
  createdAt: r.created_at,
  attachedAt: r.attached_at,
  conversationId: r.conversation_id,
  messageId: r.message_id,
});

export class SqliteUploads implements UploadStore {
  private readonly s;

  constructor(deps: { db: Db }) {
    const db = deps.db;
    this.s = {
      insert: db.prepare(
        `INSERT INTO uploads (id, owner_id, name, content_type, size, sha256, width, height, duration_ms, blob_key,
           thumbnail_key, created_at, attached_at, conversation_id, message_id)
         VALUES (@id, @ownerId, @name, @contentType, @size, @sha256, @width, @height, @durationMs, @blobKey,
           @thumbnailKey, @createdAt, @attachedAt, @conversationId, @messageId)`,
      ),
      get: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE id = ?'),
      claim: db.prepare(
        `UPDATE uploads SET attached_at = ?, conversation_id = ?, message_id = ?
          WHERE id = ? AND owner_id = ? AND attached_at IS NULL`,
      ),
      due: db.prepare<[string, number], UploadRow>(
        'SELECT * FROM uploads WHERE attached_at IS NULL AND created_at < ? ORDER BY created_at, id LIMIT ?',
      ),
      ofOwner: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE owner_id = ? ORDER BY created_at, id'),
      ofMessage: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE message_id = ? ORDER BY attached_at, id'),
      remove: db.prepare('DELETE FROM uploads WHERE id = ?'),
    };
  }

  async create(upload: UploadRecord): Promise<void> {
    this.s.insert.run(upload);
  }

  async get(id: string): Promise<UploadRecord | null> {
    const row = this.s.get.get(id);
    return row ? toRecord(row) : null;
  }

  async claim(
    id: string,
    ownerId: string,
    to: { conversationId: string; messageId: string },
    at: string,
  ): Promise<boolean> {
    return this.s.claim.run(at, to.conversationId, to.messageId, id, ownerId).changes === 1;
  }

  async unattachedBefore(before: string, limit: number): Promise<UploadRecord[]> {
    return this.s.due.all(before, limit).map(toRecord);
  }

  async ofOwner(ownerId: string): Promise<UploadRecord[]> {
    return this.s.ofOwner.all(ownerId).map(toRecord);
  }

  async ofMessage(messageId: string): Promise<UploadRecord[]> {
    return this.s.ofMessage.all(messageId).map(toRecord);
  }

  async remove(id: string): Promise<boolean> {
    return this.s.remove.run(id).changes === 1;
  }
}

// UploadStore in PostgreSQL.
import type { Pool } from 'pg';
import type { UploadRecord, UploadStore } from '../../core/media/upload-store.js';
import { PgDb } from './pool.js';

interface UploadRow {
  id: string;
  owner_id: string;
  name: string;
  content_type: string;
  size: string;
  sha256: string;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  blob_key: string;
  thumbnail_key: string | null;
  created_at: Date;
  attached_at: Date | null;
  conversation_id: string | null;
  message_id: string | null;
}

const toRecord = (r: UploadRow): UploadRecord => ({
  id: r.id,
  ownerId: r.owner_id,
  name: r.name,
  contentType: r.content_type,
  // bigint arrives as a string; uploads stay far below 2^53 bytes.
  size: Number(r.size),
  sha256: r.sha256,
  width: r.width,
  height: r.height,
  durationMs: r.duration_ms,
  blobKey: r.blob_key,
  thumbnailKey: r.thumbnail_key,
  createdAt: r.created_at.toISOString(),
  attachedAt: r.attached_at ? r.attached_at.toISOString() : null,
  conversationId: r.conversation_id,
  messageId: r.message_id,
});

export class PostgresUploads implements UploadStore {
  private readonly db: PgDb;

  constructor(deps: { pool: Pool }) {
    this.db = new PgDb(deps.pool);
  }

  async create(u: UploadRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO uploads (id, owner_id, name, content_type, size, sha256, width, height, duration_ms, blob_key,
         thumbnail_key, created_at, attached_at, conversation_id, message_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
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
      ],
    );
  }

  async get(id: string): Promise<UploadRecord | null> {
    const rows = await this.db.query<UploadRow>('SELECT * FROM uploads WHERE id = $1', [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async claim(
    id: string,
    ownerId: string,
    to: { conversationId: string; messageId: string },
    at: string,
  ): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE uploads SET attached_at = $1, conversation_id = $2, message_id = $3
        WHERE id = $4 AND owner_id = $5 AND attached_at IS NULL RETURNING 1`,
      [at, to.conversationId, to.messageId, id, ownerId],
    );
    return rows.length === 1;
  }

  async unattachedBefore(before: string, limit: number): Promise<UploadRecord[]> {
    const rows = await this.db.query<UploadRow>(
      'SELECT * FROM uploads WHERE attached_at IS NULL AND created_at < $1 ORDER BY created_at, id LIMIT $2',
      [before, limit],
    );
    return rows.map(toRecord);
  }

  async ofOwner(ownerId: string): Promise<UploadRecord[]> {
    const rows = await this.db.query<UploadRow>('SELECT * FROM uploads WHERE owner_id = $1 ORDER BY created_at, id', [
      ownerId,
    ]);
    return rows.map(toRecord);
  }

  async ofMessage(messageId: string): Promise<UploadRecord[]> {
    const rows = await this.db.query<UploadRow>(
      'SELECT * FROM uploads WHERE message_id = $1 ORDER BY attached_at, id',
      [messageId],
    );
    return rows.map(toRecord);
  }

  async remove(id: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM uploads WHERE id = $1 RETURNING 1', [id])).length === 1;
  }
}

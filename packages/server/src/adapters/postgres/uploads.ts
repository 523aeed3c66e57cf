// UploadStore in PostgreSQL.
import type { Pool } from 'pg';
import type { UploadRecord, UploadStore } from '../../core/media/upload-store.js';
import { UPLOAD_COLUMNS, type UploadRow, uploadFromRow, uploadValues } from '../sql/upload-rows.js';
import { PgDb } from './pool.js';

type Row = UploadRow<Date, string>;
const toRecord = (r: Row): UploadRecord => uploadFromRow(r, (t) => t.toISOString());

export class PostgresUploads implements UploadStore {
  private readonly db: PgDb;

  constructor(deps: { pool: Pool }) {
    this.db = new PgDb(deps.pool);
  }

  async create(u: UploadRecord): Promise<void> {
    const params = Array.from({ length: 15 }, (_, i) => `$${i + 1}`).join(', ');
    await this.db.query(`INSERT INTO uploads (${UPLOAD_COLUMNS}) VALUES (${params})`, uploadValues(u));
  }

  async get(id: string): Promise<UploadRecord | null> {
    const rows = await this.db.query<Row>('SELECT * FROM uploads WHERE id = $1', [id]);
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
    const rows = await this.db.query<Row>(
      'SELECT * FROM uploads WHERE attached_at IS NULL AND created_at < $1 ORDER BY created_at, id LIMIT $2',
      [before, limit],
    );
    return rows.map(toRecord);
  }

  async ofOwner(ownerId: string): Promise<UploadRecord[]> {
    const rows = await this.db.query<Row>('SELECT * FROM uploads WHERE owner_id = $1 ORDER BY created_at, id', [
      ownerId,
    ]);
    return rows.map(toRecord);
  }

  async ofMessage(messageId: string): Promise<UploadRecord[]> {
    const rows = await this.db.query<Row>('SELECT * FROM uploads WHERE message_id = $1 ORDER BY attached_at, id', [
      messageId,
    ]);
    return rows.map(toRecord);
  }

  async remove(id: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM uploads WHERE id = $1 RETURNING 1', [id])).length === 1;
  }
}

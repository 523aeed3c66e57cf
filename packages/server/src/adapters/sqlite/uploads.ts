// UploadStore in SQLite.
import { KeyLocks } from '../../core/media/key-locks.js';
import {
  type AttachedTo,
  type Drop,
  type Ensure,
  keysOf,
  type UploadRecord,
  type UploadStore,
} from '../../core/media/upload-store.js';
import { UPLOAD_COLUMNS, type UploadRow, uploadFromRow, uploadValues } from '../sql/upload-rows.js';
import type { Db } from './db.js';

type Row = UploadRow<string, number>;
const toRecord = (r: Row): UploadRecord => uploadFromRow(r, (t) => t);

export class SqliteUploads implements UploadStore {
  private readonly s;
  // In-process locks suffice: one process owns the embedded database.
  private readonly locks = new KeyLocks();

  constructor(deps: { db: Db }) {
    const db = deps.db;
    this.s = {
      insert: db.prepare(`INSERT INTO uploads (${UPLOAD_COLUMNS}) VALUES (${Array(15).fill('?').join(', ')})`),
      get: db.prepare<[string], Row>('SELECT * FROM uploads WHERE id = ?'),
      claim: db.prepare(
        `UPDATE uploads SET attached_at = ?, conversation_id = ?, message_id = ?
          WHERE id = ? AND owner_id = ? AND attached_at IS NULL`,
      ),
      due: db.prepare<[string, number], Row>(
        'SELECT * FROM uploads WHERE attached_at IS NULL AND created_at < ? ORDER BY created_at, id LIMIT ?',
      ),
      ofOwner: db.prepare<[string], Row>('SELECT * FROM uploads WHERE owner_id = ? ORDER BY created_at, id'),
      ofMessage: db.prepare<[string], Row>('SELECT * FROM uploads WHERE message_id = ? ORDER BY attached_at, id'),
      remove: db.prepare('DELETE FROM uploads WHERE id = ?'),
      others: db.prepare<{ key: string; id: string }, { n: number }>(
        `SELECT (SELECT count(*) FROM uploads WHERE blob_key = @key AND id <> @id)
              + (SELECT count(*) FROM uploads WHERE thumbnail_key = @key AND id <> @id) AS n`,
      ),
    };
  }

  async create(upload: UploadRecord, ensure: Ensure): Promise<void> {
    const keys = keysOf(upload);
    await this.locks.run(keys, async () => {
      await ensure(keys);
      this.s.insert.run(...uploadValues(upload));
    });
  }

  async get(id: string): Promise<UploadRecord | null> {
    const row = this.s.get.get(id);
    return row ? toRecord(row) : null;
  }

  async claim(id: string, ownerId: string, to: AttachedTo, at: string): Promise<boolean> {
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

  async remove(id: string, drop: Drop): Promise<boolean> {
    const row = this.s.get.get(id);
    if (!row) return false;
    const keys = keysOf(toRecord(row));
    return this.locks.run(keys, async () => {
      // Objects, then the row, all under the keys' lock: no upload of the same bytes is recorded
      // between the count and the delete, and create re-writes what a drop before it removed.
      await drop(keys.filter((key) => this.others(key, id) === 0));
      return this.s.remove.run(id).changes === 1;
    });
  }

  async release(keys: readonly string[], drop: Drop): Promise<void> {
    await this.locks.run(keys, () => drop(keys.filter((key) => this.others(key, '') === 0)));
  }

  async references(key: string): Promise<number> {
    return this.others(key, '');
  }

  private others(key: string, id: string): number {
    return this.s.others.get({ key, id })?.n ?? 0;
  }
}

// UploadStore in PostgreSQL.
import type { PoolClient } from 'pg';
import {
  type AttachedTo,
  type Drop,
  type Ensure,
  keysOf,
  type UploadRecord,
  type UploadStore,
} from '../../core/media/upload-store.js';
import { UPLOAD_COLUMNS, type UploadRow, uploadFromRow, uploadValues } from '../sql/upload-rows.js';
import { PgStore } from './pool.js';

type Row = UploadRow<Date, string>;
const toRecord = (r: Row): UploadRecord => uploadFromRow(r, (t) => t.toISOString());

/** The advisory lock class of blob keys (two-int form, apart from the migrations' one-bigint key). */
const BLOB_LOCK = 0x626c6f62; // "blob"

const OTHERS = `SELECT (SELECT count(*) FROM uploads WHERE blob_key = $1 AND id <> $2)
                     + (SELECT count(*) FROM uploads WHERE thumbnail_key = $1 AND id <> $2) AS n`;

export class PostgresUploads extends PgStore implements UploadStore {
  async create(u: UploadRecord, ensure: Ensure): Promise<void> {
    const params = Array.from({ length: 15 }, (_, i) => `$${i + 1}`).join(', ');
    const keys = keysOf(u);
    await this.db.tx(async (client) => {
      await lock(client, keys);
      await ensure(keys);
      await client.query(`INSERT INTO uploads (${UPLOAD_COLUMNS}) VALUES (${params})`, uploadValues(u));
    });
  }

  async get(id: string): Promise<UploadRecord | null> {
    const rows = await this.db.query<Row>('SELECT * FROM uploads WHERE id = $1', [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async claim(id: string, ownerId: string, to: AttachedTo, at: string): Promise<boolean> {
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

  async remove(id: string, drop: Drop): Promise<boolean> {
    const found = await this.get(id);
    if (!found) return false;
    const keys = keysOf(found);
    return this.db.tx(async (client) => {
      await lock(client, keys);
      // Objects, then the row, all under the keys' lock (held to commit): no upload of the same
      // bytes is recorded between the count and the delete, and create re-writes what a drop removed.
      await drop(await unreferenced(client, keys, id));
      return (await client.query('DELETE FROM uploads WHERE id = $1', [id])).rowCount === 1;
    });
  }

  async release(keys: readonly string[], drop: Drop): Promise<void> {
    await this.db.tx(async (client) => {
      await lock(client, keys);
      await drop(await unreferenced(client, keys, ''));
    });
  }

  async references(key: string): Promise<number> {
    return Number((await this.db.query<{ n: string }>(OTHERS, [key, '']))[0]?.n ?? 0);
  }
}

/** Takes the keys' locks until the transaction ends, in the order of their hashes so that no two callers deadlock. */
async function lock(client: PoolClient, keys: readonly string[]): Promise<void> {
  await client.query(
    `SELECT pg_advisory_xact_lock($1, h)
       FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS hashes`,
    [BLOB_LOCK, [...keys]],
  );
}

async function unreferenced(client: PoolClient, keys: readonly string[], id: string): Promise<string[]> {
  const out: string[] = [];
  for (const key of keys) {
    const { rows } = await client.query<{ n: string }>(OTHERS, [key, id]);
    if (Number(rows[0]?.n ?? 0) === 0) out.push(key);
  }
  return out;
}

// The bytes of uploaded files, for `npm run migrate`: embedded mode keeps them under
// DATA_DIR/uploads (DiskBlobStore), cluster mode in object storage. Each key of the uploads table
// (file and thumbnail: u/<id> before content addressing, sha256/... since) is copied once unless the
// target already has an object of the same size, so a second run copies nothing. The target is the
// cluster's object storage (S3_*), or its disk.
import path from 'node:path';
import type Database from 'better-sqlite3';
import { DiskBlobStore } from '../../adapters/disk/blob-store.js';
import type { BlobStore } from '../../core/media/blob-store.js';

export interface FilesResult {
  keys: number;
  copied: number;
  /** Keys whose bytes the embedded directory does not have (an upload interrupted before it was whole). */
  missing: string[];
  /** What the operator should know about where the files now are. */
  note: string | null;
}

/** Where the files go; `store` null: they are there already (the cluster reads the same directory). */
export interface FilesTarget {
  store: BlobStore | null;
  note: string | null;
}

function blobKeys(db: Database.Database): string[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'uploads'").get();
  if (!exists) return [];
  const rows = db.prepare('SELECT blob_key, thumbnail_key FROM uploads ORDER BY id').all() as {
    blob_key: string;
    thumbnail_key: string | null;
  }[];
  // Content-addressed keys are shared by every upload of the same bytes: each object is copied once.
  return [...new Set(rows.flatMap((r) => (r.thumbnail_key ? [r.blob_key, r.thumbnail_key] : [r.blob_key])))];
}

export async function copyFiles(
  db: Database.Database,
  dataDir: string,
  openTarget: () => Promise<FilesTarget>,
): Promise<FilesResult> {
  const keys = blobKeys(db);
  const result: FilesResult = { keys: keys.length, copied: 0, missing: [], note: null };
  if (keys.length === 0) return result;
  const { store: target, note } = await openTarget();
  result.note = note;
  if (!target) return result;
  const source = new DiskBlobStore({ dir: path.join(dataDir, 'uploads') });
  try {
    for (const key of keys) {
      const have = await source.stat(key);
      if (!have) {
        result.missing.push(key);
        continue;
      }
      if ((await target.stat(key))?.size === have.size) continue;
      const body = await source.get(key);
      if (!body) {
        result.missing.push(key);
        continue;
      }
      await target.put(key, body);
      result.copied++;
    }
    return result;
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}

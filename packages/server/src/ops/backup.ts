// Backup and restore of an embedded data directory, safe while the server is serving traffic.
// The database is copied by SQLite's online backup API in one step, so the copy is one consistent
// snapshot (a WAL reader: writers go on meanwhile); the other files of DATA_DIR are copied beside it,
// and a manifest with each file's size and SHA-256 lets a restore refuse a damaged copy.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export const DB_FILE = 'messenger.db';
const MANIFEST = 'backup.json';
/** The database's own side files: the backup API reads through them; they are never copied. */
const DB_SIDE_FILES = new Set([DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, `${DB_FILE}-journal`]);

export interface Manifest {
  format: 1;
  createdAt: string;
  /** The database's schema version (PRAGMA user_version) when copied. */
  schemaVersion: number;
  files: { path: string; size: number; sha256: string }[];
}

export class BackupError extends Error {
  override name = 'BackupError';
}

/** Copies `dataDir` into the new or empty directory `target`; returns the manifest written there. */
export async function backup(dataDir: string, target: string): Promise<Manifest> {
  const source = path.join(dataDir, DB_FILE);
  if (!fs.existsSync(source)) throw new BackupError(`no ${DB_FILE} in ${dataDir}: nothing to back up`);
  const inside = path.relative(path.resolve(dataDir), path.resolve(target));
  if (!inside.startsWith('..') && !path.isAbsolute(inside))
    throw new BackupError(`${target} is inside ${dataDir}: back up into a directory outside the data directory`);
  ensureEmptyDir(target);
  const db = new Database(source, { fileMustExist: true });
  let schemaVersion: number;
  try {
    db.pragma('busy_timeout = 5000');
    schemaVersion = db.pragma('user_version', { simple: true }) as number;
    const partial = path.join(target, `${DB_FILE}.partial`);
    // All pages in one step: a step is a read transaction, so the copy is one snapshot; copied in
    // several steps, every commit by the server in between would restart it.
    await db.backup(partial, { progress: ({ totalPages }) => Math.max(totalPages, 1) });
    checkIntegrity(partial);
    fsyncFile(partial);
    fs.renameSync(partial, path.join(target, DB_FILE));
  } finally {
    db.close();
  }
  for (const rel of otherFiles(dataDir)) copyDurably(path.join(dataDir, rel), path.join(target, rel));
  const manifest: Manifest = {
    format: 1,
    createdAt: new Date().toISOString(),
    schemaVersion,
    files: [DB_FILE, ...otherFiles(target).filter((f) => f !== MANIFEST)].map((rel) => describe(target, rel)),
  };
  writeDurably(path.join(target, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  fsyncDir(target);
  return manifest;
}

/**
 * Puts the backup in `source` into `dataDir`, which must hold no database unless `force`; then what
 * was there is moved aside into `dataDir/replaced-<time>/`, never deleted. The server must be stopped.
 */
export function restore(source: string, dataDir: string, opts: { force?: boolean } = {}): Manifest {
  const manifest = verify(source);
  fs.mkdirSync(dataDir, { recursive: true });
  const present = fs.readdirSync(dataDir).filter((f) => !f.startsWith('replaced-'));
  if (present.length > 0) {
    if (!opts.force)
      throw new BackupError(
        `${dataDir} is not empty (${present.join(', ')}): restore into a new directory, or pass --force`,
      );
    const aside = path.join(dataDir, `replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    fs.mkdirSync(aside);
    for (const f of present) fs.renameSync(path.join(dataDir, f), path.join(aside, f));
  }
  // Every file lands under a temporary name first: a restore cut short leaves no half database.
  for (const { path: rel } of manifest.files)
    copyDurably(path.join(source, rel), path.join(dataDir, `${rel}.restoring`));
  for (const { path: rel } of manifest.files)
    fs.renameSync(path.join(dataDir, `${rel}.restoring`), path.join(dataDir, rel));
  fsyncDir(dataDir);
  return manifest;
}

/** The manifest of the backup in `dir`, once every file in it matches its size and checksum. */
export function verify(dir: string): Manifest {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch (error) {
    throw new BackupError(`${dir} holds no readable ${MANIFEST}: not a backup (${(error as Error).message})`);
  }
  if (manifest.format !== 1 || !Array.isArray(manifest.files))
    throw new BackupError(`${dir}/${MANIFEST}: unknown format`);
  for (const file of manifest.files) {
    if (path.isAbsolute(file.path) || file.path.split(/[\\/]/).includes('..'))
      throw new BackupError(`${dir}/${MANIFEST}: a file path leaves the backup (${file.path})`);
    const actual = fs.existsSync(path.join(dir, file.path)) ? describe(dir, file.path) : null;
    if (!actual || actual.size !== file.size || actual.sha256 !== file.sha256)
      throw new BackupError(`${file.path} in ${dir} is missing or damaged: its checksum does not match the manifest`);
  }
  checkIntegrity(path.join(dir, DB_FILE));
  return manifest;
}

function checkIntegrity(file: string): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new BackupError(`${file} fails SQLite's integrity check: ${String(result)}`);
  } finally {
    db.close();
  }
}

/** Files of `dir` (relative paths, recursively) other than the database and its side files. */
function otherFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('replaced-')) out.push(...otherFiles(dir, rel));
    } else if (entry.isFile() && !(prefix === '' && DB_SIDE_FILES.has(entry.name)) && !entry.name.endsWith('.partial'))
      out.push(rel);
  }
  return out.sort();
}

function describe(dir: string, rel: string): Manifest['files'][number] {
  const data = fs.readFileSync(path.join(dir, rel));
  return { path: rel, size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') };
}

function ensureEmptyDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  if (fs.readdirSync(dir).length > 0) throw new BackupError(`${dir} is not empty: back up into a new directory`);
}

function copyDurably(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
  fsyncFile(to);
}

function writeDurably(file: string, text: string): void {
  fs.writeFileSync(`${file}.partial`, text);
  fsyncFile(`${file}.partial`);
  fs.renameSync(`${file}.partial`, file);
}

const fsyncFile = (file: string) => fsyncPath(file, 'r+');
/** A directory opens read-only; its fsync makes the names created or renamed in it durable. */
const fsyncDir = (dir: string) => fsyncPath(dir, 'r');

function fsyncPath(target: string, flags: 'r' | 'r+'): void {
  const fd = fs.openSync(target, flags);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

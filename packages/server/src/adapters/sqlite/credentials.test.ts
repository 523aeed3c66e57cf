// SqliteCredentials: the CredentialStore contract, and the migration that names the keys made
// before accounts had several (each keeps working and is listed as "sign-up key").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { credentialStoreContract } from '../../core/users/credential-store.contract.js';
import { SqliteCredentials } from './credentials.js';
import { openDatabase } from './db.js';
import { MIGRATIONS } from './migrations.js';

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'credentials-')), 'messenger.db');

credentialStoreContract('SqliteCredentials', {
  open: async () => new SqliteCredentials({ db: openDatabase(tempFile()) }),
});

describe('SqliteCredentials migration', () => {
  it('keeps the API keys of existing accounts working and lists them as the sign-up key', async () => {
    const file = tempFile();
    const old = new Database(file);
    const before = MIGRATIONS.length - 1;
    for (const migration of MIGRATIONS.slice(0, before)) {
      if (typeof migration === 'string') old.exec(migration);
      else migration(old);
    }
    old.pragma(`user_version = ${before}`);
    old
      .prepare(
        "INSERT INTO users (id, username, display_name, created_at) VALUES ('u_old', 'old', 'Old', '2024-01-01T00:00:00.000Z')",
      )
      .run();
    old
      .prepare(
        "INSERT INTO api_keys (key_hash, user_id, created_at) VALUES ('h_old', 'u_old', '2024-01-01T00:00:00.000Z')",
      )
      .run();
    old.close();

    const store = new SqliteCredentials({ db: openDatabase(file) });
    const found = await store.byHash('h_old', new Date().toISOString());
    expect(found).toMatchObject({ kind: 'key', user: { id: 'u_old', username: 'old' } });
    const keys = await store.apiKeys('u_old');
    expect(keys).toEqual([
      { id: found!.id, userId: 'u_old', name: 'sign-up key', createdAt: '2024-01-01T00:00:00.000Z', lastUsedAt: null },
    ]);
    expect(found!.id).toMatch(/^k_[0-9a-f]{24}$/);
    expect(await store.deleteApiKey('u_old', found!.id)).toBe(true);
    expect(await store.byHash('h_old', new Date().toISOString())).toBeNull();
  });
});

// PostgresCredentials against a real PostgreSQL: the CredentialStore contract, each store in a
// schema of its own (dropped on close), and the migration that names the keys made before.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { credentialStoreContract } from '../../core/users/credential-store.contract.js';
import { PostgresCredentials } from './credentials.js';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations.js';
import { admin, dropSchema, freshSchema, onPostgres, URL } from './test-db.js';

async function openInSchema(upTo = MIGRATIONS.length) {
  const schema = freshSchema();
  const pool = new pg.Pool({ connectionString: URL, max: 4, options: `-c search_path=${schema}` });
  pool.on('error', () => undefined);
  if (upTo === MIGRATIONS.length) await migrate(pool, schema);
  else {
    await admin.query(`CREATE SCHEMA ${schema}`);
    for (const sql of MIGRATIONS.slice(0, upTo)) await pool.query(sql);
    await pool.query(
      'CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    await pool.query('INSERT INTO schema_migrations (version) SELECT generate_series(1, $1::int)', [upTo]);
  }
  const store = new PostgresCredentials({ pool });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await pool.end();
    await dropSchema(schema);
  };
  return { store, pool, schema };
}

onPostgres('PostgresCredentials', () => {
  credentialStoreContract('PostgresCredentials', { open: async () => (await openInSchema()).store });

  describe('PostgresCredentials migration', () => {
    it('keeps the API keys of existing accounts working and lists them as the sign-up key', async () => {
      const { store, pool, schema } = await openInSchema(MIGRATIONS.length - 1);
      try {
        await pool.query(
          "INSERT INTO users (id, username, display_name, created_at) VALUES ('u_old', 'old', 'Old', '2024-01-01T00:00:00Z')",
        );
        await pool.query(
          "INSERT INTO api_keys (key_hash, user_id, created_at) VALUES ('h_old', 'u_old', '2024-01-01T00:00:00Z')",
        );
        await migrate(pool, schema);
        const found = await store.byHash('h_old', new Date().toISOString());
        expect(found).toMatchObject({ kind: 'key', user: { id: 'u_old', username: 'old' } });
        expect(found!.id).toMatch(/^k_[0-9a-f]{32}$/);
        expect(await store.apiKeys('u_old')).toEqual([
          {
            id: found!.id,
            userId: 'u_old',
            name: 'sign-up key',
            createdAt: '2024-01-01T00:00:00.000Z',
            lastUsedAt: null,
          },
        ]);
      } finally {
        await store.close();
      }
    });
  });
});

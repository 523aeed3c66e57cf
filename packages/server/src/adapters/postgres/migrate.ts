// Applying the PostgreSQL migrations (migrations.ts) in order, each version in a transaction of its
// own under an advisory lock, so that many processes can migrate one schema at once.
import type { Pool, PoolClient } from 'pg';
import { unavailable } from '../../domain/errors.js';
import { MIGRATIONS } from './migrations.js';
import { checkSchemaName, isUnavailable } from './pool.js';

// One key for the whole database: the extension is per database, so schemas migrate one at a time.
const MIGRATION_LOCK = 0x6d736772; // "msgr"

/**
 * Applies the pending migrations. Safe to run from many processes at once, directly or through a
 * transaction pooler: each version commits in a transaction of its own together with its
 * schema_migrations row, under a transaction-level advisory lock (a session-level one would stay
 * held by whichever pooled connection took it). Each of these transactions sets its search_path,
 * so the schema is created and migrated whatever the connection's settings (checkSearchPath then
 * tells whether the store's connections find their tables in it).
 */
export async function migrate(pool: Pool, schema: string | null = null): Promise<void> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw isUnavailable(err) ? unavailable() : err;
  }
  let broken: Error | undefined;
  try {
    while (await migrateOne(client, schema === null ? null : checkSchemaName(schema)));
  } catch (err) {
    broken = err instanceof Error ? err : new Error(String(err));
    throw isUnavailable(err) ? unavailable() : err;
  } finally {
    client.release(broken);
  }
}

/** Applies the next pending version, if any; says whether one was applied. */
async function migrateOne(client: PoolClient, schema: string | null): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    if (schema) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`SET LOCAL search_path = ${schema}`);
    }
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM schema_migrations',
    );
    const version = rows[0]?.version ?? 0;
    const pending = version < MIGRATIONS.length;
    if (pending) {
      await client.query(MIGRATIONS[version]!);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version + 1]);
    }
    await client.query('COMMIT');
    return pending;
  } catch (err) {
    // The error that matters is the migration's; a failed rollback leaves the client broken anyway.
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

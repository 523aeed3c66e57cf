// Migrating at start with the right role: the runtime role of deploy/postgres/roles.sql may not run
// DDL (even CREATE TABLE IF NOT EXISTS checks the right first), so an up-to-date schema is
// recognised by a read alone, and pending migrations run as DATABASE_MIGRATION_URL's role if given.
import type { Pool } from 'pg';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations.js';
import { checkSearchPath, openPool } from './pool.js';

/** True unless schema_migrations (in the pool's search_path) has every version this build knows. */
export async function migrationsPending(pool: Pool): Promise<boolean> {
  try {
    const found = await pool.query<{ present: boolean }>(
      "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
    );
    if (!found.rows[0]?.present) return true;
    const { rows } = await pool.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM schema_migrations',
    );
    return (rows[0]?.version ?? 0) < MIGRATIONS.length;
  } catch {
    // Let migrate meet the same failure and report it its way (unavailable, or the real error).
    return true;
  }
}

/**
 * Applies pending migrations: on `pool`, or as the owner role of `migrationUrl` when given; then
 * checks that `pool` finds its tables in `schema` (behind a pooler its role's search_path decides).
 */
export async function migrateAtStart(deps: {
  pool: Pool;
  schema: string | null;
  migrationUrl: string | null;
}): Promise<void> {
  await migratePending(deps);
  if (deps.schema) await checkSearchPath(deps.pool, deps.schema);
}

async function migratePending(deps: { pool: Pool; schema: string | null; migrationUrl: string | null }) {
  const { pool, schema, migrationUrl } = deps;
  if (!(await migrationsPending(pool))) return;
  if (!migrationUrl) {
    await migrate(pool, schema).catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== '42501') throw err;
      throw Object.assign(
        new Error(
          "the database schema needs migrations and DATABASE_URL's role may not run them: set DATABASE_MIGRATION_URL to the owner role (deploy/postgres/roles.sql)",
        ),
        { cause: err },
      );
    });
    return;
  }
  const owner = openPool({ connectionString: migrationUrl, maxConnections: 1, ...(schema ? { schema } : {}) });
  try {
    await migrate(owner.pool, schema);
  } finally {
    await owner.pool.end();
  }
}

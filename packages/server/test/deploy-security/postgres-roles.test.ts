// deploy/postgres/roles.sql as shipped, applied by psql to a fresh database on the local
// PostgreSQL: the owner role migrates, and the PostgreSQL store's contract suite passes as the
// runtime role, which may read and write the tables but not change them. Skips without a server.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/adapters/postgres/migrate.js';
import { migrateAtStart, migrationsPending } from '../../src/adapters/postgres/schema-version.js';
import { PostgresStore } from '../../src/adapters/postgres/store.js';
import { storeContract } from '../../src/core/store.contract.js';

const ROLES_SQL = fileURLToPath(new URL('../../../../deploy/postgres/roles.sql', import.meta.url));
const ADMIN_URL = process.env.PG_TEST_URL ?? `postgres://${os.userInfo().username}@127.0.0.1:5432/test`;
const id = randomBytes(4).toString('hex');
const db = `sec_${id}`;
const owner = `sec_owner_${id}`;
const app = `sec_app_${id}`;
const urlFor = (role: string, password: string) => {
  const url = new URL(ADMIN_URL);
  url.username = role;
  url.password = password;
  url.pathname = `/${db}`;
  return url.toString();
};
const OWNER_URL = urlFor(owner, 'owner-pw');
const APP_URL = urlFor(app, 'app-pw');

const admin = new pg.Pool({ connectionString: ADMIN_URL, max: 1 });
admin.on('error', () => undefined);
const reachable = await admin.query('SELECT 1').then(
  () => true,
  () => false,
);
let applied = '';
if (reachable) {
  await admin.query(`CREATE DATABASE ${db}`);
  const target = new URL(ADMIN_URL);
  target.pathname = `/${db}`;
  const res = spawnSync(
    'psql',
    [target.toString(), '-q', '-v', `owner=${owner}`, '-v', `app=${app}`]
      .concat(['-v', 'owner_password=owner-pw', '-v', 'app_password=app-pw', '-v', `schema=messenger`])
      .concat(['-f', ROLES_SQL]),
    { encoding: 'utf8', cwd: path.dirname(ROLES_SQL) },
  );
  applied = res.status === 0 ? '' : `psql -f roles.sql failed (${res.status}): ${res.stderr}`;
}

const ownerPool = new pg.Pool({ connectionString: OWNER_URL, max: 2 });
ownerPool.on('error', () => undefined);
afterAll(async () => {
  await ownerPool.end();
  if (reachable) {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    for (const role of [app, owner]) await admin.query(`DROP ROLE IF EXISTS ${role}`);
  }
  await admin.end();
});

const freshSchema = () => `s_${randomBytes(6).toString('hex')}`;

/** A schema migrated by the owner, and a store on it as the runtime role (no migration). */
async function openAsRuntime(): Promise<PostgresStore> {
  const schema = freshSchema();
  const pool = new pg.Pool({ connectionString: OWNER_URL, max: 1, options: `-c search_path=${schema}` });
  try {
    await migrate(pool, schema);
  } finally {
    await pool.end();
  }
  const store = new PostgresStore({ connectionString: APP_URL, schema, maxConnections: 4 });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await ownerPool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  };
  return store;
}

if (!reachable) {
  describe.skip(`deploy/postgres/roles.sql: no PostgreSQL at ${ADMIN_URL} (start it or set PG_TEST_URL)`, () => {
    it('contract', () => undefined);
  });
} else {
  describe('deploy/postgres/roles.sql', () => {
    it('applies with psql', () => {
      expect(applied).toBe('');
    });

    it('gives the runtime role no DDL, and start-up needs none once the owner migrated', async () => {
      const schema = freshSchema();
      const appPool = new pg.Pool({ connectionString: APP_URL, max: 1, options: `-c search_path=${schema}` });
      try {
        // Pending and no migration role: refused with a message that names the fix.
        await expect(migrateAtStart({ pool: appPool, schema, migrationUrl: null })).rejects.toThrow(
          /DATABASE_MIGRATION_URL/u,
        );
        await migrateAtStart({ pool: appPool, schema, migrationUrl: OWNER_URL });
        expect(await migrationsPending(appPool)).toBe(false);
        await migrateAtStart({ pool: appPool, schema, migrationUrl: null });
        for (const ddl of [
          'CREATE TABLE intruder (a int)',
          'DROP TABLE users',
          'TRUNCATE users',
          'ALTER TABLE users ADD COLUMN x int',
          'CREATE TEMP TABLE t (a int)',
          'CREATE SCHEMA intruder',
        ])
          await expect(appPool.query(ddl), ddl).rejects.toThrow(/permission denied|must be owner/u);
        const { rows } = await appPool.query(
          'SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user',
        );
        expect(rows[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false });
      } finally {
        await appPool.end();
        await ownerPool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    });
  });

  storeContract('PostgresStore as the deploy/postgres runtime role', { open: openAsRuntime });
}

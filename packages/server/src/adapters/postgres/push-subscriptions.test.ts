// PostgresPushSubscriptions against a real PostgreSQL: the PushSubscriptions contract unchanged,
// each opened pair (subscriptions + store) in its own schema, dropped on close.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pushSubscriptionsContract } from '../../core/notifications/subscriptions.contract.js';
import { migrate } from './migrate.js';
import { PostgresPushSubscriptions } from './push-subscriptions.js';
import { PostgresSettings } from './settings.js';
import { PostgresStore } from './store.js';
import { admin, onPostgres, URL } from './test-db.js';

async function openPair() {
  const schema = `s_${randomBytes(6).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: URL, max: 4, options: `-c search_path=${schema}` });
  pool.on('error', () => undefined);
  await migrate(pool, schema);
  const store = await PostgresStore.open({ pool });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  };
  return { subscriptions: new PostgresPushSubscriptions({ pool }), store, pool };
}

onPostgres('PostgresPushSubscriptions', () => {
  pushSubscriptionsContract('PostgresPushSubscriptions', { open: openPair });

  describe('PostgresSettings', () => {
    it('keeps the first value every process creates', async () => {
      const { store, pool } = await openPair();
      try {
        const settings = new PostgresSettings({ pool });
        const first = await settings.getOrCreate('vapid', () => ({ n: 1 }));
        const second = await settings.getOrCreate('vapid', () => ({ n: 2 }));
        expect(first).toEqual({ n: 1 });
        expect(second).toEqual({ n: 1 });
      } finally {
        await store.close();
      }
    });
  });
});

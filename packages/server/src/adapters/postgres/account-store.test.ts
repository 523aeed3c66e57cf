// PostgresAccountStore against a real PostgreSQL: the AccountStore contract, each in a schema of
// its own (dropped on close).
import pg from 'pg';
import { accountStoreContract } from '../../core/users/account-store.contract.js';
import { PostgresAccountStore } from './account-store.js';
import { PostgresCredentials } from './credentials.js';
import { PostgresSuspensions } from './safety.js';
import { migrate } from './migrate.js';
import { dropSchema, freshSchema, onPostgres, URL } from './test-db.js';

onPostgres('PostgresAccountStore', () => {
  accountStoreContract('PostgresAccountStore', {
    open: async () => {
      const schema = freshSchema();
      const pool = new pg.Pool({ connectionString: URL, max: 4, options: `-c search_path=${schema}` });
      pool.on('error', () => undefined);
      await migrate(pool, schema);
      return {
        accounts: new PostgresAccountStore({ pool }),
        credentials: new PostgresCredentials({ pool }),
        suspensions: new PostgresSuspensions({ pool }),
        close: async () => {
          await pool.end();
          await dropSchema(schema);
        },
      };
    },
  });
});

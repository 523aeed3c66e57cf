// What the operator commands open in cluster mode, with the server's own settings: the PostgreSQL
// schema, migrated, and the NATS revocations that reach every gateway.
import type { Pool } from 'pg';
import type { Config } from '../config/config.js';
import type { Revocations } from '../core/users/revocations.js';

/** A small pool on the configured schema, migrated to this version. */
export async function openMigratedPool(config: Readonly<Config>, connectionString: string): Promise<Pool> {
  const { openPool } = await import('../adapters/postgres/pool.js');
  const { migrate } = await import('../adapters/postgres/migrate.js');
  const { pool, schema } = openPool({
    connectionString,
    maxConnections: 2,
    ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    ...(config.databasePooler ? { pooler: config.databasePooler } : {}),
  });
  await migrate(pool, schema);
  return pool;
}

/**
 * Revocations over the cluster's NATS. A command's process exits right after it, so publish()
 * resolves only once the revocation has left it (flushed); close() ends the connection too.
 */
export async function openNatsRevocations(config: Readonly<Config>, natsUrl: string): Promise<Revocations> {
  const { connectNats } = await import('../adapters/nats/connection.js');
  const { NatsRevocations } = await import('../adapters/nats/revocations.js');
  const { createLogger } = await import('../observability/logger.js');
  const nc = await connectNats(natsUrl, 'messenger-admin');
  const nats = new NatsRevocations({ connection: nc, logger: createLogger('warn'), scope: config.logStreamPrefix });
  return {
    publish: async (ids) => {
      await nats.publish(ids);
      await nc.flush();
    },
    subscribe: (handler) => nats.subscribe(handler),
    close: async () => {
      await nats.close();
      await nc.close();
    },
  };
}

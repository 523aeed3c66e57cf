// Settings every process of a cluster must agree on (e.g. the VAPID key pair), kept in PostgreSQL:
// the first process to start creates a value, every other one reads that same value.
import { PgStore } from './pool.js';

export class PostgresSettings extends PgStore {
  async getOrCreate<T>(key: string, make: () => T): Promise<T> {
    await this.db.query('INSERT INTO server_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
      key,
      JSON.stringify(make()),
    ]);
    const rows = await this.db.query<{ value: T }>('SELECT value FROM server_settings WHERE key = $1', [key]);
    return rows[0]!.value;
  }
}

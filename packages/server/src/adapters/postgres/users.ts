// Users and API keys in PostgreSQL. Keys are stored only as SHA-256 hashes.
import type { User } from '@messenger/protocol';
import DataLoader from 'dataloader';
import { AppError } from '../../domain/errors.js';
import type { PresenceVisibility } from '../../core/presence/presence-visibility.js';
import type { NewUser, UserStore } from '../../core/users/user-store.js';
import { newUser, USER_COLUMNS } from '../sql/user-rows.js';
import { BATCHED_READS, type PgDb, WINDOWED_READS } from './pool.js';
import { toUser, type UserRow } from './rows.js';

export class PostgresUsers implements UserStore, PresenceVisibility {
  private readonly db: PgDb;

  constructor(db: PgDb) {
    this.db = db;
  }

  async createUser(user: NewUser): Promise<User> {
    return this.db.tx(async (client) => {
      const inserted = await client.query(
        'INSERT INTO users (id, username, display_name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING',
        [user.id, user.username, user.displayName, user.createdAt],
      );
      if (inserted.rowCount === 0) throw new AppError('conflict', 'username is taken');
      await client.query('INSERT INTO api_keys (key_hash, user_id, created_at) VALUES ($1, $2, $3)', [
        user.apiKeyHash,
        user.id,
        user.createdAt,
      ]);
      return newUser(user);
    });
  }

  /**
   * Every socket's auth frame and every HTTP request asks this, so the asks of one event-loop turn
   * share one query (a connect wave or a reconnect storm is one round trip per turn, not one per
   * client). Nothing is cached: a revoked key stops working at once.
   */
  private readonly keys = new DataLoader<string, User | null>(async (hashes) => {
    const rows = await this.db.query<UserRow & { key_hash: string }>(
      `SELECT k.key_hash, ${USER_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ANY($1::text[])`,
      [hashes],
      'messenger.users-by-key',
    );
    const found = new Map(rows.map((row) => [row.key_hash, toUser(row)]));
    return hashes.map((hash) => found.get(hash) ?? null);
  }, BATCHED_READS);

  async userByKeyHash(hash: string): Promise<User | null> {
    return this.keys.load(hash);
  }

  async userByUsername(username: string): Promise<User | null> {
    const [row] = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users u WHERE u.username = $1`, [username]);
    return row ? toUser(row) : null;
  }

  /** The asks of a few milliseconds share one query (a burst of new chats asks once per chat). */
  private readonly byId = new DataLoader<string, User | null>(async (ids) => {
    const rows = await this.db.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users u WHERE u.id = ANY($1::text[])`,
      [ids],
      'messenger.users-by-id',
    );
    const found = new Map(rows.map((row) => [row.id, toUser(row)]));
    return ids.map((id) => found.get(id) ?? null);
  }, WINDOWED_READS);

  /** In the order asked, skipping unknown ids. */
  async usersByIds(ids: string[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const users = await Promise.all(ids.map((id) => this.byId.load(id)));
    return users.filter((u): u is User => u !== null);
  }

  async setPresenceVisible(userId: string, visible: boolean): Promise<void> {
    await this.db.query('UPDATE users SET presence_visible = $1 WHERE id = $2', [visible, userId]);
  }

  async hiddenPresence(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.query<{ id: string }>(
      'SELECT id FROM users WHERE id = ANY($1::text[]) AND NOT presence_visible',
      [ids],
    );
    return new Set(rows.map((r) => r.id));
  }
}

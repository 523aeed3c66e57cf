// Users and API keys in SQLite. Keys are stored only as SHA-256 hashes.
import type { User } from '@messenger/protocol';
import { AppError } from '../../domain/errors.js';
import type { PresenceVisibility } from '../../core/presence/presence-visibility.js';
import type { NewUser, UserStore } from '../../core/users/user-store.js';
import { newUser } from '../sql/user-rows.js';
import type { Db } from './db.js';
import { toUser, type UserRow as BaseUserRow } from './rows.js';

type UserRow = BaseUserRow & { presence_visible: number };

export class SqliteUsers implements UserStore, PresenceVisibility {
  private readonly db: Db;
  private readonly s;

  constructor(db: Db) {
    this.db = db;
    this.s = {
      insert: db.prepare('INSERT INTO users (id, username, display_name, created_at) VALUES (?, ?, ?, ?)'),
      insertKey: db.prepare('INSERT INTO api_keys (key_hash, user_id, created_at) VALUES (?, ?, ?)'),
      byUsername: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
      byId: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      byKey: db.prepare<[string], UserRow>(
        'SELECT u.* FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?',
      ),
      setVisible: db.prepare('UPDATE users SET presence_visible = ? WHERE id = ?'),
    };
  }

  async createUser(user: NewUser): Promise<User> {
    return this.db
      .transaction(() => {
        if (this.s.byUsername.get(user.username)) throw new AppError('conflict', 'username is taken');
        this.s.insert.run(user.id, user.username, user.displayName, user.createdAt);
        this.s.insertKey.run(user.apiKeyHash, user.id, user.createdAt);
        return newUser(user);
      })
      .immediate();
  }

  async userByKeyHash(hash: string): Promise<User | null> {
    const row = this.s.byKey.get(hash);
    return row ? toUser(row) : null;
  }

  async userByUsername(username: string): Promise<User | null> {
    const row = this.s.byUsername.get(username);
    return row ? toUser(row) : null;
  }

  async usersByIds(ids: string[]): Promise<User[]> {
    return ids.flatMap((id) => {
      const row = this.s.byId.get(id);
      return row ? [toUser(row)] : [];
    });
  }

  async setPresenceVisible(userId: string, visible: boolean): Promise<void> {
    this.s.setVisible.run(visible ? 1 : 0, userId);
  }

  async hiddenPresence(ids: string[]): Promise<Set<string>> {
    return new Set(ids.filter((id) => this.s.byId.get(id)?.presence_visible === 0));
  }
}

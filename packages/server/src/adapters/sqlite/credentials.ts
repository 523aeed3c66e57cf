// SqliteCredentials: password hashes, device sessions and API keys in the embedded database.
import type { User } from '@messenger/protocol';
import { AppError } from '../../domain/errors.js';
import type {
  CredentialRecord,
  CredentialStore,
  FirstCredential,
  NewAccount,
  NewApiKey,
  NewSession,
  StoredApiKey,
  StoredSession,
} from '../../core/users/credential-store.js';
import {
  type FoundRow,
  type KeyRow,
  keyFromRow,
  recordFromRow,
  type SessionRow,
  sessionFromRow,
} from '../sql/credential-rows.js';
import { newUser, USER_COLUMNS } from '../sql/user-rows.js';
import type { Db } from './db.js';
import { toUser, type UserRow } from './rows.js';

const text = (t: string) => t;

export class SqliteCredentials implements CredentialStore {
  private readonly db: Db;
  private readonly s;

  constructor(deps: { db: Db }) {
    const db = (this.db = deps.db);
    this.s = {
      userByName: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users u WHERE u.username = ?`),
      insertUser: db.prepare('INSERT INTO users (id, username, display_name, created_at) VALUES (?, ?, ?, ?)'),
      insertKey: db.prepare('INSERT INTO api_keys (key_hash, user_id, created_at, id, name) VALUES (?, ?, ?, ?, ?)'),
      insertSession: db.prepare(
        'INSERT INTO device_sessions (id, user_id, token_hash, device_name, created_at, last_active_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      dropExpired: db.prepare('DELETE FROM device_sessions WHERE user_id = ? AND expires_at <= ?'),
      upsertPassword: db.prepare(
        'INSERT INTO passwords (user_id, hash, updated_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at',
      ),
      passwordOf: db.prepare<[string], { hash: string }>('SELECT hash FROM passwords WHERE user_id = ?'),
      bySessionHash: db.prepare<[string, string], FoundRow<string>>(
        `SELECT ${USER_COLUMNS}, 'session' AS kind, s.id AS cred_id, s.last_active_at, s.expires_at
           FROM device_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?
             AND NOT EXISTS (SELECT 1 FROM suspensions x WHERE x.user_id = u.id)`,
      ),
      byKeyHash: db.prepare<[string], FoundRow<string>>(
        `SELECT ${USER_COLUMNS}, 'key' AS kind, k.id AS cred_id, k.last_used_at AS last_active_at, NULL AS expires_at
           FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?
             AND NOT EXISTS (SELECT 1 FROM suspensions x WHERE x.user_id = u.id)`,
      ),
      sessions: db.prepare<[string, string], SessionRow<string>>(
        'SELECT * FROM device_sessions WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id DESC',
      ),
      sessionIds: db.prepare<[string, string], { id: string }>(
        'SELECT id FROM device_sessions WHERE user_id = ? AND id != ?',
      ),
      deleteOthers: db.prepare('DELETE FROM device_sessions WHERE user_id = ? AND id != ?'),
      touchSession: db.prepare('UPDATE device_sessions SET last_active_at = ?, expires_at = ? WHERE id = ?'),
      deleteSession: db.prepare('DELETE FROM device_sessions WHERE user_id = ? AND id = ?'),
      keys: db.prepare<[string], KeyRow<string>>(
        'SELECT id, user_id, name, created_at, last_used_at FROM api_keys WHERE user_id = ? ORDER BY created_at, id',
      ),
      touchKey: db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
      deleteKey: db.prepare('DELETE FROM api_keys WHERE user_id = ? AND id = ?'),
    };
  }

  async createAccount(user: NewAccount, first: FirstCredential): Promise<User> {
    return this.db
      .transaction(() => {
        if (this.s.userByName.get(user.username)) throw new AppError('conflict', 'username is taken');
        this.s.insertUser.run(user.id, user.username, user.displayName, user.createdAt);
        if ('apiKey' in first) this.insertKey(first.apiKey);
        else {
          this.s.upsertPassword.run(user.id, first.passwordHash, user.createdAt);
          this.insertSession(first.session);
        }
        return newUser(user);
      })
      .immediate();
  }

  async byHash(hash: string, now: string): Promise<CredentialRecord | null> {
    const row = this.s.bySessionHash.get(hash, now) ?? this.s.byKeyHash.get(hash);
    if (!row) return null;
    return recordFromRow(row, text);
  }

  async passwordByUsername(username: string): Promise<{ user: User; passwordHash: string | null } | null> {
    const row = this.s.userByName.get(username);
    if (!row) return null;
    return { user: toUser(row), passwordHash: this.s.passwordOf.get(row.id)?.hash ?? null };
  }

  async passwordHash(userId: string): Promise<string | null> {
    return this.s.passwordOf.get(userId)?.hash ?? null;
  }

  async setPassword(userId: string, passwordHash: string, keepSessionId: string | null): Promise<string[]> {
    return this.db
      .transaction(() => {
        const keep = keepSessionId ?? '';
        const ended = this.s.sessionIds.all(userId, keep).map((r) => r.id);
        this.s.deleteOthers.run(userId, keep);
        this.s.upsertPassword.run(userId, passwordHash, new Date().toISOString());
        return ended;
      })
      .immediate();
  }

  async createSession(session: NewSession): Promise<void> {
    this.db.transaction(() => this.insertSession(session)).immediate();
  }

  async sessions(userId: string, now: string): Promise<StoredSession[]> {
    return this.s.sessions.all(userId, now).map((r) => sessionFromRow(r, text));
  }

  async touchSession(id: string, lastActiveAt: string, expiresAt: string): Promise<void> {
    this.s.touchSession.run(lastActiveAt, expiresAt, id);
  }

  async deleteSession(userId: string, id: string): Promise<boolean> {
    return this.s.deleteSession.run(userId, id).changes > 0;
  }

  async createApiKey(key: NewApiKey): Promise<void> {
    this.insertKey(key);
  }

  async apiKeys(userId: string): Promise<StoredApiKey[]> {
    return this.s.keys.all(userId).map((r) => keyFromRow(r, text));
  }

  async touchApiKey(id: string, lastUsedAt: string): Promise<void> {
    this.s.touchKey.run(lastUsedAt, id);
  }

  async deleteApiKey(userId: string, id: string): Promise<boolean> {
    return this.s.deleteKey.run(userId, id).changes > 0;
  }

  async close(): Promise<void> {}

  private insertKey(key: NewApiKey): void {
    this.s.insertKey.run(key.keyHash, key.userId, key.createdAt, key.id, key.name);
  }

  private insertSession(s: NewSession): void {
    this.s.dropExpired.run(s.userId, s.createdAt);
    this.s.insertSession.run(s.id, s.userId, s.tokenHash, s.deviceName, s.createdAt, s.createdAt, s.expiresAt);
  }
}

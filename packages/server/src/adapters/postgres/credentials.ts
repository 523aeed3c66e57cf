// PostgresCredentials: password hashes, device sessions and API keys in the cluster's database.
import type { User } from '@messenger/protocol';
import DataLoader from 'dataloader';
import type { PoolClient } from 'pg';
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
import { BATCHED_READS, PgStore } from './pool.js';
import { toUser, type UserRow } from './rows.js';

type Found = FoundRow<Date> & { hash: string };

const isoDate = (d: Date) => d.toISOString();

interface Touch {
  id: string;
  at: string;
  until: string | null;
}

/** Long enough to gather a connect wave's touches, short enough that a listing soon shows the use. */
const TOUCH_WINDOW_MS = 50;
const TOUCHES = {
  cache: false,
  maxBatchSize: 1000,
  batchScheduleFn: (run: () => void) => void setTimeout(run, TOUCH_WINDOW_MS),
} as const;

/**
 * A connect wave's event-loop turns each carry a socket or two: the reads of LOOKUP_WINDOW_MS share
 * one query instead, for a few milliseconds more on an uncached authentication.
 */
const LOOKUP_WINDOW_MS = 5;
const LOOKUPS = { ...BATCHED_READS, batchScheduleFn: (run: () => void) => void setTimeout(run, LOOKUP_WINDOW_MS) };

/** One touch per credential (the latest): UPDATE ... FROM picks an arbitrary row among duplicates. */
function latestById(touches: readonly Touch[]): Touch[] {
  const latest = new Map<string, Touch>();
  for (const t of touches) {
    const seen = latest.get(t.id);
    if (!seen || seen.at <= t.at) latest.set(t.id, t);
  }
  return [...latest.values()];
}

export class PostgresCredentials extends PgStore implements CredentialStore {
  async createAccount(user: NewAccount, first: FirstCredential): Promise<User> {
    return this.db.tx(async (client) => {
      const inserted = await client.query(
        'INSERT INTO users (id, username, display_name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING',
        [user.id, user.username, user.displayName, user.createdAt],
      );
      if (inserted.rowCount === 0) throw new AppError('conflict', 'username is taken');
      if ('apiKey' in first) await insertKey(client, first.apiKey);
      else {
        await client.query('INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3)', [
          user.id,
          first.passwordHash,
          user.createdAt,
        ]);
        await insertSession(client, first.session);
      }
      return newUser(user);
    });
  }

  /**
   * Every socket's auth frame and every HTTP request past the authenticator's cache asks this, so
   * the asks of one event-loop turn share one query (a reconnect storm is a round trip per turn).
   */
  private readonly found = new DataLoader<string, Found | null>(async (hashes) => {
    const rows = await this.db.query<Found>(
      `SELECT s.token_hash AS hash, 'session' AS kind, s.id AS cred_id, s.last_active_at, s.expires_at, ${USER_COLUMNS}
         FROM device_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM suspensions x WHERE x.user_id = u.id)
       UNION ALL
       SELECT k.key_hash, 'key', k.id, k.last_used_at, NULL, ${USER_COLUMNS}
         FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM suspensions x WHERE x.user_id = u.id)`,
      [hashes],
      'messenger.credentials-by-hash',
    );
    const byHash = new Map(rows.map((row) => [row.hash, row]));
    return hashes.map((hash) => byHash.get(hash) ?? null);
  }, LOOKUPS);

  async byHash(hash: string, now: string): Promise<CredentialRecord | null> {
    const row = await this.found.load(hash);
    if (!row || (row.expires_at && row.expires_at.toISOString() <= now)) return null;
    return recordFromRow(row, isoDate);
  }

  async passwordByUsername(username: string): Promise<{ user: User; passwordHash: string | null } | null> {
    const [row] = await this.db.query<UserRow & { hash: string | null }>(
      `SELECT ${USER_COLUMNS}, p.hash FROM users u LEFT JOIN passwords p ON p.user_id = u.id WHERE u.username = $1`,
      [username],
    );
    return row ? { user: toUser(row), passwordHash: row.hash } : null;
  }

  async passwordHash(userId: string): Promise<string | null> {
    const [row] = await this.db.query<{ hash: string }>('SELECT hash FROM passwords WHERE user_id = $1', [userId]);
    return row?.hash ?? null;
  }

  async setPassword(userId: string, passwordHash: string, keepSessionId: string | null): Promise<string[]> {
    return this.db.tx(async (client) => {
      const ended = await client.query<{ id: string }>(
        'DELETE FROM device_sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2 RETURNING id',
        [userId, keepSessionId],
      );
      await client.query(
        `INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`,
        [userId, passwordHash],
      );
      return ended.rows.map((r) => r.id);
    });
  }

  async createSession(session: NewSession): Promise<void> {
    await this.db.tx((client) => insertSession(client, session));
  }

  async sessions(userId: string, now: string): Promise<StoredSession[]> {
    const rows = await this.db.query<SessionRow<Date>>(
      'SELECT * FROM device_sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, id DESC',
      [userId, now],
    );
    return rows.map((r) => sessionFromRow(r, isoDate));
  }

  /**
   * A connect wave authenticates thousands of credentials unused for a minute or more: touched one
   * UPDATE (and one commit) each, they cost the gateway and PostgreSQL more than the rest of the
   * accept. The touches of TOUCH_WINDOW_MS share one statement per table.
   */
  private readonly sessionTouches = new DataLoader<Touch, void>(async (touches) => {
    const latest = latestById(touches);
    await this.db.query(
      `UPDATE device_sessions s SET last_active_at = t.at, expires_at = t.until
         FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS t(id, at, until) WHERE s.id = t.id`,
      [latest.map((t) => t.id), latest.map((t) => t.at), latest.map((t) => t.until)],
      'messenger.touch-sessions',
    );
    return touches.map(() => undefined);
  }, TOUCHES);

  private readonly keyTouches = new DataLoader<Touch, void>(async (touches) => {
    const latest = latestById(touches);
    await this.db.query(
      `UPDATE api_keys k SET last_used_at = t.at
         FROM unnest($1::text[], $2::timestamptz[]) AS t(id, at) WHERE k.id = t.id`,
      [latest.map((t) => t.id), latest.map((t) => t.at)],
      'messenger.touch-keys',
    );
    return touches.map(() => undefined);
  }, TOUCHES);

  async touchSession(id: string, lastActiveAt: string, expiresAt: string): Promise<void> {
    await this.sessionTouches.load({ id, at: lastActiveAt, until: expiresAt });
  }

  async deleteSession(userId: string, id: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM device_sessions WHERE user_id = $1 AND id = $2 RETURNING id', [
      userId,
      id,
    ]);
    return rows.length > 0;
  }

  async createApiKey(key: NewApiKey): Promise<void> {
    await this.db.tx((client) => insertKey(client, key));
  }

  async apiKeys(userId: string): Promise<StoredApiKey[]> {
    const rows = await this.db.query<KeyRow<Date>>(
      'SELECT id, user_id, name, created_at, last_used_at FROM api_keys WHERE user_id = $1 ORDER BY created_at, id',
      [userId],
    );
    return rows.map((r) => keyFromRow(r, isoDate));
  }

  async touchApiKey(id: string, lastUsedAt: string): Promise<void> {
    await this.keyTouches.load({ id, at: lastUsedAt, until: null });
  }

  async deleteApiKey(userId: string, id: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM api_keys WHERE user_id = $1 AND id = $2 RETURNING id', [userId, id]);
    return rows.length > 0;
  }

  async close(): Promise<void> {}
}

async function insertKey(client: PoolClient, key: NewApiKey): Promise<void> {
  await client.query('INSERT INTO api_keys (key_hash, user_id, created_at, id, name) VALUES ($1, $2, $3, $4, $5)', [
    key.keyHash,
    key.userId,
    key.createdAt,
    key.id,
    key.name,
  ]);
}

async function insertSession(client: PoolClient, s: NewSession): Promise<void> {
  await client.query('DELETE FROM device_sessions WHERE user_id = $1 AND expires_at <= $2', [s.userId, s.createdAt]);
  await client.query(
    `INSERT INTO device_sessions (id, user_id, token_hash, device_name, created_at, last_active_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $5, $6)`,
    [s.id, s.userId, s.tokenHash, s.deviceName, s.createdAt, s.expiresAt],
  );
}

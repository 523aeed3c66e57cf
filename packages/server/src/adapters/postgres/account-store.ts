// The account-wide writes and reads in PostgreSQL: profile, closing an account, a sender's
// messages (through message_keys, indexed by sender, rather than the partitioned messages), and
// which credentials still hold or have ended (the gateways' periodic re-check).
import type { Message, User } from '@messenger/protocol';
import type { AccountStore } from '../../core/users/account-store.js';
import { PgStore } from './pool.js';
import { MESSAGE_COLUMNS, type MessageRow, toMessage, toUser, type UserRow } from './rows.js';

export class PostgresAccountStore extends PgStore implements AccountStore {
  async setDisplayName(userId: string, displayName: string): Promise<User | null> {
    const rows = await this.db.query<UserRow>(
      'UPDATE users SET display_name = $2 WHERE id = $1 RETURNING id, username, display_name, created_at, avatar_upload_id',
      [userId, displayName],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  async setAvatar(userId: string, uploadId: string | null): Promise<{ user: User | null; previous: string | null }> {
    // The old value comes from a row lock taken by the same statement, so two changes cannot both see it.
    const rows = await this.db.query<UserRow & { previous: string | null }>(
      `UPDATE users u SET avatar_upload_id = $2 FROM (SELECT id, avatar_upload_id AS previous FROM users WHERE id = $1 FOR UPDATE) o
        WHERE u.id = o.id RETURNING u.id, u.username, u.display_name, u.created_at, u.avatar_upload_id, o.previous`,
      [userId, uploadId],
    );
    const row = rows[0];
    return { user: row ? toUser(row) : null, previous: row?.previous ?? null };
  }

  async closeAccount(userId: string, tombstone: { username: string; displayName: string }): Promise<string[]> {
    return this.db.tx(async (client) => {
      const sessions = await client.query<{ id: string }>(
        'DELETE FROM device_sessions WHERE user_id = $1 RETURNING id',
        [userId],
      );
      const keys = await client.query<{ id: string }>('DELETE FROM api_keys WHERE user_id = $1 RETURNING id', [userId]);
      await client.query('DELETE FROM passwords WHERE user_id = $1', [userId]);
      await client.query('UPDATE users SET username = $2, display_name = $3, presence_visible = false WHERE id = $1', [
        userId,
        tombstone.username,
        tombstone.displayName,
      ]);
      return [...sessions.rows, ...keys.rows].map((r) => r.id);
    });
  }

  async sentMessages(senderId: string, afterClientMsgId: string | null, limit: number): Promise<Message[]> {
    const rows = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM message_keys k
         JOIN messages m ON m.conversation_id = k.conversation_id AND m.seq = k.seq
        WHERE k.sender_id = $1 AND k.client_msg_id > $2 AND m.deleted_at IS NULL
        ORDER BY k.client_msg_id LIMIT $3`,
      [senderId, afterClientMsgId ?? '', limit],
    );
    return rows.map(toMessage);
  }

  async liveCredentials(ids: string[], now: string): Promise<Map<string, string | null>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.query<{ id: string; expires_at: Date | null }>(
      `SELECT id, expires_at FROM device_sessions WHERE id = ANY($1::text[]) AND expires_at > $2
         AND user_id NOT IN (SELECT user_id FROM suspensions)
       UNION ALL SELECT id, NULL FROM api_keys WHERE id = ANY($1::text[])
         AND user_id NOT IN (SELECT user_id FROM suspensions)`,
      [ids, now],
    );
    return new Map(rows.map((r) => [r.id, r.expires_at ? r.expires_at.toISOString() : null]));
  }

  async endedCredentials(since: string): Promise<{ ids: string[]; at: string }> {
    const rows = await this.db.query<{ id: string | null; at: Date }>(
      `SELECT credential_id AS id, now() AS at FROM credential_ends WHERE ended_at > $1
       UNION ALL SELECT NULL, now()`,
      [since],
    );
    return { ids: rows.flatMap((r) => (r.id === null ? [] : [r.id])), at: rows[0]!.at.toISOString() };
  }

  async forgetEndedCredentials(before: string): Promise<void> {
    await this.db.query('DELETE FROM credential_ends WHERE ended_at < $1', [before]);
  }
}

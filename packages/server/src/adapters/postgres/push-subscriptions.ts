// PostgresPushSubscriptions: Web Push subscriptions in the cluster's database, plus the badge query.
import type { PushSubscriptionRecord, PushSubscriptions } from '../../core/notifications/subscriptions.js';
import { PgStore } from './pool.js';

interface Row {
  endpoint: string;
  user_id: string;
  p256dh: string;
  auth: string;
  created_at: Date;
}

const toRecord = (r: Row): PushSubscriptionRecord => ({
  userId: r.user_id,
  endpoint: r.endpoint,
  p256dh: r.p256dh,
  auth: r.auth,
  createdAt: r.created_at.toISOString(),
});

export class PostgresPushSubscriptions extends PgStore implements PushSubscriptions {
  async save(sub: PushSubscriptionRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at`,
      [sub.endpoint, sub.userId, sub.p256dh, sub.auth, sub.createdAt],
    );
  }

  async remove(userId: string, endpoint: string): Promise<boolean> {
    const rows = await this.db.query(
      'DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2 RETURNING endpoint',
      [userId, endpoint],
    );
    return rows.length > 0;
  }

  async removeEndpoint(endpoint: string): Promise<void> {
    await this.db.query('DELETE FROM push_subscriptions WHERE endpoint = $1', [endpoint]);
  }

  async forUsers(userIds: string[]): Promise<PushSubscriptionRecord[]> {
    const ids = [...new Set(userIds)];
    if (ids.length === 0) return [];
    const rows = await this.db.query<Row>(
      'SELECT * FROM push_subscriptions WHERE user_id = ANY($1::text[]) ORDER BY created_at, endpoint',
      [ids],
    );
    // Oldest first per user, users in the order asked.
    return ids.flatMap((id) => rows.filter((r) => r.user_id === id).map(toRecord));
  }

  /** The chat list's per-conversation unread rule (conversations.ts), summed over memberships. */
  async unreadTotal(userId: string): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM members mb JOIN messages m ON m.conversation_id = mb.conversation_id
        WHERE mb.user_id = $1 AND mb.request_state = 'accepted' AND m.seq > GREATEST(mb.read_seq, mb.joined_seq) AND m.sender_id <> $1 AND m.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = $1 AND h.conversation_id = m.conversation_id AND h.seq = m.seq)`,
      [userId],
    );
    return rows[0]?.n ?? 0;
  }

  async close(): Promise<void> {}
}

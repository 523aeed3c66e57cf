// SqlitePushSubscriptions: Web Push subscriptions in the embedded database, plus the badge query.
import type { PushSubscriptionRecord, PushSubscriptions } from '../../core/notifications/subscriptions.js';
import type { Db } from './db.js';

interface Row {
  endpoint: string;
  user_id: string;
  p256dh: string;
  auth: string;
  created_at: string;
}

const toRecord = (r: Row): PushSubscriptionRecord => ({
  userId: r.user_id,
  endpoint: r.endpoint,
  p256dh: r.p256dh,
  auth: r.auth,
  createdAt: r.created_at,
});

export class SqlitePushSubscriptions implements PushSubscriptions {
  private readonly s;

  constructor(deps: { db: Db }) {
    const db = deps.db;
    this.s = {
      upsert: db.prepare(
        `INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at`,
      ),
      remove: db.prepare('DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?'),
      removeEndpoint: db.prepare('DELETE FROM push_subscriptions WHERE endpoint = ?'),
      forUser: db.prepare<[string], Row>(
        'SELECT * FROM push_subscriptions WHERE user_id = ? ORDER BY created_at, endpoint',
      ),
      // The chat list's per-conversation unread rule (conversations.ts), summed over memberships.
      unreadTotal: db.prepare<[string, string, string], { n: number }>(
        `SELECT COUNT(*) AS n FROM members mb JOIN messages m ON m.conversation_id = mb.conversation_id
         WHERE mb.user_id = ? AND mb.request_state = 'accepted' AND m.seq > MAX(mb.read_seq, mb.joined_seq) AND m.sender_id != ? AND m.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ? AND h.conversation_id = m.conversation_id AND h.seq = m.seq)`,
      ),
    };
  }

  async save(sub: PushSubscriptionRecord): Promise<void> {
    this.s.upsert.run(sub.endpoint, sub.userId, sub.p256dh, sub.auth, sub.createdAt);
  }

  async remove(userId: string, endpoint: string): Promise<boolean> {
    return this.s.remove.run(userId, endpoint).changes > 0;
  }

  async removeEndpoint(endpoint: string): Promise<void> {
    this.s.removeEndpoint.run(endpoint);
  }

  async forUsers(userIds: string[]): Promise<PushSubscriptionRecord[]> {
    return [...new Set(userIds)].flatMap((id) => this.s.forUser.all(id).map(toRecord));
  }

  async unreadTotal(userId: string): Promise<number> {
    return this.s.unreadTotal.get(userId, userId, userId)?.n ?? 0;
  }

  /** The database belongs to the backend, which closes it. */
  async close(): Promise<void> {}
}

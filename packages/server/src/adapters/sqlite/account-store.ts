// The account-wide writes and reads in SQLite: profile, closing an account, a sender's messages,
// and which credentials still hold or have ended (the gateways' periodic re-check).
import type { Message, User } from '@messenger/protocol';
import type { AccountStore } from '../../core/users/account-store.js';
import type { Db } from './db.js';
import { type MessageRow, toUser, type UserRow } from './rows.js';

export class SqliteAccountStore implements AccountStore {
  private readonly db: Db;
  private readonly withReactions: (rows: MessageRow[]) => Message[];
  private readonly s;

  constructor(deps: { db: Db; withReactions: (rows: MessageRow[]) => Message[] }) {
    const db = (this.db = deps.db);
    this.withReactions = deps.withReactions;
    this.s = {
      rename: db.prepare('UPDATE users SET display_name = ? WHERE id = ?'),
      setAvatar: db.prepare('UPDATE users SET avatar_upload_id = ? WHERE id = ?'),
      user: db.prepare<[string], UserRow>(
        'SELECT id, username, display_name, created_at, avatar_upload_id FROM users WHERE id = ?',
      ),
      sessionIds: db.prepare<[string], { id: string }>('SELECT id FROM device_sessions WHERE user_id = ?'),
      keyIds: db.prepare<[string], { id: string }>('SELECT id FROM api_keys WHERE user_id = ?'),
      dropSessions: db.prepare('DELETE FROM device_sessions WHERE user_id = ?'),
      dropKeys: db.prepare('DELETE FROM api_keys WHERE user_id = ?'),
      dropPassword: db.prepare('DELETE FROM passwords WHERE user_id = ?'),
      tombstone: db.prepare('UPDATE users SET username = ?, display_name = ?, presence_visible = 0 WHERE id = ?'),
      sent: db.prepare<[string, string, number], MessageRow>(
        `SELECT * FROM messages WHERE sender_id = ? AND client_msg_id > ? AND deleted_at IS NULL
         ORDER BY client_msg_id LIMIT ?`,
      ),
      liveSessions: db.prepare<[string, string], { id: string; expires_at: string }>(
        `SELECT id, expires_at FROM device_sessions WHERE id IN (SELECT value FROM json_each(?)) AND expires_at > ?
           AND user_id NOT IN (SELECT user_id FROM suspensions)`,
      ),
      liveKeys: db.prepare<[string], { id: string }>(
        `SELECT id FROM api_keys WHERE id IN (SELECT value FROM json_each(?))
           AND user_id NOT IN (SELECT user_id FROM suspensions)`,
      ),
      ended: db.prepare<[string], { id: string }>('SELECT credential_id AS id FROM credential_ends WHERE ended_at > ?'),
      clock: db.prepare<[], { at: string }>("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS at"),
      forgetEnded: db.prepare('DELETE FROM credential_ends WHERE ended_at < ?'),
    };
  }

  async setDisplayName(userId: string, displayName: string): Promise<User | null> {
    this.s.rename.run(displayName, userId);
    return this.user(userId);
  }

  async setAvatar(userId: string, uploadId: string | null): Promise<{ user: User | null; previous: string | null }> {
    const previous = this.s.user.get(userId)?.avatar_upload_id ?? null;
    this.s.setAvatar.run(uploadId, userId);
    return { user: this.user(userId), previous };
  }

  private user(userId: string): User | null {
    const row = this.s.user.get(userId);
    return row ? toUser(row) : null;
  }

  async closeAccount(userId: string, tombstone: { username: string; displayName: string }): Promise<string[]> {
    return this.db
      .transaction(() => {
        const ended = [...this.s.sessionIds.all(userId), ...this.s.keyIds.all(userId)].map((r) => r.id);
        this.s.dropSessions.run(userId);
        this.s.dropKeys.run(userId);
        this.s.dropPassword.run(userId);
        this.s.tombstone.run(tombstone.username, tombstone.displayName, userId);
        return ended;
      })
      .immediate();
  }

  async sentMessages(senderId: string, afterClientMsgId: string | null, limit: number): Promise<Message[]> {
    return this.withReactions(this.s.sent.all(senderId, afterClientMsgId ?? '', limit));
  }

  async liveCredentials(ids: string[], now: string): Promise<Map<string, string | null>> {
    if (ids.length === 0) return new Map();
    const json = JSON.stringify(ids);
    const live = new Map<string, string | null>();
    for (const r of this.s.liveSessions.all(json, now)) live.set(r.id, r.expires_at);
    for (const r of this.s.liveKeys.all(json)) live.set(r.id, null);
    return live;
  }

  async endedCredentials(since: string): Promise<{ ids: string[]; at: string }> {
    const at = this.s.clock.get()!.at;
    return { ids: this.s.ended.all(since).map((r) => r.id), at };
  }

  async forgetEndedCredentials(before: string): Promise<void> {
    this.s.forgetEnded.run(before);
  }
}

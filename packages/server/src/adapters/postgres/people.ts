// The people directory in PostgreSQL: prefix ranges in code-point order (COLLATE "C") over the
// expression indexes on lower(username) and lower(display_name), whatever the database's collation.
import type { User } from '@messenger/protocol';
import { DELETED_USERNAME_PREFIX, type PeopleDirectory, prefixEnd } from '../../core/users/people-directory.js';
import type { PgDb } from './pool.js';
import { toUser, type UserRow } from './rows.js';

const USERNAME = '(lower(u.username) COLLATE "C")';
const DISPLAY_NAME = '(lower(u.display_name) COLLATE "C")';

export class PostgresPeople implements PeopleDirectory {
  private readonly db: PgDb;

  constructor(db: PgDb) {
    this.db = db;
  }

  async setDiscoverable(userId: string, discoverable: boolean): Promise<void> {
    await this.db.query('UPDATE users SET discoverable = $1 WHERE id = $2', [discoverable, userId]);
  }

  async searchPeople(viewerId: string, prefix: string, limit: number): Promise<User[]> {
    const rows = await this.db.query<UserRow>(
      `SELECT u.id, u.username, u.display_name, u.created_at, u.avatar_upload_id FROM users u
        WHERE ((${USERNAME} >= $2 AND ${USERNAME} < $3) OR (${DISPLAY_NAME} >= $2 AND ${DISPLAY_NAME} < $3))
          AND u.discoverable AND u.id != $1 AND NOT starts_with(u.username, $4)
          AND NOT EXISTS (SELECT 1 FROM suspensions s WHERE s.user_id = u.id)
          AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = u.id AND b.blocked_id = $1)
        ORDER BY ${USERNAME}, u.id LIMIT $5`,
      [viewerId, prefix, prefixEnd(prefix), DELETED_USERNAME_PREFIX, limit],
      'messenger.people-search',
    );
    return rows.map(toUser);
  }
}

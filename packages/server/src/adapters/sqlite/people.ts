// The people directory in SQLite: prefix ranges over the lower(username) and lower(display_name)
// indexes. SQLite's lower() folds ASCII only, so a non-ASCII capital in a name matches only as typed.
import type { User } from '@messenger/protocol';
import { DELETED_USERNAME_PREFIX, type PeopleDirectory, prefixEnd } from '../../core/users/people-directory.js';
import type { Db } from './db.js';
import { toUser, type UserRow } from './rows.js';

export class SqlitePeople implements PeopleDirectory {
  private readonly s;

  constructor(deps: { db: Db }) {
    const db = deps.db;
    this.s = {
      setDiscoverable: db.prepare('UPDATE users SET discoverable = ? WHERE id = ?'),
      search: db.prepare<{ viewer: string; from: string; to: string; deleted: string; limit: number }, UserRow>(
        `SELECT u.id, u.username, u.display_name, u.created_at, u.avatar_upload_id FROM users u
          WHERE ((lower(u.username) >= :from AND lower(u.username) < :to)
                 OR (lower(u.display_name) >= :from AND lower(u.display_name) < :to))
            AND u.discoverable = 1 AND u.id != :viewer AND substr(u.username, 1, length(:deleted)) != :deleted
            AND NOT EXISTS (SELECT 1 FROM suspensions s WHERE s.user_id = u.id)
            AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = u.id AND b.blocked_id = :viewer)
          ORDER BY lower(u.username), u.id LIMIT :limit`,
      ),
    };
  }

  async setDiscoverable(userId: string, discoverable: boolean): Promise<void> {
    this.s.setDiscoverable.run(discoverable ? 1 : 0, userId);
  }

  async searchPeople(viewerId: string, prefix: string, limit: number): Promise<User[]> {
    const rows = this.s.search.all({
      viewer: viewerId,
      from: prefix,
      to: prefixEnd(prefix),
      deleted: DELETED_USERNAME_PREFIX,
      limit,
    });
    return rows.map(toUser);
  }
}

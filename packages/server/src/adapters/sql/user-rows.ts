// The users columns that make a User, the same in SQLite and PostgreSQL; only how the creation
// time arrives differs (ISO text in SQLite, Date in PostgreSQL).
import type { User } from '@messenger/protocol';
import { avatarPath } from '../../core/media/attachments.js';

export interface UserRow<Time> {
  id: string;
  username: string;
  display_name: string;
  created_at: Time;
  avatar_upload_id?: string | null;
}

/** The columns of a UserRow, of the users table as alias `u`. */
export const USER_COLUMNS = 'u.id, u.username, u.display_name, u.created_at, u.avatar_upload_id';

export function userFromRow<Time>(row: UserRow<Time>, iso: (t: Time) => string): User {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    createdAt: iso(row.created_at),
    avatarUrl: avatarPath(row.avatar_upload_id),
  };
}

/** The User a row just inserted stands for: no photo yet. */
export function newUser(u: { id: string; username: string; displayName: string; createdAt: string }): User {
  return { id: u.id, username: u.username, displayName: u.displayName, createdAt: u.createdAt, avatarUrl: null };
}

// The device_sessions and api_keys rows, the same columns in SQLite and PostgreSQL; only how times
// arrive differs (ISO text in SQLite, Date in PostgreSQL).
import type { CredentialRecord, StoredApiKey, StoredSession } from '../../core/users/credential-store.js';
import { type UserRow, userFromRow } from './user-rows.js';

/** The columns a session and a key both have. */
interface CredentialRow<Time> {
  id: string;
  user_id: string;
  created_at: Time;
}

export interface SessionRow<Time> extends CredentialRow<Time> {
  device_name: string;
  last_active_at: Time;
  expires_at: Time;
}

export interface KeyRow<Time> extends CredentialRow<Time> {
  name: string;
  last_used_at: Time | null;
}

const credentialFromRow = <Time>(r: CredentialRow<Time>, iso: (t: Time) => string) => ({
  id: r.id,
  userId: r.user_id,
  createdAt: iso(r.created_at),
});

export function sessionFromRow<Time>(r: SessionRow<Time>, iso: (t: Time) => string): StoredSession {
  return {
    ...credentialFromRow(r, iso),
    deviceName: r.device_name,
    lastActiveAt: iso(r.last_active_at),
    expiresAt: iso(r.expires_at),
  };
}

export function keyFromRow<Time>(r: KeyRow<Time>, iso: (t: Time) => string): StoredApiKey {
  return {
    ...credentialFromRow(r, iso),
    name: r.name,
    lastUsedAt: r.last_used_at === null ? null : iso(r.last_used_at),
  };
}

/** A row of the look-up by token or key hash: the credential (a key's last use as its last activity) and its user. */
export type FoundRow<Time> = UserRow<Time> & {
  kind: 'session' | 'key';
  cred_id: string;
  last_active_at: Time | null;
  expires_at: Time | null;
};

export function recordFromRow<Time>(row: FoundRow<Time>, iso: (t: Time) => string): CredentialRecord {
  return {
    kind: row.kind,
    id: row.cred_id,
    user: userFromRow(row, iso),
    lastActiveAt: row.last_active_at === null ? null : iso(row.last_active_at),
    expiresAt: row.expires_at === null ? null : iso(row.expires_at),
  };
}

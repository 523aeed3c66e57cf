// The device_sessions and api_keys rows, the same columns in SQLite and PostgreSQL; only how times
// arrive differs (ISO text in SQLite, Date in PostgreSQL).
import type { StoredApiKey, StoredSession } from '../../core/users/credential-store.js';

export interface SessionRow<Time> {
  id: string;
  user_id: string;
  device_name: string;
  created_at: Time;
  last_active_at: Time;
  expires_at: Time;
}

export interface KeyRow<Time> {
  id: string;
  user_id: string;
  name: string;
  created_at: Time;
  last_used_at: Time | null;
}

export function sessionFromRow<Time>(r: SessionRow<Time>, iso: (t: Time) => string): StoredSession {
  return {
    id: r.id,
    userId: r.user_id,
    deviceName: r.device_name,
    createdAt: iso(r.created_at),
    lastActiveAt: iso(r.last_active_at),
    expiresAt: iso(r.expires_at),
  };
}

export function keyFromRow<Time>(r: KeyRow<Time>, iso: (t: Time) => string): StoredApiKey {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    createdAt: iso(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : iso(r.last_used_at),
  };
}

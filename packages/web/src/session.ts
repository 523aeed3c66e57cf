// This browser's credential, kept in localStorage so a reload stays signed in: a device session's
// token (revocable, expiring), or the API key an older version signed up with, until sign-out.
// Why localStorage is acceptable here: docs/architecture.md, "Web client credentials".

const KEY = 'messenger.session';

export interface Session {
  userId: string;
  /** From sign-up or sign-in with a password. */
  token?: string;
  /** An API key stored by an earlier version of the app; it keeps working until the user signs out. */
  apiKey?: string;
}

/** What goes in the Bearer header and the socket's auth frame. */
export function credentialOf(session: Session): string {
  return session.token ?? session.apiKey ?? '';
}

export function loadSession(): Session | null {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<Session> | null;
    if (value && typeof value === 'object' && typeof value.userId === 'string') {
      if (typeof value.token === 'string') return { userId: value.userId, token: value.token };
      if (typeof value.apiKey === 'string') return { userId: value.userId, apiKey: value.apiKey };
    }
  } catch {
    // A corrupt value is the same as none.
  }
  return null;
}

export function saveSession(session: Session | null): void {
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
}

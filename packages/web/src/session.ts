// The signed-in user's API key, kept in localStorage so a reload stays signed in.
import type { Session } from './store.js';

const KEY = 'messenger.session';

export function loadSession(): Session | null {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(KEY) ?? 'null');
    if (
      value &&
      typeof value === 'object' &&
      typeof (value as Session).apiKey === 'string' &&
      typeof (value as Session).userId === 'string'
    ) {
      return value as Session;
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

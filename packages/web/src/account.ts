// The account's credentials from the web client: password sign-up and sign-in, this device's session
// and the others (Devices), and the password. Profile, export and deletion are separate.
import type { DeviceSession } from '@messenger/protocol';
import { MessengerClient, type HttpApi } from '@messenger/sdk';
import type { Session } from './session.js';

export async function signUp(body: { username: string; displayName?: string; password: string }): Promise<Session> {
  const { user, token } = await MessengerClient.signUp('', body);
  return { userId: user.id, token };
}

export async function signIn(body: { username: string; password: string }): Promise<Session> {
  const { user, token } = await MessengerClient.signIn('', { ...body, deviceName: deviceName() });
  return { userId: user.id, token };
}

/** "Firefox on Linux": enough to tell one's devices apart in the list. */
export function deviceName(userAgent = globalThis.navigator?.userAgent ?? ''): string {
  const browser =
    [
      ['Edge', /Edg\//],
      ['Opera', /OPR\//],
      ['Firefox', /Firefox\//],
      ['Chrome', /Chrom(e|ium)\//],
      ['Safari', /Safari\//],
    ].find(([, re]) => (re as RegExp).test(userAgent))?.[0] ?? 'Browser';
  const system =
    [
      ['Android', /Android/],
      ['iPhone', /iPhone/],
      ['iPad', /iPad/],
      ['Windows', /Windows/],
      ['macOS', /Mac OS X|Macintosh/],
      ['ChromeOS', /CrOS/],
      ['Linux', /Linux/],
    ].find(([, re]) => (re as RegExp).test(userAgent))?.[0] ?? null;
  return system ? `${browser} on ${system}` : String(browser);
}

export class Account {
  readonly #api: HttpApi;
  readonly #session: Session;

  constructor(deps: { api: HttpApi; session: Session }) {
    this.#api = deps.api;
    this.#session = deps.session;
  }

  /** Signed in with an API key from an earlier version: no device session, maybe no password yet. */
  get usesApiKey(): boolean {
    return this.#session.token === undefined;
  }

  /** This device first, then the most recently active. */
  async devices(): Promise<DeviceSession[]> {
    const sessions = await this.#api.listSessions();
    return sessions.sort(
      (a, b) => Number(b.current) - Number(a.current) || b.lastActiveAt.localeCompare(a.lastActiveAt),
    );
  }

  endSession(id: string): Promise<void> {
    return this.#api.endSession(id);
  }

  /** Every other device is signed out by the server; this one stays. No current password: setting a first one. */
  changePassword(currentPassword: string, newPassword: string): Promise<void> {
    return this.#api.changePassword(currentPassword ? { currentPassword, newPassword } : { newPassword });
  }
}

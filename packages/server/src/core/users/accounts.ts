// Accounts and devices: sign-up (with a password or a key), sign-in per device with brute-force
// limits, listing and ending sessions, changing the password, and API keys for bots and scripts.
// Ending a credential forgets it here at once and tells every gateway (revocations).
import { randomBytes } from 'node:crypto';
import {
  ACCOUNT_LIMITS,
  type ApiKeyCreatedResponse,
  type ApiKeyInfo,
  type CreateUserBody,
  type DeviceSession,
  type SessionCreatedResponse,
  type SignInBody,
  type User,
} from '@messenger/protocol';
import { AppError, forbidden, notFound } from '../../domain/errors.js';
import { newApiKey, newId } from '../../domain/ids.js';
import type { RateLimiter } from '../rate-limit.js';
import type { AttemptLimiter } from './attempt-limiter.js';
import { type Authenticator, type Identity, tokenHash } from './authenticator.js';
import type { CredentialStore, StoredApiKey, StoredSession } from './credential-store.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { Revocations } from './revocations.js';
import type { SuspensionStore } from '../safety/suspension-store.js';

export interface AccountsDeps {
  credentials: CredentialStore;
  authenticator: Authenticator;
  attempts: AttemptLimiter;
  revocations: Revocations;
  /** Sign-ups per client IP. */
  signups: RateLimiter;
  /** A suspended user's right password answers 403 (core/safety/moderation.ts). */
  suspensions?: Pick<SuspensionStore, 'isSuspended'>;
  now?: () => number;
}

const SIGN_UP_KEY_NAME = 'sign-up key';
const UNKNOWN_DEVICE = 'unknown device';

export class Accounts {
  private readonly d: AccountsDeps;
  private readonly now: () => number;

  constructor(deps: AccountsDeps) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
  }

  async signUp(
    input: CreateUserBody,
    clientIp: string,
    deviceName: string | undefined,
  ): Promise<{ user: User; apiKey: string } | SessionCreatedResponse> {
    const wait = this.d.signups.take(clientIp);
    if (wait > 0) throw new AppError('rate_limited', 'too many sign-ups from this address', wait);
    const now = this.now();
    const account = {
      id: newId('u'),
      username: input.username,
      displayName: input.displayName ?? input.username,
      createdAt: new Date(now).toISOString(),
    };
    if (input.password === undefined) {
      const apiKey = newApiKey();
      const user = await this.d.credentials.createAccount(account, {
        apiKey: {
          id: newId('k'),
          userId: account.id,
          keyHash: tokenHash(apiKey),
          name: SIGN_UP_KEY_NAME,
          createdAt: account.createdAt,
        },
      });
      return { user, apiKey };
    }
    const passwordHash = await hashPassword(input.password);
    const { session, token } = this.newSession(account.id, deviceName, now);
    const user = await this.d.credentials.createAccount(account, { passwordHash, session });
    return { user, session: this.view(session, session.id), token };
  }

  /**
   * A wrong username and a wrong password answer the same 401 after the same work. Past the
   * failures allowed per username or per IP, 429 until the window passes, even for the right one.
   */
  async signIn(input: SignInBody, clientIp: string, deviceName: string | undefined): Promise<SessionCreatedResponse> {
    const ipKey = `ip:${clientIp}`;
    const userKey = `user:${input.username}`;
    const ipWait = await this.d.attempts.take(ipKey, ACCOUNT_LIMITS.ipFailures, ACCOUNT_LIMITS.ipWindowMs);
    if (ipWait > 0) throw rateLimited(ipWait);
    const userWait = await this.d.attempts.take(
      userKey,
      ACCOUNT_LIMITS.usernameFailures,
      ACCOUNT_LIMITS.usernameWindowMs,
    );
    if (userWait > 0) {
      await this.d.attempts.refund(ipKey);
      throw rateLimited(userWait);
    }
    const found = await this.d.credentials.passwordByUsername(input.username);
    const ok = await verifyPassword(found?.passwordHash ?? null, input.password);
    if (!found || !ok) throw new AppError('unauthenticated', 'wrong username or password');
    if (await this.d.suspensions?.isSuspended(found.user.id))
      throw new AppError('forbidden', 'this account is suspended');
    await Promise.all([this.d.attempts.reset(userKey), this.d.attempts.refund(ipKey)]);
    const now = this.now();
    const { session, token } = this.newSession(found.user.id, input.deviceName ?? deviceName, now);
    await this.d.credentials.createSession(session);
    return { user: found.user, session: this.view(session, session.id), token };
  }

  async sessions(caller: Identity): Promise<DeviceSession[]> {
    const current = caller.kind === 'session' ? caller.credentialId : null;
    const sessions = await this.d.credentials.sessions(caller.user.id, new Date(this.now()).toISOString());
    return sessions.map((s) => this.view(s, current));
  }

  /** `id` may be `current`: signing out. */
  async endSession(caller: Identity, id: string): Promise<void> {
    const target = id === 'current' ? (caller.kind === 'session' ? caller.credentialId : null) : id;
    if (target === null || !(await this.d.credentials.deleteSession(caller.user.id, target))) throw notFound('session');
    await this.revoke([target]);
  }

  /**
   * Sets the password and ends every other session. An account without a password yet (made with
   * a key) sets its first one without `currentPassword`; a wrong one is 403, and counts as a
   * failed sign-in of the username (it is a password guess all the same).
   */
  async changePassword(
    caller: Identity,
    input: { currentPassword?: string | undefined; newPassword: string },
  ): Promise<void> {
    const userId = caller.user.id;
    const existing = await this.d.credentials.passwordHash(userId);
    if (existing !== null) {
      if (input.currentPassword === undefined) throw forbidden('currentPassword is required to change the password');
      const userKey = `user:${caller.user.username}`;
      const wait = await this.d.attempts.take(
        userKey,
        ACCOUNT_LIMITS.usernameFailures,
        ACCOUNT_LIMITS.usernameWindowMs,
      );
      if (wait > 0) throw rateLimited(wait);
      if (!(await verifyPassword(existing, input.currentPassword))) throw forbidden('currentPassword is wrong');
      await this.d.attempts.reset(userKey);
    }
    const passwordHash = await hashPassword(input.newPassword);
    const keep = caller.kind === 'session' ? caller.credentialId : null;
    await this.revoke(await this.d.credentials.setPassword(userId, passwordHash, keep));
  }

  async createApiKey(caller: Identity, name: string): Promise<ApiKeyCreatedResponse> {
    const key = newApiKey();
    const stored = {
      id: newId('k'),
      userId: caller.user.id,
      keyHash: tokenHash(key),
      name,
      createdAt: new Date(this.now()).toISOString(),
    };
    await this.d.credentials.createApiKey(stored);
    return { apiKey: keyView({ ...stored, lastUsedAt: null }), key };
  }

  async apiKeys(caller: Identity): Promise<ApiKeyInfo[]> {
    return (await this.d.credentials.apiKeys(caller.user.id)).map(keyView);
  }

  async revokeApiKey(caller: Identity, id: string): Promise<void> {
    if (!(await this.d.credentials.deleteApiKey(caller.user.id, id))) throw notFound('API key');
    await this.revoke([id]);
  }

  /**
   * Forgotten here before the answer leaves (this gateway answers 401 at once), then broadcast. A
   * broadcast that fails is not the client's error, and is covered: other gateways read the
   * credential again within their cache's age, and a gateway off the bus resyncs its sockets.
   */
  private async revoke(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    this.d.authenticator.forget(ids);
    await this.d.revocations.publish(ids).catch(() => undefined);
  }

  private newSession(userId: string, deviceName: string | undefined, now: number) {
    const token = `mt_${randomBytes(32).toString('base64url')}`;
    const createdAt = new Date(now).toISOString();
    const session = {
      id: newId('d'),
      userId,
      tokenHash: tokenHash(token),
      deviceName: deviceName ?? UNKNOWN_DEVICE,
      createdAt,
      expiresAt: this.d.authenticator.expiryFrom(now),
    };
    return { token, session: { ...session, lastActiveAt: createdAt } };
  }

  private view(s: Omit<StoredSession, 'userId'>, currentId: string | null): DeviceSession {
    return {
      id: s.id,
      deviceName: s.deviceName,
      createdAt: s.createdAt,
      lastActiveAt: s.lastActiveAt,
      expiresAt: s.expiresAt,
      current: s.id === currentId,
    };
  }
}

const keyView = (k: StoredApiKey): ApiKeyInfo => ({
  id: k.id,
  name: k.name,
  createdAt: k.createdAt,
  lastUsedAt: k.lastUsedAt,
});

const rateLimited = (waitMs: number) =>
  new AppError('rate_limited', 'too many failed sign-ins; wait and retry', Math.max(1, Math.ceil(waitMs / 1000)));

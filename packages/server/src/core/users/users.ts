// Sign-up, authentication by API key, lookup and the caller's own settings.
import crypto from 'node:crypto';
import type { User } from '@messenger/protocol';
import { AppError, notFound } from '../../domain/errors.js';
import { hashApiKey, newApiKey, newId } from '../../domain/ids.js';
import type { RateLimiter } from '../rate-limit.js';
import type { UserStore } from './user-store.js';

const KNOWN_KEYS = 100_000;

type Accounts = Pick<UserStore, 'createUser' | 'userByKeyHash' | 'userByUsername'>;

/** hashApiKey, without a Hash object per call where Node has the one-shot crypto.hash (>= 20.12). */
const keyHash: (apiKey: string) => string =
  typeof crypto.hash === 'function' ? (apiKey) => crypto.hash('sha256', apiKey, 'hex') : hashApiKey;

export class Users {
  private readonly known = new Map<string, User>();
  private readonly store: Accounts;
  private readonly signups: RateLimiter;

  constructor(deps: { userStore: Accounts; signups: RateLimiter }) {
    this.store = deps.userStore;
    this.signups = deps.signups;
  }

  async signUp(
    input: { username: string; displayName?: string | undefined },
    clientIp: string,
  ): Promise<{ user: User; apiKey: string }> {
    const wait = this.signups.take(clientIp);
    if (wait > 0) throw new AppError('rate_limited', 'too many sign-ups from this address', wait);
    const apiKey = newApiKey();
    const user = await this.store.createUser({
      id: newId('u'),
      username: input.username,
      displayName: input.displayName ?? input.username,
      createdAt: new Date().toISOString(),
      apiKeyHash: hashApiKey(apiKey),
    });
    return { user, apiKey };
  }

  /**
   * The user an API key belongs to, or 401. Known keys are remembered (keys are never reassigned
   * and there is no revocation yet), so a reconnect storm or a chatty client costs no store read.
   */
  async authenticate(apiKey: string | undefined): Promise<User> {
    if (!apiKey) throw new AppError('unauthenticated', 'missing or wrong API key');
    const hash = keyHash(apiKey);
    const cached = this.known.get(hash);
    if (cached) return cached;
    const user = await this.store.userByKeyHash(hash);
    if (!user) throw new AppError('unauthenticated', 'missing or wrong API key');
    if (this.known.size >= KNOWN_KEYS) this.known.delete(this.known.keys().next().value!);
    this.known.set(hash, user);
    return user;
  }

  async lookup(username: string): Promise<User> {
    const user = await this.store.userByUsername(username);
    if (!user) throw notFound('user');
    return user;
  }
}

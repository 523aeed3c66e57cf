// Authentication by bearer token (a device session's token or an API key), with a short cache of
// credentials known to be good: a reconnect storm or a chatty client costs few store reads, yet a
// revocation holds everywhere within seconds (evicted on the revocation broadcast, and entries
// older than `cacheMs` are read again, which covers a broadcast lost in transit).
import crypto from 'node:crypto';
import type { User } from '@messenger/protocol';
import { AppError } from '../../domain/errors.js';
import { hashApiKey } from '../../domain/ids.js';
import type { CredentialStore } from './credential-store.js';

/** Who is calling, and with which credential (so that it can be listed as current or revoked). */
export interface Identity {
  user: User;
  kind: 'session' | 'key';
  credentialId: string;
  /** When the credential ends unless it is used again (ms); Infinity for a key. */
  expiresAt: number;
}

const KNOWN_CREDENTIALS = 100_000;
/** Within the contract's 5 s for a revocation to close sockets and answer 401 everywhere. */
const DEFAULT_CACHE_MS = 3_000;
/** Activity is written at most this often per credential: the expiry slides by days, not seconds. */
const TOUCH_EVERY_MS = 60_000;

/** hashApiKey, without a Hash object per call where Node has the one-shot crypto.hash (>= 20.12). */
export const tokenHash: (token: string) => string =
  typeof crypto.hash === 'function' ? (token) => crypto.hash('sha256', token, 'hex') : hashApiKey;

interface Known {
  identity: Identity;
  /** When it was read from the store. */
  at: number;
}

export class Authenticator {
  private readonly credentials: CredentialStore;
  private readonly sessionIdleMs: number;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly known = new Map<string, Known>();
  private readonly hashOf = new Map<string, string>();
  /** Bumped by each eviction: a store read that started before one does not fill the cache. */
  private generation = 0;

  constructor(deps: { credentials: CredentialStore; sessionIdleMs: number; cacheMs?: number; now?: () => number }) {
    this.credentials = deps.credentials;
    this.sessionIdleMs = deps.sessionIdleMs;
    this.cacheMs = deps.cacheMs ?? DEFAULT_CACHE_MS;
    this.now = deps.now ?? Date.now;
  }

  /** The identity a token proves, or 401. */
  async authenticate(token: string | undefined): Promise<Identity> {
    if (!token) throw unauthenticated();
    const hash = tokenHash(token);
    const now = this.now();
    const cached = this.known.get(hash);
    if (cached && now - cached.at < this.cacheMs && now < cached.identity.expiresAt) return cached.identity;
    const generation = this.generation;
    const found = await this.credentials.byHash(hash, new Date(now).toISOString());
    if (!found) {
      this.drop(hash);
      throw unauthenticated();
    }
    const identity: Identity = {
      user: found.user,
      kind: found.kind,
      credentialId: found.id,
      expiresAt: found.expiresAt ? Date.parse(found.expiresAt) : Infinity,
    };
    if (generation === this.generation) this.remember(hash, identity, now);
    const lastActive = found.lastActiveAt ? Date.parse(found.lastActiveAt) : 0;
    if (now - lastActive >= TOUCH_EVERY_MS) this.touch(identity, now);
    return identity;
  }

  /** Forgets these credentials at once (they were revoked); the next use reads the store. */
  forget(credentialIds: Iterable<string>): void {
    this.generation += 1;
    for (const id of credentialIds) {
      const hash = this.hashOf.get(id);
      if (hash !== undefined) this.drop(hash);
    }
  }

  /** A new session's expiry when it is used at `now`. */
  expiryFrom(now: number): string {
    return new Date(now + this.sessionIdleMs).toISOString();
  }

  private remember(hash: string, identity: Identity, now: number): void {
    if (!this.known.has(hash) && this.known.size >= KNOWN_CREDENTIALS) this.drop(this.known.keys().next().value!);
    this.known.set(hash, { identity, at: now });
    this.hashOf.set(identity.credentialId, hash);
  }

  private drop(hash: string): void {
    const known = this.known.get(hash);
    if (!known) return;
    this.known.delete(hash);
    this.hashOf.delete(known.identity.credentialId);
  }

  /** Best effort: a lost touch only makes a session look idle for a minute longer. */
  private touch(identity: Identity, now: number): void {
    const at = new Date(now).toISOString();
    const write =
      identity.kind === 'session'
        ? this.credentials.touchSession(identity.credentialId, at, this.expiryFrom(now))
        : this.credentials.touchApiKey(identity.credentialId, at);
    write.catch(() => undefined);
  }
}

const unauthenticated = () => new AppError('unauthenticated', 'missing or wrong API key or token');

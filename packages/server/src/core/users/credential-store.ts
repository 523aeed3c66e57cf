// CredentialStore: what proves who a caller is: password hashes, device sessions and API keys.
// Tokens and keys are high-entropy, so only their SHA-256 is stored; passwords only as argon2id.
// Written directly, not through the log: durable once a call resolves and seen by every later read.
import type { User } from '@messenger/protocol';

export interface NewAccount {
  id: string;
  username: string;
  displayName: string;
  createdAt: string;
}

export interface NewSession {
  id: string;
  userId: string;
  tokenHash: string;
  deviceName: string;
  createdAt: string;
  expiresAt: string;
}

export interface NewApiKey {
  id: string;
  userId: string;
  keyHash: string;
  name: string;
  createdAt: string;
}

export interface StoredSession {
  id: string;
  userId: string;
  deviceName: string;
  createdAt: string;
  lastActiveAt: string;
  expiresAt: string;
}

export interface StoredApiKey {
  id: string;
  userId: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** What a token or key hash names: the credential and its user. */
export interface CredentialRecord {
  kind: 'session' | 'key';
  /** The session's or the key's id. */
  id: string;
  user: User;
  /** A session's last activity, a key's last use (null when never used). */
  lastActiveAt: string | null;
  /** Null for a key, which does not expire. */
  expiresAt: string | null;
}

/** The account's first credential, written with it. */
export type FirstCredential = { apiKey: NewApiKey } | { passwordHash: string; session: NewSession };

export interface CredentialStore {
  /**
   * Writes the user and its first credential in one transaction, so a failure leaves nothing.
   * Throws AppError('conflict') when the username is taken.
   */
  createAccount(user: NewAccount, first: FirstCredential): Promise<User>;
  /** The live credential of a token or key hash: null when unknown, revoked, or expired at `now`. */
  byHash(hash: string, now: string): Promise<CredentialRecord | null>;
  /** The user of `username` and its password hash (null when it has none); null when no such user. */
  passwordByUsername(username: string): Promise<{ user: User; passwordHash: string | null } | null>;
  passwordHash(userId: string): Promise<string | null>;
  /**
   * Sets the password and ends every session of the user but `keepSessionId`, in one transaction;
   * returns the ids of the sessions it ended.
   */
  setPassword(userId: string, passwordHash: string, keepSessionId: string | null): Promise<string[]>;
  /** Adds a session; the user's sessions expired at `session.createdAt` are dropped meanwhile. */
  createSession(session: NewSession): Promise<void>;
  /** The user's sessions not expired at `now`, newest first. */
  sessions(userId: string, now: string): Promise<StoredSession[]>;
  /** Records activity: the session stays alive until `expiresAt`. */
  touchSession(id: string, lastActiveAt: string, expiresAt: string): Promise<void>;
  /** The user's own session only; false when there was none. */
  deleteSession(userId: string, id: string): Promise<boolean>;
  createApiKey(key: NewApiKey): Promise<void>;
  /** Oldest first. */
  apiKeys(userId: string): Promise<StoredApiKey[]>;
  touchApiKey(id: string, lastUsedAt: string): Promise<void>;
  /** The user's own key only; false when there was none. */
  deleteApiKey(userId: string, id: string): Promise<boolean>;
  close(): Promise<void>;
}

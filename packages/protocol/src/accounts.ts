// Accounts and devices (v1.1): passwords, device sessions and API keys, their bodies and answers.
import { z } from 'zod';
import type { User } from './objects.js';

export const ACCOUNT_LIMITS = {
  minPasswordChars: 8,
  /** Checked before hashing: a long password costs the hash, not the attacker. */
  maxPasswordChars: 256,
  maxDeviceNameChars: 64,
  maxApiKeyNameChars: 64,
  /** Sign-in failures per username per window, and per client IP per window. */
  usernameFailures: 10,
  usernameWindowMs: 15 * 60 * 1000,
  ipFailures: 30,
  ipWindowMs: 60 * 1000,
} as const;

/** One device's sign-in. `current` is true on the session the request was made with. */
export interface DeviceSession {
  id: string;
  deviceName: string;
  createdAt: string;
  lastActiveAt: string;
  expiresAt: string;
  current: boolean;
}

/** An API key as listed: never the key itself, which is shown once, when created. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

const nulFree = (text: string) => !text.includes('\u0000');
const NUL_MESSAGE = { message: 'must not contain NUL (U+0000) characters' };
const label = (max: number) => z.string().trim().min(1).max(max).refine(nulFree, NUL_MESSAGE);

/** A new password: 8-256 characters. */
export const newPassword = z
  .string()
  .min(ACCOUNT_LIMITS.minPasswordChars, `password: at least ${ACCOUNT_LIMITS.minPasswordChars} characters`)
  .max(ACCOUNT_LIMITS.maxPasswordChars, `password: at most ${ACCOUNT_LIMITS.maxPasswordChars} characters`)
  .refine(nulFree, NUL_MESSAGE);
/** A password offered to be checked: only bounded, so that the bound is enforced before any hashing. */
const offeredPassword = z.string().min(1).max(ACCOUNT_LIMITS.maxPasswordChars);

export const signInBody = z.object({
  username: z.string().min(1).max(64).refine(nulFree, NUL_MESSAGE),
  password: offeredPassword,
  deviceName: label(ACCOUNT_LIMITS.maxDeviceNameChars).optional(),
});

export const changePasswordBody = z.object({
  currentPassword: offeredPassword.optional(),
  newPassword,
});

export const createApiKeyBody = z.object({ name: label(ACCOUNT_LIMITS.maxApiKeyNameChars) });

/** `current` names the session the request was made with. */
export const sessionIdParam = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'bad id');

export type SignInBody = z.infer<typeof signInBody>;
export type ChangePasswordBody = z.infer<typeof changePasswordBody>;

/** `POST /v1/users` with a password, and `POST /v1/sessions`. */
export interface SessionCreatedResponse {
  user: User;
  session: DeviceSession;
  /** The session's bearer token, shown once. */
  token: string;
}
export interface SessionsResponse {
  sessions: DeviceSession[];
}
export interface ApiKeyCreatedResponse {
  apiKey: ApiKeyInfo;
  /** The key itself, shown once. */
  key: string;
}
export interface ApiKeysResponse {
  apiKeys: ApiKeyInfo[];
}

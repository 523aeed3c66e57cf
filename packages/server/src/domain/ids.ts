// Opaque ids: a kind prefix, a time part (so ids sort roughly by creation) and randomness.
import { randomBytes, createHash } from 'node:crypto';

export type IdKind = 'u' | 'c' | 'm' | 's';

export function newId(kind: IdKind): string {
  return `${kind}_${Date.now().toString(36)}${randomBytes(8).toString('base64url').replace(/[-_]/g, 'x')}`;
}

/** An API key is shown once; only its SHA-256 is stored. */
export function newApiKey(): string {
  return `mk_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The direct chat of two users has one key, whichever of them creates it. */
export function directKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

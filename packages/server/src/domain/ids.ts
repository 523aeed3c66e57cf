// Opaque ids: a kind prefix, a time part (so ids sort roughly by creation) and randomness.
import { randomBytes, createHash } from 'node:crypto';

/** User, conversation, message, socket session, device session, API key, report, uploaded file. */
export type IdKind = 'u' | 'c' | 'm' | 's' | 'd' | 'k' | 'r' | 'f';

// Random bytes are drawn from a pool refilled 4 KiB at a time: one syscall per 512 ids, not per id.
let pool = Buffer.alloc(0);
let used = 0;

function random8(): string {
  if (used + 8 > pool.length) {
    pool = randomBytes(4096);
    used = 0;
  }
  used += 8;
  return pool.toString('base64url', used - 8, used).replace(/[-_]/g, 'x');
}

export function newId(kind: IdKind): string {
  return `${kind}_${Date.now().toString(36)}${random8()}`;
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

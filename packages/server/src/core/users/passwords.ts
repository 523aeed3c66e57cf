// Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), off the event
// loop (the native module hashes on libuv's threads). Only the PHC string is ever stored.
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { Slots } from '../../domain/slots.js';

const OPTIONS = { algorithm: 2 as Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/**
 * Hashes at once per process. libuv's pool would run four, and a sign-in storm would then take
 * every core from message delivery (benchmarks section 12); one at a time leaves the others to it,
 * and a storm waits in line instead.
 */
const hashing = new Slots(1);

export function hashPassword(password: string): Promise<string> {
  return hashing.run(() => hash(password, OPTIONS));
}

/** A hash no password matches, made once: checking against it costs what a real check costs. */
let nobody: Promise<string> | null = null;

/**
 * Whether `password` matches `stored`. Without a stored hash (no such user, or no password yet) it
 * checks against a hash nobody knows and answers false: the same work, so the same time, as a wrong
 * password, and an unknown username cannot be told from a known one.
 */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (stored === null) {
    nobody ??= hashPassword(randomBytes(32).toString('base64url'));
    const decoy = await nobody;
    await hashing.run(() => verify(decoy, password)).catch(() => false);
    return false;
  }
  // A stored hash we cannot read matches nothing rather than failing the request.
  return hashing.run(() => verify(stored, password)).catch(() => false);
}

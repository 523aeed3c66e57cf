// Accounts and Authenticator over the embedded adapters: the per-IP sign-in limit across usernames,
// revocations broadcast, and a cached credential that stops working within the cache's age even
// when the revocation broadcast never arrived.
import { describe, expect, it } from 'vitest';
import { MemoryAttemptLimiter } from '../../adapters/memory/attempt-limiter.js';
import { MemoryRevocations } from '../../adapters/memory/revocations.js';
import { SqliteCredentials } from '../../adapters/sqlite/credentials.js';
import { openDatabase } from '../../adapters/sqlite/db.js';
import { RateLimiter } from '../rate-limit.js';
import { Accounts } from './accounts.js';
import { Authenticator } from './authenticator.js';

function setup() {
  let now = Date.now();
  const clock = () => now;
  const credentials = new SqliteCredentials({ db: openDatabase(':memory:') });
  const authenticator = new Authenticator({ credentials, sessionIdleMs: 86_400_000, cacheMs: 3_000, now: clock });
  const revocations = new MemoryRevocations();
  const accounts = new Accounts({
    credentials,
    authenticator,
    attempts: new MemoryAttemptLimiter(),
    revocations,
    signups: new RateLimiter({ capacity: 0, windowMs: 60_000 }),
  });
  return { accounts, authenticator, credentials, revocations, advance: (ms: number) => (now += ms) };
}

const PASSWORD = 'correct horse battery staple';

describe('Accounts', () => {
  it('answers 429 to an IP after 30 failures over any usernames, even for the right password', async () => {
    const { accounts } = setup();
    await accounts.signUp({ username: 'victim', password: PASSWORD }, '10.0.0.1', undefined);
    for (let i = 0; i < 30; i++) {
      await expect(
        accounts.signIn({ username: `guess${i % 5}`, password: 'wrong password' }, '10.0.0.9', undefined),
      ).rejects.toMatchObject({ code: 'unauthenticated' });
    }
    await expect(
      accounts.signIn({ username: 'victim', password: PASSWORD }, '10.0.0.9', undefined),
    ).rejects.toMatchObject({ code: 'rate_limited', retryAfterSeconds: expect.any(Number) });
    // Another address is not held back.
    const ok = await accounts.signIn({ username: 'victim', password: PASSWORD }, '10.0.0.2', 'phone');
    expect(ok.session).toMatchObject({ deviceName: 'phone', current: true });
  });

  it('broadcasts what it revokes, and forgets it here at once', async () => {
    const { accounts, authenticator, revocations } = setup();
    const heard: string[][] = [];
    await revocations.subscribe((ids) => heard.push(ids));
    const signed = await accounts.signUp({ username: 'ann', password: PASSWORD }, '10.0.0.1', undefined);
    if (!('token' in signed)) throw new Error('expected a session');
    const other = await accounts.signIn({ username: 'ann', password: PASSWORD }, '10.0.0.1', undefined);
    const caller = await authenticator.authenticate(signed.token);
    await authenticator.authenticate(other.token);
    await accounts.changePassword(caller, { currentPassword: PASSWORD, newPassword: 'another passphrase' });
    expect(heard).toEqual([[other.session.id]]);
    await expect(authenticator.authenticate(other.token)).rejects.toMatchObject({ code: 'unauthenticated' });
    await accounts.endSession(caller, 'current');
    expect(heard.at(-1)).toEqual([signed.session.id]);
    await expect(authenticator.authenticate(signed.token)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('stops trusting a cached credential within the cache age when no broadcast arrives', async () => {
    const { accounts, authenticator, credentials, advance } = setup();
    const signed = await accounts.signUp({ username: 'bob' }, '10.0.0.1', undefined);
    if (!('apiKey' in signed)) throw new Error('expected a key');
    const identity = await authenticator.authenticate(signed.apiKey);
    // Revoked by another gateway whose broadcast was lost: only the store knows.
    await credentials.deleteApiKey(identity.user.id, identity.credentialId);
    expect((await authenticator.authenticate(signed.apiKey)).user.id).toBe(identity.user.id);
    advance(3_000);
    await expect(authenticator.authenticate(signed.apiKey)).rejects.toMatchObject({ code: 'unauthenticated' });
  });
});

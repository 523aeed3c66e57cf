// The CredentialStore contract: SQLite and PostgreSQL run this suite unchanged.
import { expect, it } from 'vitest';
import { describeFresh } from '../close-after-each.contract.js';
import type { CredentialStore, NewApiKey, NewSession } from './credential-store.js';

/** What the store returns for a new account: a user with no avatar yet. */
const asUser = <T extends object>(account: T) => ({ ...account, avatarUrl: null });

export interface CredentialStoreHarness {
  /** A fresh, empty database. */
  open(): Promise<CredentialStore>;
}

let unique = 0;
const tag = () => `${Date.now().toString(36)}${(unique += 1)}`;
const at = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();
const DAY = 86_400_000;

const session = (userId: string, over: Partial<NewSession> = {}): NewSession => {
  const t = tag();
  return {
    id: `d_${t}`,
    userId,
    tokenHash: `th_${t}`,
    deviceName: 'laptop',
    createdAt: at(),
    expiresAt: at(30 * DAY),
    ...over,
  };
};
const key = (userId: string, name = 'bot'): NewApiKey => {
  const t = tag();
  return { id: `k_${t}`, userId, keyHash: `kh_${t}`, name, createdAt: at() };
};
const account = () => {
  const t = tag();
  return { id: `u_${t}`, username: `user_${t}`, displayName: `User ${t}`, createdAt: at() };
};

export function credentialStoreContract(name: string, harness: CredentialStoreHarness): void {
  describeFresh(`CredentialStore contract: ${name}`, harness, (fresh) => {
    it('writes an account with its API key; a taken username writes nothing', async () => {
      const store = await fresh();
      const ann = account();
      const annKey = key(ann.id, 'sign-up key');
      const user = await store.createAccount(ann, { apiKey: annKey });
      expect(user).toEqual(asUser(ann));
      expect(await store.byHash(annKey.keyHash, at())).toEqual({
        kind: 'key',
        id: annKey.id,
        user: asUser(ann),
        lastActiveAt: null,
        expiresAt: null,
      });
      expect(await store.passwordByUsername(ann.username)).toEqual({ user: asUser(ann), passwordHash: null });

      const twin = { ...account(), username: ann.username };
      const twinKey = key(twin.id);
      await expect(store.createAccount(twin, { apiKey: twinKey })).rejects.toMatchObject({ code: 'conflict' });
      expect(await store.byHash(twinKey.keyHash, at())).toBeNull();
      const withPassword = { ...account(), username: ann.username };
      const s = session(withPassword.id);
      await expect(store.createAccount(withPassword, { passwordHash: 'ph', session: s })).rejects.toMatchObject({
        code: 'conflict',
      });
      expect(await store.byHash(s.tokenHash, at())).toBeNull();
      expect(await store.passwordHash(withPassword.id)).toBeNull();
      expect(await store.passwordByUsername('nobody_here')).toBeNull();
    });

    it('writes an account with a password and its first session', async () => {
      const store = await fresh();
      const bob = account();
      const s = session(bob.id, { deviceName: 'phone' });
      await store.createAccount(bob, { passwordHash: '$argon2id$bob', session: s });
      expect(await store.passwordByUsername(bob.username)).toEqual({
        user: asUser(bob),
        passwordHash: '$argon2id$bob',
      });
      expect(await store.passwordHash(bob.id)).toBe('$argon2id$bob');
      expect(await store.byHash(s.tokenHash, at())).toEqual({
        kind: 'session',
        id: s.id,
        user: asUser(bob),
        lastActiveAt: s.createdAt,
        expiresAt: s.expiresAt,
      });
      expect(await store.sessions(bob.id, at())).toEqual([
        {
          id: s.id,
          userId: bob.id,
          deviceName: 'phone',
          createdAt: s.createdAt,
          lastActiveAt: s.createdAt,
          expiresAt: s.expiresAt,
        },
      ]);
      expect(await store.apiKeys(bob.id)).toEqual([]);
    });

    it('expires a session after its expiry, and touching it moves the expiry', async () => {
      const store = await fresh();
      const cat = account();
      const s = session(cat.id, { expiresAt: at(60_000) });
      await store.createAccount(cat, { passwordHash: 'h', session: s });
      expect(await store.byHash(s.tokenHash, at(120_000))).toBeNull();
      expect(await store.sessions(cat.id, at(120_000))).toEqual([]);
      const later = at(30_000);
      const until = at(DAY);
      await store.touchSession(s.id, later, until);
      expect(await store.byHash(s.tokenHash, at(120_000))).toMatchObject({ lastActiveAt: later, expiresAt: until });
      expect((await store.sessions(cat.id, at(120_000))).map((x) => x.lastActiveAt)).toEqual([later]);

      // A new sign-in drops the sessions that expired.
      const gone = session(cat.id, { expiresAt: at(1) });
      await store.createSession(gone);
      await new Promise((r) => setTimeout(r, 5));
      const next = session(cat.id);
      await store.createSession(next);
      expect((await store.sessions(cat.id, at(-DAY))).map((x) => x.id).sort()).toEqual([s.id, next.id].sort());
    });

    it('lists sessions newest first; deletes only the owner’s', async () => {
      const store = await fresh();
      const dan = account();
      const eve = account();
      const first = session(dan.id, { createdAt: at(-2000) });
      await store.createAccount(dan, { passwordHash: 'h', session: first });
      await store.createAccount(eve, { passwordHash: 'h', session: session(eve.id) });
      const second = session(dan.id, { deviceName: 'tablet' });
      await store.createSession(second);
      expect((await store.sessions(dan.id, at())).map((x) => x.id)).toEqual([second.id, first.id]);

      expect(await store.deleteSession(eve.id, first.id)).toBe(false);
      expect(await store.byHash(first.tokenHash, at())).not.toBeNull();
      expect(await store.deleteSession(dan.id, first.id)).toBe(true);
      expect(await store.deleteSession(dan.id, first.id)).toBe(false);
      expect(await store.byHash(first.tokenHash, at())).toBeNull();
      expect((await store.sessions(dan.id, at())).map((x) => x.id)).toEqual([second.id]);
    });

    it('sets a password and ends every other session in one step', async () => {
      const store = await fresh();
      const fay = account();
      const a = session(fay.id);
      await store.createAccount(fay, { apiKey: key(fay.id) });
      await store.createSession(a);
      const b = session(fay.id);
      const c = session(fay.id);
      await store.createSession(b);
      await store.createSession(c);

      expect((await store.setPassword(fay.id, 'new-hash', a.id)).sort()).toEqual([b.id, c.id].sort());
      expect(await store.passwordHash(fay.id)).toBe('new-hash');
      expect(await store.byHash(a.tokenHash, at())).not.toBeNull();
      expect(await store.byHash(b.tokenHash, at())).toBeNull();
      expect(await store.byHash(c.tokenHash, at())).toBeNull();
      // Keys are not sessions: they stay.
      expect(await store.apiKeys(fay.id)).toHaveLength(1);

      expect(await store.setPassword(fay.id, 'newer-hash', null)).toEqual([a.id]);
      expect(await store.passwordByUsername(fay.username)).toMatchObject({ passwordHash: 'newer-hash' });
      expect(await store.sessions(fay.id, at())).toEqual([]);
    });

    it('creates, lists, touches and deletes API keys, the owner’s only', async () => {
      const store = await fresh();
      const gus = account();
      const signUpKey = { ...key(gus.id, 'sign-up key'), createdAt: at(-1000) };
      await store.createAccount(gus, { apiKey: signUpKey });
      const bot = key(gus.id, 'deploy bot');
      await store.createApiKey(bot);
      expect(await store.apiKeys(gus.id)).toEqual([
        { id: signUpKey.id, userId: gus.id, name: 'sign-up key', createdAt: signUpKey.createdAt, lastUsedAt: null },
        { id: bot.id, userId: gus.id, name: 'deploy bot', createdAt: bot.createdAt, lastUsedAt: null },
      ]);
      const used = at();
      await store.touchApiKey(bot.id, used);
      expect((await store.apiKeys(gus.id))[1]!.lastUsedAt).toBe(used);
      expect(await store.byHash(bot.keyHash, at())).toMatchObject({ kind: 'key', id: bot.id, lastActiveAt: used });

      expect(await store.deleteApiKey('u_someone_else', bot.id)).toBe(false);
      expect(await store.deleteApiKey(gus.id, bot.id)).toBe(true);
      expect(await store.deleteApiKey(gus.id, bot.id)).toBe(false);
      expect(await store.byHash(bot.keyHash, at())).toBeNull();
      expect((await store.apiKeys(gus.id)).map((k) => k.id)).toEqual([signUpKey.id]);
    });
  });
}

// The AccountStore contract: SQLite and PostgreSQL run this suite unchanged. A sender's messages
// (sentMessages) need the log's records; the integration tests cover them (test/profile.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import type { SuspensionStore } from '../safety/suspension-store.js';
import type { AccountStore } from './account-store.js';
import type { CredentialStore } from './credential-store.js';

export interface AccountStoreHarness {
  /** A fresh, empty database, seen through these ports. */
  open(): Promise<{
    accounts: AccountStore;
    credentials: CredentialStore;
    suspensions: SuspensionStore;
    close(): Promise<void>;
  }>;
}

let unique = 0;
const tag = () => `${Date.now().toString(36)}${(unique += 1)}`;
const at = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();

export function accountStoreContract(name: string, harness: AccountStoreHarness): void {
  describe(`AccountStore contract: ${name}`, () => {
    const opened: (() => Promise<void>)[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((close) => close()));
    });
    const open = async () => {
      const h = await harness.open();
      opened.push(h.close);
      return h;
    };
    /** An account with a password, a session, an expired session and a key. */
    const seeded = async (credentials: CredentialStore) => {
      const t = tag();
      const user = { id: `u_${t}`, username: `user_${t}`, displayName: 'Ann', createdAt: at() };
      const session = {
        id: `d_${t}`,
        userId: user.id,
        tokenHash: `th_${t}`,
        deviceName: 'laptop',
        createdAt: at(),
        expiresAt: at(86_400_000),
      };
      await credentials.createAccount(user, { passwordHash: 'hash', session });
      const old = { ...session, id: `d_old${t}`, tokenHash: `th_old${t}`, createdAt: at(-2000), expiresAt: at(-1000) };
      await credentials.createSession(old).catch(() => undefined);
      const key = { id: `k_${t}`, userId: user.id, keyHash: `kh_${t}`, name: 'bot', createdAt: at() };
      await credentials.createApiKey(key);
      return { user, session, key, t };
    };

    it('renames and answers the user as it now is; null for no such user', async () => {
      const { accounts, credentials } = await open();
      const { user } = await seeded(credentials);
      expect(await accounts.setDisplayName(user.id, 'Ann B.')).toEqual({
        ...user,
        displayName: 'Ann B.',
        avatarUrl: null,
      });
      expect(await accounts.setDisplayName('u_nobody', 'X')).toBeNull();
    });

    it('tells which credentials still hold, with their expiry: not ended, not expired', async () => {
      const { accounts, credentials } = await open();
      const { user, session, key, t } = await seeded(credentials);
      const ids = [session.id, key.id, `d_old${t}`, 'd_unknown'];
      const live = await accounts.liveCredentials(ids, at());
      expect([...live.keys()].sort()).toEqual([session.id, key.id].sort());
      expect(Date.parse(live.get(session.id)!)).toBe(Date.parse(session.expiresAt));
      expect(live.get(key.id)).toBeNull();
      expect([...(await accounts.liveCredentials(ids, at(2 * 86_400_000))).keys()]).toEqual([key.id]);
      await credentials.deleteSession(user.id, session.id);
      expect([...(await accounts.liveCredentials(ids, at())).keys()]).toEqual([key.id]);
      expect((await accounts.liveCredentials([], at())).size).toBe(0);
    });

    it('journals ended credentials, however they ended, by the database clock', async () => {
      const { accounts, credentials, suspensions } = await open();
      const first = await accounts.endedCredentials(at(-60_000));
      const { user, session, key } = await seeded(credentials);
      const other = await seeded(credentials);
      // Not yet ended: nothing (the expired session seeded above was never deleted).
      expect((await accounts.endedCredentials(first.at)).ids).toEqual([]);
      await new Promise((r) => setTimeout(r, 5));
      await credentials.deleteSession(user.id, session.id);
      await credentials.deleteApiKey(user.id, key.id);
      // The reading is to the millisecond: ends in its millisecond would come again.
      await new Promise((r) => setTimeout(r, 5));
      const ended = await accounts.endedCredentials(first.at);
      expect(ended.ids.sort()).toEqual([session.id, key.id].sort());
      expect(Date.parse(ended.at)).toBeGreaterThanOrEqual(Date.parse(first.at));
      // Read from the last reading on: only what ended since.
      expect((await accounts.endedCredentials(ended.at)).ids).toEqual([]);
      // A millisecond clock (SQLite's) needs a tick between the reading and the next end.
      await new Promise((r) => setTimeout(r, 5));
      await suspensions.suspend(other.user.id, 'spam', at());
      expect((await accounts.endedCredentials(ended.at)).ids).toEqual(
        expect.arrayContaining([other.session.id, other.key.id]),
      );
      await accounts.forgetEndedCredentials(at(60_000));
      expect((await accounts.endedCredentials(first.at)).ids).toEqual([]);
    });

    it('closes an account in one go: credentials end, the name is free, idempotent', async () => {
      const { accounts, credentials } = await open();
      const { user, session, key } = await seeded(credentials);
      const ended = await accounts.closeAccount(user.id, {
        username: `deleted:${user.id}`,
        displayName: 'Deleted account',
      });
      expect(ended).toEqual(expect.arrayContaining([session.id, key.id]));
      expect((await accounts.liveCredentials([session.id, key.id], at())).size).toBe(0);
      expect((await accounts.endedCredentials(at(-60_000))).ids).toEqual(expect.arrayContaining([session.id, key.id]));
      expect(await credentials.passwordHash(user.id)).toBeNull();
      expect(await credentials.passwordByUsername(user.username)).toBeNull();
      expect((await credentials.passwordByUsername(`deleted:${user.id}`))?.user).toMatchObject({
        id: user.id,
        displayName: 'Deleted account',
      });
      expect(
        await accounts.closeAccount(user.id, { username: `deleted:${user.id}`, displayName: 'Deleted account' }),
      ).toEqual([]);
      // The old name signs up again.
      const again = { id: `u_new${user.id}`, username: user.username, displayName: 'New', createdAt: at() };
      const first = {
        apiKey: { id: `k_new${user.id}`, userId: again.id, keyHash: `kh_new${user.id}`, name: 'k', createdAt: at() },
      };
      await expect(credentials.createAccount(again, first)).resolves.toMatchObject({ username: user.username });
    });
  });
}

// End to end: editing one's profile and deleting one's account in the web client. The other side
// of a chat sees the new name live, then "Deleted account"; the deleted browser is back on the
// sign-up screen, and the username can be signed up again.
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, newUserPage, sendMessage, signUp, startDirectChat } from './harness.mjs';
import { webForFile } from './for-file.js';

const WAIT = { timeout: 10_000 };

const { server, browser } = webForFile();
const pageErrors: string[] = [];

async function page(): Promise<Page> {
  const { page } = await newUserPage(browser, server.url);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
}

async function accountMenu(p: Page) {
  await p.getByRole('button', { name: 'Account' }).click();
  return p.getByRole('dialog', { name: 'Account' });
}

describe('profile and account deletion in the web client', () => {
  beforeAll(async () => {});

  it('renames live for the other side, then deletes the account back to sign-up', async () => {
    const suffix = Date.now().toString(36);
    const [alice, bob] = [await page(), await page()];
    const bobName = `bob${suffix}`;
    await signUp(alice, `alice${suffix}`, 'Alice');
    await signUp(bob, bobName, 'Bob');
    await startDirectChat(alice, bobName);
    await sendMessage(alice, 'hi bob');
    await alice.getByRole('heading', { name: 'Bob', exact: true }).waitFor(WAIT);

    // Edit profile.
    await (await accountMenu(bob)).getByRole('button', { name: 'Edit profile' }).click();
    const edit = bob.getByRole('dialog', { name: 'Edit profile' });
    await edit.getByRole('textbox', { name: 'Display name' }).fill('Bobby Tables');
    await edit.getByRole('button', { name: 'Save' }).click();
    const menu = bob.getByRole('dialog', { name: 'Account' });
    await menu.getByText('Bobby Tables').waitFor(WAIT);
    await alice.getByRole('heading', { name: 'Bobby Tables', exact: true }).waitFor(WAIT);

    // Delete account: the button waits for the password.
    await menu.getByRole('button', { name: 'Delete account…' }).click();
    const del = bob.getByRole('dialog', { name: 'Delete account' });
    const confirm = del.getByRole('button', { name: 'Delete my account' });
    expect(await confirm.isDisabled()).toBe(true);
    await del.getByLabel('Password', { exact: true }).fill('not the password');
    await confirm.click();
    await del.getByRole('alert').filter({ hasText: 'The password is wrong.' }).waitFor(WAIT);
    await del.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await del.getByRole('checkbox', { name: /delete every message I sent/ }).check();
    await confirm.click();
    await bob.getByRole('button', { name: 'Sign up' }).waitFor(WAIT);
    await alice.getByRole('heading', { name: 'Deleted account', exact: true }).waitFor(WAIT);

    // The username is free again.
    await signUp(bob, bobName, 'New Bob');
    expect(pageErrors).toEqual([]);
  }, 90_000);
});

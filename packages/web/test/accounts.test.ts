// End to end: accounts and devices. Sign up with a password, sign out and in, a second device, the
// Devices screen ending the other one (which falls back to sign-in), the password, an API-key
// session from an earlier version, the page's CSP, and the dark theme's header buttons.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, cspViolations, signIn, signUp } from './harness.mjs';
import { webForFile } from './for-file.js';

const WAIT = { timeout: 10_000 };
const SHOTS = fs.mkdtempSync(path.join(os.tmpdir(), 'messenger-shots-'));

const { server, browser } = webForFile();
const contexts: BrowserContext[] = [];
const refused: string[] = [];
const pageErrors: string[] = [];

async function device(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    baseURL: server.url,
    colorScheme,
  });
  contexts.push(context);
  const page = await context.newPage();
  const violations = cspViolations(page);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('close', () => refused.push(...violations));
  (page as Page & { violations?: string[] }).violations = violations;
  return page;
}

const violationsOf = (page: Page) => (page as Page & { violations?: string[] }).violations ?? [];

async function openDevices(page: Page) {
  await page.getByRole('button', { name: 'Account' }).click();
  await page.getByRole('dialog', { name: 'Account' }).getByRole('button', { name: 'Devices' }).click();
  const dialog = page.getByRole('dialog', { name: 'Devices' });
  await dialog.getByRole('list', { name: 'Signed-in devices' }).waitFor(WAIT);
  return dialog;
}

/** WCAG relative luminance contrast of two CSS rgb() colours. */
function contrast(a: string, b: string): number {
  const lum = (css: string) => {
    const [r, g, bl] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe('accounts and devices in the web client', () => {
  let laptop: Page;
  let phone: Page;

  beforeAll(async () => {
    laptop = await device();
    phone = await device();
  });

  it('serves the page with a strict CSP, and the app runs under it', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBeTruthy();
    await laptop.goto('/');
    await laptop.getByRole('button', { name: 'Sign up' }).waitFor(WAIT);
    expect(violationsOf(laptop)).toEqual([]);
  });

  it('signs up with a form a password manager understands', async () => {
    await laptop.goto('/');
    const form = laptop.locator('form#signup-form');
    expect(await form.locator('input[name=username]').getAttribute('autocomplete')).toBe('username');
    expect(await form.locator('input[type=password]').getAttribute('autocomplete')).toBe('new-password');
    expect(await form.locator('input[type=password]').getAttribute('id')).toBe('signup-password');
    await signUp(laptop, 'nora', 'Nora Quist');
    const stored = await laptop.evaluate(() => JSON.parse(localStorage.getItem('messenger.session') ?? '{}'));
    // A device session's token, never an API key.
    expect(stored.token).toEqual(expect.any(String));
    expect(stored.apiKey).toBeUndefined();
  });

  it('signs out (the server session ends) and back in with the password', async () => {
    const token = await laptop.evaluate(() => JSON.parse(localStorage.getItem('messenger.session') ?? '{}').token);
    await laptop.getByRole('button', { name: 'Sign out' }).click();
    await laptop.getByRole('button', { name: 'Sign up' }).waitFor(WAIT);
    await expect
      .poll(() => fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status))
      .toBe(401);
    await laptop.getByRole('button', { name: 'Sign in instead' }).click();
    const form = laptop.locator('form#signin-form');
    expect(await form.locator('input[type=password]').getAttribute('autocomplete')).toBe('current-password');
    await form.getByRole('textbox', { name: 'Username' }).fill('nora');
    await form.getByLabel('Password', { exact: true }).fill('not the password');
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
    await laptop.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor(WAIT);
    await signIn(laptop, 'nora');
  });

  it('lists both devices and signs the other one out, which falls back to its sign-in screen', async () => {
    await signIn(phone, 'nora');
    const dialog = await openDevices(laptop);
    const rows = dialog.getByRole('listitem');
    await expect.poll(() => rows.count(), WAIT).toBe(2);
    await expect.poll(() => dialog.getByText('This device').count()).toBe(1);
    await laptop.screenshot({ path: path.join(SHOTS, 'devices.png') });
    const other = rows.filter({ hasNot: laptop.getByText('This device') });
    await other.getByRole('button', { name: /^Sign out/ }).click();
    await expect.poll(() => rows.count(), WAIT).toBe(1);
    // The phone's socket is closed with 4401 within seconds; it returns to sign-in and says why.
    await phone.getByRole('alert').filter({ hasText: 'You were signed out' }).waitFor({ timeout: 15_000 });
    await phone.getByRole('button', { name: 'Sign up' }).waitFor();
    expect(await phone.evaluate(() => localStorage.getItem('messenger.session'))).toBeNull();
  }, 40_000);

  it('changes the password: other devices are signed out, the new one works', async () => {
    await signIn(phone, 'nora');
    await laptop.keyboard.press('Escape');
    await laptop.getByRole('button', { name: 'Account' }).click();
    await laptop.getByRole('dialog', { name: 'Account' }).getByRole('button', { name: 'Change password' }).click();
    const dialog = laptop.getByRole('dialog', { name: 'Change password' });
    await dialog.getByLabel('Current password').fill('wrong password');
    await dialog.getByLabel('New password').fill('a brand new secret');
    await dialog.getByRole('button', { name: 'Save password' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'The current password is wrong.' }).waitFor(WAIT);
    await dialog.getByLabel('Current password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Save password' }).click();
    await dialog.getByText('Password saved.').waitFor(WAIT);
    await phone.getByRole('alert').filter({ hasText: 'You were signed out' }).waitFor({ timeout: 15_000 });
    await signIn(phone, 'nora', 'a brand new secret');
    // The laptop kept its session.
    await laptop.keyboard.press('Escape');
    await laptop.getByRole('navigation', { name: 'Chats' }).waitFor();
    expect(await laptop.getByRole('button', { name: 'Sign up' }).count()).toBe(0);
  }, 40_000);

  it('keeps an API-key session from an earlier version working, and lets it set a password', async () => {
    const old = await server.api('POST', '/v1/users', null, { username: 'olga', displayName: 'Olga Old' });
    const page = await device();
    await page
      .context()
      .addInitScript(
        (s) => localStorage.getItem('messenger.session') || localStorage.setItem('messenger.session', s),
        JSON.stringify({ apiKey: old.apiKey, userId: old.user.id }),
      );
    await page.goto('/');
    await page.getByRole('navigation', { name: 'Chats' }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('dialog', { name: 'Account' }).getByRole('button', { name: 'Set a password' }).click();
    const dialog = page.getByRole('dialog', { name: 'Set a password' });
    await dialog.getByLabel('New password').fill('olga first password');
    await dialog.getByRole('button', { name: 'Save password' }).click();
    await dialog.getByText('Password saved.').waitFor(WAIT);
    const other = await device();
    await signIn(other, 'olga', 'olga first password');
    // The API key is the account's, not a session: it still works after the password was set.
    expect((await server.api('GET', '/v1/me', old.apiKey)).user.id).toBe(old.user.id);
  });

  it('gives the dark theme header buttons visible against the header, and icons visible on them', async () => {
    const page = await device('dark');
    const creds = await server.api('POST', '/v1/sessions', null, { username: 'nora', password: 'a brand new secret' });
    await page
      .context()
      .addInitScript(
        (s) => localStorage.setItem('messenger.session', s),
        JSON.stringify({ token: creds.token, userId: creds.user.id }),
      );
    await page.goto('/');
    await page.getByRole('button', { name: 'New chat' }).waitFor(WAIT);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: path.join(SHOTS, 'dark-header.png'), clip: { x: 0, y: 0, width: 360, height: 70 } });
    const colours = await page.evaluate(() => {
      const button = document.querySelector('[aria-label="New chat"]') as HTMLElement;
      const header = button.closest('header') as HTMLElement;
      const b = getComputedStyle(button);
      let bg = getComputedStyle(header).backgroundColor;
      for (let el: HTMLElement | null = header; el && /rgba\(0, 0, 0, 0\)|transparent/.test(bg); el = el.parentElement)
        bg = getComputedStyle(el).backgroundColor;
      return { header: bg, fill: b.backgroundColor, ring: b.boxShadow, icon: b.color };
    });
    const ring = colours.ring.match(/rgba?\([^)]*\)/)?.[0] ?? colours.fill;
    expect(contrast(colours.icon, colours.fill)).toBeGreaterThanOrEqual(3);
    expect(Math.max(contrast(ring, colours.header), contrast(colours.fill, colours.header))).toBeGreaterThanOrEqual(3);
    expect(fs.statSync(path.join(SHOTS, 'dark-header.png')).size).toBeGreaterThan(0);
  });

  it('saw no CSP violation and no page error on any page', () => {
    const all = [...refused, ...contexts.flatMap((c) => c.pages().flatMap(violationsOf))];
    expect(all).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

// End to end at phone width: list and chat as separate screens, older history on scroll-up, presence in the header.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { webForFile } from './for-file.js';

const WAIT = { timeout: 10_000 };
const HISTORY = 120;

interface Account {
  user: { id: string };
  apiKey: string;
}

const { server, browser } = webForFile();
let ann: Account;
let ben: Account;
let phone: Page;

/** A context already signed in as `account`, as after a reload. */
async function signedIn(
  account: Account,
  viewport: { width: number; height: number },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, baseURL: server.url, hasTouch: viewport.width < 500 });
  const session = JSON.stringify({ apiKey: account.apiKey, userId: account.user.id });
  await context.addInitScript((s) => localStorage.setItem('messenger.session', s), session);
  const page = await context.newPage();
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Chats' }).waitFor();
  return { context, page };
}

describe('web client on a phone', () => {
  beforeAll(async () => {
    ann = await server.api('POST', '/v1/users', null, { username: 'ann', displayName: 'Ann Lee' });
    ben = await server.api('POST', '/v1/users', null, { username: 'ben', displayName: 'Ben Okafor' });
    const { conversation } = await server.api('POST', '/v1/conversations', ben.apiKey, { memberIds: [ann.user.id] });
    // A stranger's chat is a request, shown apart and without presence: Ann accepts it first.
    await server.api('POST', `/v1/conversations/${conversation.id}/accept`, ann.apiKey);
    for (let i = 1; i <= HISTORY; i++) {
      const body = `History message #${String(i).padStart(3, '0')}`;
      await server.api('POST', `/v1/conversations/${conversation.id}/messages`, ben.apiKey, {
        clientMsgId: `h${i}`,
        body,
      });
    }
    ({ page: phone } = await signedIn(ann, { width: 375, height: 812 }));
  });

  it('shows the list, then the chat as its own screen, and back', async () => {
    const link = phone.getByRole('navigation', { name: 'Chats' }).getByRole('link', { name: /Ben Okafor/ });
    await link.filter({ hasText: 'History message #120' }).waitFor(WAIT);
    await expect.poll(() => phone.title(), WAIT).toBe(`(${HISTORY}) Messenger`);
    await link.click();
    await phone.getByRole('heading', { name: 'Ben Okafor' }).waitFor(WAIT);
    await phone.getByRole('navigation', { name: 'Chats' }).waitFor({ state: 'hidden', ...WAIT });
    await phone.getByRole('article').filter({ hasText: 'History message #120' }).waitFor(WAIT);
    await expect.poll(() => phone.title(), WAIT).toBe('Messenger');
    const box = await phone.getByRole('textbox', { name: 'Message' }).boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(375);

    await phone.getByRole('link', { name: 'Back to chats' }).click();
    await phone.getByRole('navigation', { name: 'Chats' }).waitFor(WAIT);
    await phone.getByRole('heading', { name: 'Ben Okafor' }).waitFor({ state: 'hidden', ...WAIT });
  });

  it('loads older history when scrolled to the top', async () => {
    await phone
      .getByRole('navigation', { name: 'Chats' })
      .getByRole('link', { name: /Ben Okafor/ })
      .click();
    await phone.getByRole('article').filter({ hasText: 'History message #120' }).waitFor(WAIT);
    expect(await phone.getByRole('article').filter({ hasText: 'History message #001' }).count()).toBe(0);
    const log = phone.getByRole('log');
    await expect
      .poll(
        async () => {
          await log.evaluate((el) => {
            el.scrollTop = 0;
          });
          return phone.getByRole('article').filter({ hasText: 'History message #001' }).count();
        },
        { timeout: 15_000, interval: 300 },
      )
      .toBe(1);
    await phone.getByText('This is the beginning of the chat.').waitFor(WAIT);
    const seqs = await phone
      .getByRole('article')
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(HISTORY);
  });

  it('shows presence in the header: online, then last seen', async () => {
    await phone.getByText('Offline', { exact: true }).waitFor(WAIT);
    const { context } = await signedIn(ben, { width: 1280, height: 800 });
    await phone.getByText('Online', { exact: true }).waitFor(WAIT);
    await context.close();
    await phone.getByText(/^Last seen/).waitFor({ timeout: 15_000 });
  });
});

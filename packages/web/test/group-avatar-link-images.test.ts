// End to end in the built web client: a group admin sets the group's photo in Group info and the
// other member sees it in the chat list and the chat header (without the controls: only admins
// may change it); and a link preview card shows the page's image, as the server's signed copy,
// until the sender removes the preview.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyOf, cspViolations, newUserPage, sendMessage, signUp } from './harness.mjs';
import { webForFile } from './for-file.js';

const WAIT = { timeout: 15_000 };

// The server's link previews may read this test's site on 127.0.0.1.
const { server, browser } = webForFile({ env: { LINK_PREVIEW_ALLOWED_HOSTS: '127.0.0.1' } });
let alice: Page;
let bob: Page;
let pages: http.Server;
let origin: string;
let siteHits: string[] = [];
let refused: string[] = [];
const pageErrors: string[] = [];

const png = (width: number, height: number, background: string) =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();

const chatLink = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Chats' }).getByRole('link', { name: new RegExp(name) });

/** Waits until the image has loaded (a CSP refusal or a 403 leaves naturalWidth at 0). */
async function loaded(img: ReturnType<Page['locator']>) {
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.naturalWidth), WAIT).toBeGreaterThan(0);
}

describe('group photos and link preview images in the web client', () => {
  beforeAll(async () => {
    const cover = await png(900, 450, '#2a6');
    pages = http.createServer((req, res) => {
      siteHits.push(req.url ?? '');
      if (req.url === '/cover.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(cover);
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          '<title>Lake loop</title><meta name="description" content="Eight km around the lake">' +
            '<meta property="og:image" content="/cover.png">',
        );
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    ({ page: alice } = await newUserPage(browser, server.url));
    ({ page: bob } = await newUserPage(browser, server.url));
    refused = [...cspViolations(alice), ...cspViolations(bob)];
    for (const page of [alice, bob]) page.on('pageerror', (e) => pageErrors.push(e.message));
    const suffix = Date.now().toString(36);
    await signUp(alice, `alice${suffix}`, 'Alice Liddell');
    await signUp(bob, `bob${suffix}`, 'Bob Builder');
    const aliceKey = await apiKeyOf(alice);
    const { user: bobUser } = await server.api('GET', `/v1/users?username=bob${suffix}`, aliceKey);
    const { conversation } = await server.api('POST', '/v1/conversations', aliceKey, {
      memberIds: [bobUser.id],
      title: 'Hiking club',
    });
    await server.api('POST', `/v1/conversations/${conversation.id}/accept`, await apiKeyOf(bob));
    await chatLink(alice, 'Hiking club').click();
    await chatLink(bob, 'Hiking club').click();
    await bob.getByRole('heading', { name: 'Hiking club', exact: true }).waitFor(WAIT);
  }, 60_000);

  afterAll(async () => {
    await new Promise((resolve) => pages?.close(resolve));
  });

  it('lets the admin set the group photo, which the other member sees in the list and the header', async () => {
    await alice.getByRole('button', { name: 'Group info' }).click();
    const info = alice.getByRole('dialog', { name: 'Group info' });
    await info
      .getByLabel('Choose a group photo')
      .setInputFiles({ name: 'club.png', mimeType: 'image/png', buffer: await png(400, 400, '#c3f') });
    await info.getByRole('button', { name: 'Remove group photo' }).waitFor(WAIT);
    await loaded(info.locator('img.avatar-img'));

    const inList = chatLink(bob, 'Hiking club').locator('img.avatar-img');
    await loaded(inList);
    expect(await inList.getAttribute('src')).toMatch(/\/thumbnail\?exp=\d+&sig=/);
    await loaded(bob.locator('.chat-header img.avatar-img'));

    // A member sees the photo in Group info but gets no control to change it.
    await bob.getByRole('button', { name: 'Group info' }).click();
    const bobInfo = bob.getByRole('dialog', { name: 'Group info' });
    await loaded(bobInfo.locator('img.avatar-img'));
    expect(await bobInfo.getByRole('button', { name: /group photo/ }).count()).toBe(0);
    expect(await bobInfo.getByLabel('Choose a group photo').count()).toBe(0);
    await bob.keyboard.press('Escape');

    // Removed by the admin: initials again on both sides.
    await info.getByRole('button', { name: 'Remove group photo' }).click();
    await info.getByRole('button', { name: 'Add group photo' }).waitFor(WAIT);
    await inList.waitFor({ state: 'detached', ...WAIT });
    await alice.keyboard.press('Escape');
  });

  it('shows a link preview card with the image the server fetched', async () => {
    siteHits = [];
    await sendMessage(alice, `Saturday: ${origin}/lake`);
    const card = bob
      .getByRole('article')
      .filter({ hasText: 'Saturday' })
      .getByRole('link', { name: /Lake loop/ });
    await card.waitFor(WAIT);
    expect(await card.textContent()).toContain('Eight km around the lake');
    const image = card.locator('img.link-image');
    await loaded(image);
    const src = (await image.getAttribute('src'))!;
    // Served by the messenger (signed, same origin), never by the linked site.
    expect(src).toMatch(/^\/v1\/uploads\/[^/]+\/thumbnail\?exp=\d+&sig=/);
    expect(siteHits.filter((h) => h === '/cover.png')).toHaveLength(1);
    const width = await image.evaluate((el: HTMLImageElement) => el.naturalWidth);
    expect(width).toBeLessThanOrEqual(320);

    // The sender removes it: gone on the other side too, and so is the server's copy of the image.
    const own = alice.getByRole('article').filter({ hasText: 'Saturday' });
    await own.getByRole('link', { name: /Lake loop/ }).waitFor(WAIT);
    await own.hover();
    await own.getByRole('button', { name: 'More actions' }).click();
    await alice.getByRole('menuitem', { name: 'Remove link preview' }).click();
    await card.waitFor({ state: 'detached', ...WAIT });
    await own.getByRole('link', { name: /Lake loop/ }).waitFor({ state: 'detached', ...WAIT });
    expect((await fetch(server.url + src)).status).toBe(404);
    expect(refused).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

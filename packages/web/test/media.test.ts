// End to end: photos, files and voice messages in the built web client against the real server.
// Alice attaches by the file picker and by paste, records with Chromium's fake microphone; Bob
// sees thumbnails, opens the lightbox, downloads, plays. The steps share one chat, in order.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { cspViolations, newUserPage, sendMessage, signUp, startDirectChat } from './harness.mjs';
import { webForFile } from './for-file.js';

const WAIT = { timeout: 15_000 };

// The server's link previews may read this test's page on 127.0.0.1.
const { server, browser } = webForFile({
  env: { LINK_PREVIEW_ALLOWED_HOSTS: '127.0.0.1' },
  browserArgs: [
    '--no-sandbox',
    '--disable-gpu',
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
  ],
});
let alice: Page;
let bob: Page;
let refused: string[] = [];
let pages: http.Server;
let pageUrl: string;
const pageErrors: string[] = [];

function article(page: Page, text: string) {
  return page.getByRole('article').filter({ hasText: text });
}

const png = (color: string) =>
  sharp({ create: { width: 300, height: 200, channels: 3, background: color } })
    .png()
    .toBuffer();

describe('web client media', () => {
  beforeAll(async () => {
    pages = http.createServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<title>Trail map</title><meta name="description" content="Loops around the lake">'),
    );
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/map`;
    ({ page: alice } = await newUserPage(browser, server.url));
    ({ page: bob } = await newUserPage(browser, server.url));
    await alice.context().grantPermissions(['microphone']);
    refused = [...cspViolations(alice), ...cspViolations(bob)];
    for (const page of [alice, bob]) page.on('pageerror', (e) => pageErrors.push(e.message));
    await signUp(alice, 'alice', 'Alice Liddell');
    await signUp(bob, 'bob', 'Bob Builder');
    await startDirectChat(alice, 'bob');
    await sendMessage(alice, 'Photos from the trip');
    await bob.getByRole('button', { name: 'Accept request from Alice Liddell' }).click();
    await bob
      .getByRole('navigation', { name: 'Chats' })
      .getByRole('link', { name: /Alice Liddell/ })
      .click();
    await article(bob, 'Photos from the trip').waitFor(WAIT);
  }, 60_000);

  afterAll(async () => {
    await new Promise((resolve) => pages?.close(resolve));
  });

  it('attaches a photo by the file picker; the other side gets a thumbnail and opens the lightbox', async () => {
    await alice
      .getByLabel('Choose files')
      .setInputFiles({ name: 'beach.png', mimeType: 'image/png', buffer: await png('#2a7') });
    await alice.getByRole('list', { name: 'Files to send' }).getByText('beach.png').waitFor(WAIT);
    await sendMessage(alice, 'The beach');
    const received = article(bob, 'The beach');
    const thumb = received.getByRole('img', { name: 'beach.png' });
    await thumb.waitFor(WAIT);
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth), WAIT).toBeGreaterThan(0);
    expect(await thumb.getAttribute('src')).toMatch(/\/thumbnail\?exp=\d+&sig=/);
    await received.getByRole('button', { name: 'Open photo beach.png' }).click();
    const box = bob.getByRole('dialog', { name: 'beach.png' });
    const full = box.getByRole('img', { name: 'beach.png' });
    await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.naturalWidth), WAIT).toBe(300);
    await bob.keyboard.press('Escape');
    await box.waitFor({ state: 'detached', ...WAIT });
    await bob
      .getByRole('navigation', { name: 'Chats' })
      .getByRole('link', { name: /Alice Liddell/ })
      .filter({ hasText: 'The beach' })
      .waitFor(WAIT);
  });

  it('attaches a pasted image and a file card with a download link', async () => {
    const bytes = [...(await png('#c33'))];
    await alice.getByRole('textbox', { name: 'Message' }).evaluate((el, data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], 'pasted.png', { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, bytes);
    await alice.getByLabel('Choose files').setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('packing list'),
    });
    const tray = alice.getByRole('list', { name: 'Files to send' });
    await tray.getByText('pasted.png').waitFor(WAIT);
    await tray.getByText('notes.txt').waitFor(WAIT);
    await alice.getByRole('button', { name: 'Send', exact: true }).click();
    const photo = bob.getByRole('img', { name: 'pasted.png' });
    await photo.waitFor(WAIT);
    const card = bob.getByRole('link', { name: 'Download notes.txt' });
    await card.waitFor(WAIT);
    expect(await card.getAttribute('download')).toBe('notes.txt');
    const text = await bob.evaluate(async (href) => (await fetch(href!)).text(), await card.getAttribute('href'));
    expect(text).toBe('packing list');
  });

  it('records a voice message, and the other side plays it', async () => {
    await alice.getByRole('button', { name: 'Record voice message' }).click();
    await alice.getByRole('status').filter({ hasText: 'Recording' }).waitFor(WAIT);
    await alice.waitForTimeout(1500);
    await alice.getByRole('button', { name: 'Send voice message' }).click();
    const play = bob.getByRole('button', { name: 'Play voice message' }).last();
    await play.waitFor(WAIT);
    const voice = bob.locator('.voice').last();
    await expect
      .poll(() => voice.locator('audio').evaluate((a: HTMLAudioElement) => a.readyState), WAIT)
      .toBeGreaterThan(0);
    await play.click();
    await expect
      .poll(
        () => voice.getByRole('progressbar', { name: 'Played' }).evaluate((p: HTMLProgressElement) => p.value),
        WAIT,
      )
      .toBeGreaterThan(0);
    const src = await voice.locator('audio').getAttribute('src');
    const type = await bob.evaluate(async (href) => (await fetch(href!)).headers.get('content-type'), src);
    expect(type).toMatch(/^audio\//);
  });

  it('shows a preview of the first link once the server has read the page', async () => {
    await sendMessage(alice, `The map: ${pageUrl}`);
    const card = article(bob, 'The map').getByRole('link', { name: /Trail map/ });
    await card.waitFor(WAIT);
    expect(await card.textContent()).toContain('Loops around the lake');
  });

  it('sets a profile photo, which the other side sees in the chat list and on the chat', async () => {
    await alice.getByRole('button', { name: 'Account' }).click();
    await alice.getByRole('dialog', { name: 'Account' }).getByRole('button', { name: 'Edit profile' }).click();
    const edit = alice.getByRole('dialog', { name: 'Edit profile' });
    await edit
      .getByLabel('Choose a photo')
      .setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: await png('#fa0') });
    await edit.getByRole('button', { name: 'Change photo' }).waitFor(WAIT);
    await alice.keyboard.press('Escape');
    const own = alice.locator('.account-button img.avatar-img');
    await expect.poll(() => own.evaluate((img: HTMLImageElement) => img.naturalWidth), WAIT).toBeGreaterThan(0);
    const inList = bob
      .getByRole('navigation', { name: 'Chats' })
      .getByRole('link', { name: /Alice Liddell/ })
      .locator('img.avatar-img');
    await expect.poll(() => inList.evaluate((img: HTMLImageElement) => img.naturalWidth), WAIT).toBeGreaterThan(0);
    expect(await inList.getAttribute('src')).toMatch(/\/thumbnail\?exp=\d+&sig=/);
    expect(refused).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

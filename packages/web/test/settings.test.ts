// End to end: muting a chat, hiding one's online status, and notifications (the toggle, the service
// worker, and the page's own notifications while the tab is hidden), against the real server.
import { beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { webForFile } from './for-file.js';

const WAIT = { timeout: 10_000 };
const PUSH_UNAVAILABLE = 'Push notifications are unavailable in this browser';

interface Account {
  user: { id: string };
  apiKey: string;
}
interface Note {
  title: string;
  body: string;
  tag: string;
}

const { server, browser } = webForFile();
let alice: Account;
let bob: Account;
let directId: string;
let groupId: string;
let aliceContext: BrowserContext;
let alicePage: Page;
let bobPage: Page;
let sent = 0;
const pageErrors: string[] = [];

/**
 * Runs before the app: records `new Notification(...)` calls instead of showing them (headless
 * Chromium has nowhere to show them, and the test wants to read and click them), and lets the test
 * flip `document.visibilityState`, since a headless tab is always visible.
 */
function pageHooks(): void {
  const w = window as unknown as { __notes: unknown[]; __hidden: boolean; Notification: unknown };
  const Real = window.Notification;
  w.__notes = [];
  w.__hidden = false;
  class RecordedNotification {
    title: string;
    body: string;
    tag: string;
    data: unknown;
    onclick: (() => void) | null = null;
    constructor(title: string, options: NotificationOptions = {}) {
      this.title = title;
      this.body = options.body ?? '';
      this.tag = options.tag ?? '';
      this.data = options.data;
      w.__notes.push(this);
    }
    close(): void {}
    static get permission(): NotificationPermission {
      return Real.permission;
    }
    static requestPermission(): Promise<NotificationPermission> {
      return Real.requestPermission();
    }
  }
  w.Notification = RecordedNotification;
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get: () => (w.__hidden ? 'hidden' : 'visible'),
  });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => w.__hidden });
}

async function signedIn(
  account: Account,
  opts: { notifications?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: server.url });
  if (opts.notifications) {
    await context.grantPermissions(['notifications'], { origin: server.url });
    await context.addInitScript(pageHooks);
  }
  const session = JSON.stringify({ apiKey: account.apiKey, userId: account.user.id });
  await context.addInitScript((s) => {
    // about:blank (where a test parks the tab) has no storage.
    if (location.protocol.startsWith('http')) localStorage.setItem('messenger.session', s);
  }, session);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Chats' }).waitFor(WAIT);
  return { context, page };
}

function chatLink(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Chats' }).getByRole('link', { name: new RegExp(name) });
}

async function openChat(page: Page, name: string): Promise<void> {
  await chatLink(page, name).click();
  await page.getByRole('heading', { name, exact: true }).waitFor(WAIT);
}

async function openAccount(page: Page) {
  await page.getByRole('button', { name: 'Account' }).click(WAIT);
  const dialog = page.getByRole('dialog', { name: 'Account' });
  await dialog.waitFor(WAIT);
  return dialog;
}

async function post(account: Account, conversationId: string, body: string): Promise<void> {
  await server.api('POST', `/v1/conversations/${conversationId}/messages`, account.apiKey, {
    clientMsgId: `s-${++sent}`,
    body,
  });
}

/** Makes `change` on `page` and answers the status of the PUT /v1/me/settings that saves it. */
async function settingSaved(page: Page, change: () => Promise<void>): Promise<number> {
  const saved = page.waitForResponse((r) => r.url().endsWith('/v1/me/settings') && r.request().method() === 'PUT');
  await change();
  return (await saved).status();
}

async function mutedOnServer(account: Account, conversationId: string): Promise<boolean> {
  return (await server.api('GET', `/v1/conversations/${conversationId}`, account.apiKey)).conversation.muted;
}

const notes = (page: Page): Promise<Note[]> =>
  page.evaluate(() =>
    (window as unknown as { __notes: Note[] }).__notes.map(({ title, body, tag }) => ({ title, body, tag })),
  );

async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    (window as unknown as { __hidden: boolean }).__hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

describe('web client settings and notifications', () => {
  beforeAll(async () => {
    alice = await server.api('POST', '/v1/users', null, { username: 'alice', displayName: 'Alice Liddell' });
    bob = await server.api('POST', '/v1/users', null, { username: 'bob', displayName: 'Bob Builder' });
    directId = (await server.api('POST', '/v1/conversations', bob.apiKey, { memberIds: [alice.user.id] })).conversation
      .id;
    groupId = (
      await server.api('POST', '/v1/conversations', bob.apiKey, { memberIds: [alice.user.id], title: 'Book club' })
    ).conversation.id;
    // Bob is a stranger to Alice, so both chats start as her message requests; they are not what
    // these tests are about: she accepts them (requests get no push and show no presence).
    for (const id of [directId, groupId]) await server.api('POST', `/v1/conversations/${id}/accept`, alice.apiKey);
    await post(bob, directId, 'Hi Alice');
    await post(bob, groupId, 'Welcome to the club');
    ({ context: aliceContext, page: alicePage } = await signedIn(alice, { notifications: true }));
    ({ page: bobPage } = await signedIn(bob));
  });

  it('mutes and unmutes a chat from its header', async () => {
    await openChat(alicePage, 'Book club');
    await alicePage.getByRole('button', { name: 'Mute', exact: true }).click();
    await alicePage.getByRole('button', { name: 'Unmute', exact: true }).waitFor(WAIT);
    await chatLink(alicePage, 'Book club').getByText('(muted)').waitFor(WAIT);
    expect(await mutedOnServer(alice, groupId)).toBe(true);

    await alicePage.getByRole('button', { name: 'Unmute', exact: true }).click();
    await alicePage.getByRole('button', { name: 'Mute', exact: true }).waitFor(WAIT);
    await chatLink(alicePage, 'Book club')
      .getByText('(muted)')
      .waitFor({ state: 'detached', ...WAIT });
    expect(await mutedOnServer(alice, groupId)).toBe(false);
  });

  it('hides the online status: the other side sees Offline, then Online again', async () => {
    await openChat(bobPage, 'Alice Liddell');
    const subtitle = bobPage.getByRole('region', { name: 'Alice Liddell' }).locator('.chat-subtitle');
    await expect.poll(() => subtitle.textContent(), WAIT).toBe('Online');

    const dialog = await openAccount(alicePage);
    const showStatus = dialog.getByRole('switch', { name: 'Show my online status' });
    expect(await showStatus.isChecked()).toBe(true);
    expect(await settingSaved(alicePage, () => showStatus.uncheck())).toBe(200);
    // The server sends no presence event about a hidden user, so Bob sees it on his next look.
    await bobPage.reload();
    await expect.poll(() => subtitle.textContent(), WAIT).toBe('Offline');

    expect(await settingSaved(alicePage, () => showStatus.check())).toBe(200);
    await bobPage.reload();
    await expect.poll(() => subtitle.textContent(), WAIT).toBe('Online');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('turns notifications on: registers the service worker and subscribes, or says push is unavailable', async () => {
    const dialog = await openAccount(alicePage);
    const toggle = dialog.getByRole('switch', { name: 'Notifications' });
    expect(await toggle.isChecked()).toBe(false);
    const subscribed = alicePage
      .waitForResponse((r) => r.url().endsWith('/v1/push/subscriptions') && r.request().method() === 'POST', WAIT)
      .then((r) => r.status());
    subscribed.catch(() => {});
    await toggle.check();
    const hint = dialog.getByText(/^(On: new messages notify you|Push notifications are unavailable)/);
    await hint.waitFor(WAIT);
    expect(await toggle.isChecked()).toBe(true);

    const script = await alicePage.evaluate(
      async () => (await navigator.serviceWorker.getRegistration())?.active?.scriptURL ?? null,
    );
    expect(script).toBe(`${server.url}/sw.js`);

    if ((await hint.textContent())?.startsWith(PUSH_UNAVAILABLE)) {
      // The path this environment takes: headless Chromium has no push service (no GCM/FCM
      // connection, no network), and pushManager.subscribe() rejects at once with "AbortError:
      // Registration failed - permission denied" even with the permission granted. The app keeps
      // notifications on and says they only come while a tab is open; the next test covers those.
      console.info('notifications test: push unavailable in this browser; exercised the hidden-tab Notification path');
      expect(await hint.getAttribute('role')).toBe('status');
    } else {
      // A browser with a push service: the subscription went to the server.
      console.info('notifications test: push subscription created and posted to the server');
      expect(await subscribed).toBe(201);
    }

    // The choice survives a reload.
    await dialog.getByRole('button', { name: 'Close' }).click();
    await alicePage.reload();
    await alicePage.getByRole('navigation', { name: 'Chats' }).waitFor(WAIT);
    const again = await openAccount(alicePage);
    expect(await again.getByRole('switch', { name: 'Notifications' }).isChecked()).toBe(true);
    await again.getByRole('button', { name: 'Close' }).click();
  });

  it('while the tab is hidden, notifies of new messages in chats that are not muted; a click opens the chat', async () => {
    await openChat(alicePage, 'Book club');
    await alicePage.getByRole('button', { name: 'Mute', exact: true }).click();
    await alicePage.getByRole('button', { name: 'Unmute', exact: true }).waitFor(WAIT);
    await alicePage.evaluate(() => (location.hash = ''));
    await alicePage.getByText('Pick a chat to start messaging.').waitFor(WAIT);
    expect(await notes(alicePage)).toEqual([]);

    // Visible: the page shows the message itself, no notification.
    await post(bob, directId, 'While you look');
    await chatLink(alicePage, 'Bob Builder').filter({ hasText: 'While you look' }).waitFor(WAIT);

    await setHidden(alicePage, true);
    await post(bob, groupId, 'Quiet, this chat is muted');
    await post(bob, directId, 'Are you there?');
    await expect
      .poll(() => notes(alicePage), WAIT)
      .toEqual([{ title: 'Bob Builder', body: 'Are you there?', tag: directId }]);
    await chatLink(alicePage, 'Book club').filter({ hasText: 'Quiet, this chat is muted' }).waitFor(WAIT);
    expect(await notes(alicePage)).toHaveLength(1);

    await alicePage.evaluate(() =>
      (window as unknown as { __notes: Array<{ onclick(): void }> }).__notes[0]!.onclick(),
    );
    await alicePage.getByRole('heading', { name: 'Bob Builder', exact: true }).waitFor(WAIT);
    expect(await alicePage.evaluate(() => location.hash)).toBe(`#/c/${directId}`);
    await setHidden(alicePage, false);
  });

  it('service worker: a push is shown only when no window is on screen, and opening a chat reaches the window', async () => {
    const worker =
      aliceContext.serviceWorkers().find((w) => w.url().endsWith('/sw.js')) ??
      (await aliceContext.waitForEvent('serviceworker', WAIT));
    expect(worker.url()).toBe(`${server.url}/sw.js`);
    const cdp: CDPSession = await aliceContext.newCDPSession(alicePage);
    const registrations: Array<{ registrationId: string; scopeURL: string; isDeleted: boolean }> = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    await expect
      .poll(() => registrations.some((r) => !r.isDeleted && r.scopeURL === `${server.url}/`), WAIT)
      .toBe(true);
    const registrationId = registrations.find((r) => !r.isDeleted && r.scopeURL === `${server.url}/`)!.registrationId;
    // A real (trusted) push event with the notifier's payload, as DevTools' "Push" button sends it.
    const push = (preview: string) =>
      cdp.send('ServiceWorker.deliverPushMessage', {
        origin: server.url,
        registrationId,
        data: JSON.stringify({
          type: 'message',
          conversationId: groupId,
          messageId: 'm-x',
          senderName: 'Bob Builder',
          preview,
          unreadTotal: 4,
        }),
      });
    const shown = () =>
      worker.evaluate(async () =>
        (await (self as unknown as { registration: ServiceWorkerRegistration }).registration.getNotifications()).map(
          (n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as unknown }),
        ),
      );

    // A window of the app is on screen: the page handles it, the worker stays quiet.
    await push('seen by the open window');
    await alicePage.getByRole('heading', { name: 'Bob Builder', exact: true }).waitFor(WAIT);
    expect(await shown()).toEqual([]);

    // What a notification click does once it has a window: focus it and tell it which chat to open.
    expect(
      await worker.evaluate(
        (id) => (self as unknown as { openChat(id: string): Promise<string> }).openChat(id),
        groupId,
      ),
    ).toBe('focused');
    await alicePage.getByRole('heading', { name: 'Book club', exact: true }).waitFor(WAIT);

    // No window of the app: the push becomes a notification, one per chat.
    await alicePage.goto('about:blank');
    await push('first');
    await push('second');
    await expect
      .poll(shown, WAIT)
      .toEqual([
        { title: 'Bob Builder', body: 'second', tag: groupId, data: { conversationId: groupId, messageId: 'm-x' } },
      ]);
    await cdp.detach();
  });

  it('turns notifications off', async () => {
    await alicePage.goto('/', WAIT);
    const dialog = await openAccount(alicePage);
    const toggle = dialog.getByRole('switch', { name: 'Notifications' });
    await toggle.uncheck(WAIT);
    await dialog.getByText('Off: no notifications on this browser.').waitFor(WAIT);
    expect(
      await alicePage.evaluate((key) => localStorage.getItem(key), `messenger.notifications.${alice.user.id}`),
    ).toBeNull();
    expect(pageErrors).toEqual([]);
  });
});

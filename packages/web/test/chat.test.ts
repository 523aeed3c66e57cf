// End to end: the built web client against the real server process, two browser contexts chatting.
// The steps share one server and one conversation, so they run in order.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { apiKeyOf, newUserPage, sendMessage, signIn, signUp, startDirectChat } from './harness.mjs';
import { webForFile } from './for-file.js';

const WAIT = { timeout: 10_000 };

const { server, browser } = webForFile();
let alice: Page;
let bob: Page;
const dialogs: string[] = [];
const pageErrors: string[] = [];

function article(page: Page, text: string) {
  return page.getByRole('article').filter({ hasText: text });
}

function chatLink(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Chats' }).getByRole('link', { name: new RegExp(name) });
}

async function openChat(page: Page, name: string): Promise<void> {
  await chatLink(page, name).click();
  await page.getByRole('heading', { name, exact: true }).waitFor(WAIT);
}

describe('web client', () => {
  beforeAll(async () => {
    ({ page: alice } = await newUserPage(browser, server.url));
    ({ page: bob } = await newUserPage(browser, server.url));
    for (const page of [alice, bob]) {
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      page.on('pageerror', (e) => pageErrors.push(e.message));
    }
  });

  it('signs up two users and keeps them signed in across a reload', async () => {
    await signUp(alice, 'alice', 'Alice Liddell');
    await signUp(bob, 'bob', 'Bob Builder');
    await alice.reload();
    await alice.getByRole('navigation', { name: 'Chats' }).waitFor();
    expect(await alice.getByRole('textbox', { name: 'Username' }).count()).toBe(0);
  });

  it('shows Sent while the other side is away, Delivered when it comes back, Seen once read; unread badge and title follow', async () => {
    await bob.goto('about:blank');
    await startDirectChat(alice, 'bob');
    await sendMessage(alice, 'Hello Bob, how are you?');
    const mine = article(alice, 'Hello Bob, how are you?');
    await mine.getByText('Sent', { exact: true }).waitFor(WAIT);

    await bob.goto('/');
    // A stranger's chat is a message request: Bob accepts it, and then it is in his chat list.
    await bob.getByRole('button', { name: 'Accept request from Alice Liddell' }).click();
    const link = chatLink(bob, 'Alice Liddell');
    await link.filter({ hasText: 'Hello Bob, how are you?' }).waitFor(WAIT);
    await expect.poll(() => link.locator('.badge').textContent(), WAIT).toBe('1');
    await expect.poll(() => bob.title(), WAIT).toBe('(1) Messenger');
    await mine.getByText('Delivered', { exact: true }).waitFor(WAIT);

    await openChat(bob, 'Alice Liddell');
    await article(bob, 'Hello Bob, how are you?').waitFor(WAIT);
    await mine.getByText('Seen', { exact: true }).waitFor(WAIT);
    await expect.poll(() => bob.title(), WAIT).toBe('Messenger');
  });

  it('delivers in real time, with a typing indicator', async () => {
    const box = bob.getByRole('textbox', { name: 'Message' });
    await box.click();
    await box.pressSequentially('Gre');
    await alice.getByText('Bob Builder is typing…').waitFor(WAIT);
    await box.pressSequentially('at, thanks!');
    await box.press('Shift+Enter');
    await box.pressSequentially('And you?');
    await box.press('Enter');
    const received = article(alice, 'Great, thanks!');
    await received.waitFor(WAIT);
    expect(await received.locator('.message-text').textContent()).toBe('Great, thanks!\nAnd you?');
    await alice.getByText('Bob Builder is typing…').waitFor({ state: 'detached', ...WAIT });
  });

  it('reacts, and the other side sees the count; clicking again removes it', async () => {
    const msg = article(alice, 'Great, thanks!');
    await msg.hover();
    await msg.getByRole('button', { name: 'React' }).click();
    await alice.getByRole('group', { name: 'Pick a reaction' }).getByRole('button', { name: '👍' }).click();
    const onBob = article(bob, 'Great, thanks!').getByRole('button', { name: '👍 1' });
    await onBob.waitFor(WAIT);
    await msg.getByRole('button', { name: '👍 1' }).click();
    await onBob.waitFor({ state: 'detached', ...WAIT });
  });

  it('replies with a quote', async () => {
    const original = article(bob, 'Hello Bob, how are you?');
    await original.hover();
    await original.getByRole('button', { name: 'More actions' }).click();
    await bob.getByRole('menuitem', { name: 'Reply' }).click();
    await bob.getByText('Replying to Alice Liddell').waitFor(WAIT);
    await sendMessage(bob, 'Answering your question');
    const reply = article(alice, 'Answering your question');
    await reply.waitFor(WAIT);
    await reply.getByRole('button', { name: /Reply to You: Hello Bob/ }).waitFor(WAIT);
  });

  it('edits and deletes for everyone', async () => {
    await sendMessage(alice, 'Lunch at noon?');
    const own = article(alice, 'Lunch at noon?');
    await own.getByText('Seen', { exact: true }).waitFor(WAIT);
    await own.hover();
    await own.getByRole('button', { name: 'More actions' }).click();
    await alice.getByRole('menuitem', { name: 'Edit' }).click();
    const box = alice.getByRole('textbox', { name: 'Message' });
    await expect.poll(() => box.inputValue(), WAIT).toBe('Lunch at noon?');
    await box.fill('Lunch at one?');
    await box.press('Enter');
    const edited = article(bob, 'Lunch at one?');
    await edited.getByText('edited').waitFor(WAIT);

    const toDelete = article(alice, 'Lunch at one?');
    await toDelete.hover();
    await toDelete.getByRole('button', { name: 'More actions' }).click();
    await alice.getByRole('menuitem', { name: 'Delete for everyone' }).click();
    await edited.waitFor({ state: 'detached', ...WAIT });
    await article(bob, 'This message was deleted').waitFor(WAIT);
    await article(alice, 'This message was deleted').waitFor(WAIT);
  });

  it('shows markup literally and makes only http(s) links clickable', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await sendMessage(alice, evil);
    await sendMessage(alice, 'docs at https://example.org/guide. and javascript:alert(2)');
    const shown = article(bob, evil);
    await shown.waitFor(WAIT);
    expect(await shown.locator('.message-text').textContent()).toBe(evil);
    expect(await bob.locator('.messages img').count()).toBe(0);
    const link = article(bob, 'docs at').getByRole('link', { name: 'https://example.org/guide' });
    await link.waitFor(WAIT);
    expect(await link.getAttribute('href')).toBe('https://example.org/guide');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await article(bob, 'docs at').getByRole('link').count()).toBe(1);
    expect(dialogs).toEqual([]);
  });

  it('creates a group and counts who has seen a message', async () => {
    const carol = await server.api('POST', '/v1/users', null, { username: 'carol', displayName: 'Carol Danvers' });
    await alice.getByRole('button', { name: 'New group' }).click();
    const dialog = alice.getByRole('dialog');
    await dialog.getByRole('textbox', { name: 'Group name' }).fill('Weekend trip');
    await dialog.getByRole('textbox', { name: 'Members' }).fill('bob, carol');
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await alice.getByRole('heading', { name: 'Weekend trip' }).waitFor(WAIT);
    await sendMessage(alice, 'Who is in for Saturday?');
    const own = article(alice, 'Who is in for Saturday?');
    await own.getByText('Delivered', { exact: true }).waitFor(WAIT);

    await chatLink(bob, 'Weekend trip').filter({ hasText: 'Who is in for Saturday?' }).waitFor(WAIT);
    await openChat(bob, 'Weekend trip');
    await own.getByText('Seen by 1', { exact: true }).waitFor(WAIT);

    // Carol shares no chat with Alice: the group is her message request until she accepts it.
    const { conversations } = await server.api('GET', '/v1/conversations?requests=true', carol.apiKey);
    const group = conversations.find((c: { title: string }) => c.title === 'Weekend trip')!;
    await server.api('POST', `/v1/conversations/${group.id}/accept`, carol.apiKey);
    await server.api('POST', `/v1/conversations/${group.id}/read`, carol.apiKey, { seq: group.lastSeq });
    await own.getByText('Seen by 2', { exact: true }).waitFor(WAIT);

    await server.api('POST', `/v1/conversations/${group.id}/messages`, carol.apiKey, {
      clientMsgId: 'carol-1',
      body: 'Count me in!',
    });
    const fromCarol = article(bob, 'Count me in!');
    await fromCarol.getByText('Carol Danvers').waitFor(WAIT);
  });

  it('adds a member to the group, and a member leaves', async () => {
    await server.api('POST', '/v1/users', null, { username: 'dave', displayName: 'Dave Grohl' });
    await alice.getByText('3 members').waitFor(WAIT);
    await alice.getByRole('button', { name: 'Add members' }).click();
    const dialog = alice.getByRole('dialog');
    await dialog.getByRole('textbox', { name: 'Usernames' }).fill('dave');
    await dialog.getByRole('button', { name: 'Add' }).click();
    await alice.getByText('4 members').waitFor(WAIT);
    await bob.getByText('4 members').waitFor(WAIT);

    await bob.getByRole('button', { name: 'Leave group' }).click();
    await chatLink(bob, 'Weekend trip').waitFor({ state: 'detached', ...WAIT });
    await alice.getByText('3 members').waitFor(WAIT);
  });

  it('moves a chat to the top with a badge when a message arrives elsewhere', async () => {
    // Bob is in the group; Alice writes in the direct chat.
    await openChat(alice, 'Bob Builder');
    await sendMessage(alice, 'Ping from the direct chat');
    const first = bob.getByRole('navigation', { name: 'Chats' }).getByRole('listitem').first();
    await first.filter({ hasText: 'Ping from the direct chat' }).waitFor(WAIT);
    await expect.poll(() => first.locator('.badge').textContent(), WAIT).toBe('1');
    await expect.poll(() => bob.title(), WAIT).toBe('(1) Messenger');
  });

  it('searches with highlighted snippets and opens the chat at the hit', async () => {
    await bob.getByRole('searchbox', { name: 'Search messages' }).fill('question');
    const results = bob.getByRole('region', { name: 'Search results' });
    await results.locator('mark').first().waitFor(WAIT);
    expect((await results.locator('mark').first().textContent())?.toLowerCase()).toContain('question');
    await results.getByRole('button').filter({ hasText: 'Answering your' }).click();
    await bob.getByRole('heading', { name: 'Alice Liddell' }).waitFor(WAIT);
    await article(bob, 'Answering your question').waitFor(WAIT);
    expect(await article(bob, 'Answering your question').isVisible()).toBe(true);
  });

  it('catches up after the server restarts: offline sends go out, missed messages appear once', async () => {
    const aliceKey = await apiKeyOf(alice);
    const { conversations } = await server.api('GET', '/v1/conversations', aliceKey);
    const direct = conversations.find((c: { kind: string }) => c.kind === 'direct')!;

    await server.stop('SIGKILL');
    await bob.getByText('Reconnecting…').waitFor(WAIT);
    await alice.getByText('Reconnecting…').waitFor(WAIT);
    // Written while the server is down: waits in the outbox.
    await sendMessage(bob, 'Written while offline');
    await article(bob, 'Written while offline').getByText('Sending…').waitFor(WAIT);

    await server.start();
    // Sent the moment the server is back, likely before the browsers' sockets reconnect.
    await server.api('POST', `/v1/conversations/${direct.id}/messages`, aliceKey, {
      clientMsgId: 'during-reconnect',
      body: 'Sent during the reconnect',
    });

    await article(bob, 'Sent during the reconnect').waitFor({ timeout: 20_000 });
    await article(alice, 'Written while offline').waitFor({ timeout: 20_000 });
    await article(bob, 'Written while offline')
      .getByText(/^(Delivered|Seen)$/)
      .waitFor({ timeout: 20_000 });
    await alice.getByText('Reconnecting…').waitFor({ state: 'hidden', ...WAIT });
    expect(await article(bob, 'Sent during the reconnect').count()).toBe(1);
    expect(await article(alice, 'Sent during the reconnect').count()).toBe(1);
    expect(await article(alice, 'Written while offline').count()).toBe(1);
    expect(await article(bob, 'Written while offline').count()).toBe(1);
  }, 60_000);

  it('signs out, which ends the session on the server, and back in with the password', async () => {
    const token = await apiKeyOf(bob);
    await bob.getByRole('button', { name: 'Sign out' }).click();
    await bob.getByRole('button', { name: 'Sign up' }).waitFor(WAIT);
    await expect
      .poll(() =>
        server.api('GET', '/v1/me', token).then(
          () => 'ok',
          (e: Error) => e.message,
        ),
      )
      .toMatch(/401/);
    await signIn(bob, 'bob');
    await chatLink(bob, 'Alice Liddell').waitFor(WAIT);
    expect(await apiKeyOf(bob)).not.toBe(token);
    expect(pageErrors).toEqual([]);
  });
});

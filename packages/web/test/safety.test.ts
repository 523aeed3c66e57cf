// End to end: message requests, blocking and removing a group member in the built web client
// against the real server process. The steps share one server, so they run in order.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { apiKeyOf, newUserPage, signUp } from './harness.mjs';
import { webForFile } from './for-file.js';

const WAIT = { timeout: 10_000 };

const { server, browser } = webForFile();
let alice: Page;
let bob: Page;
let carol: { user: { id: string }; apiKey: string };
let direct: string;
const pageErrors: string[] = [];

const chatLink = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Chats' }).getByRole('link', { name: new RegExp(name) });

describe('web client: safety', () => {
  beforeAll(async () => {
    ({ page: alice } = await newUserPage(browser, server.url));
    ({ page: bob } = await newUserPage(browser, server.url));
    for (const page of [alice, bob]) {
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (e) => pageErrors.push(e.message));
    }
    await signUp(alice, 'alice', 'Alice Liddell');
    await signUp(bob, 'bob', 'Bob Builder');
    carol = await server.api('POST', '/v1/users', null, { username: 'carol', displayName: 'Carol Danvers' });
  });

  it('lands a stranger’s chat in Requests until it is accepted', async () => {
    const { user } = await server.api('GET', '/v1/users?username=alice', carol.apiKey);
    ({
      conversation: { id: direct },
    } = await server.api('POST', '/v1/conversations', carol.apiKey, { memberIds: [user.id] }));
    await server.api('POST', `/v1/conversations/${direct}/messages`, carol.apiKey, {
      clientMsgId: 'c1',
      body: 'Hi Alice, it is Carol',
    });
    const requests = alice.getByRole('list', { name: 'Message requests' });
    await requests.getByText('Hi Alice, it is Carol').waitFor(WAIT);
    expect(await chatLink(alice, 'Carol Danvers').count()).toBe(0);

    await alice.getByRole('button', { name: 'Accept request from Carol Danvers' }).click();
    await chatLink(alice, 'Carol Danvers').waitFor(WAIT);
    await requests.waitFor({ state: 'detached', ...WAIT });
    const { conversations } = await server.api('GET', '/v1/conversations', await apiKeyOf(alice));
    expect(conversations.map((c: { id: string }) => c.id)).toContain(direct);
  });

  it('declines a request from the open chat’s banner: it is gone and stays gone', async () => {
    const { user } = await server.api('GET', '/v1/users?username=bob', carol.apiKey);
    const {
      conversation: { id },
    } = await server.api('POST', '/v1/conversations', carol.apiKey, { memberIds: [user.id] });
    await server.api('POST', `/v1/conversations/${id}/messages`, carol.apiKey, { clientMsgId: 'd1', body: 'Buy now' });
    const requests = bob.getByRole('list', { name: 'Message requests' });
    await requests.getByRole('link', { name: /Carol Danvers/ }).click();
    await bob.getByRole('heading', { name: 'Carol Danvers', exact: true }).waitFor(WAIT);
    const banner = bob.getByRole('region', { name: 'Message request' });
    await banner.getByRole('button', { name: 'Decline request from Carol Danvers' }).click();
    await bob.getByRole('heading', { name: 'Carol Danvers', exact: true }).waitFor({ state: 'detached', ...WAIT });
    await requests.waitFor({ state: 'detached', ...WAIT });
    // The server's word, and a fresh load: not a request, not a chat.
    const bobKey = await apiKeyOf(bob);
    for (const q of ['', '?requests=true']) {
      const { conversations } = await server.api('GET', `/v1/conversations${q}`, bobKey);
      expect(conversations.map((c: { id: string }) => c.id)).not.toContain(id);
    }
    await bob.reload();
    await bob.getByRole('navigation', { name: 'Chats' }).waitFor(WAIT);
    expect(await bob.getByRole('list', { name: 'Message requests' }).count()).toBe(0);
  });

  it('blocks from the chat’s header and unblocks from the blocked-users list', async () => {
    await chatLink(alice, 'Carol Danvers').click();
    await alice.getByRole('heading', { name: 'Carol Danvers', exact: true }).waitFor(WAIT);
    await alice.getByRole('button', { name: 'Block Carol Danvers' }).click();
    await alice.getByRole('button', { name: 'Unblock Carol Danvers' }).waitFor(WAIT);
    const send = (n: number) =>
      server.api('POST', `/v1/conversations/${direct}/messages`, carol.apiKey, {
        clientMsgId: `b${n}`,
        body: `try ${n}`,
      });
    await expect(send(1)).rejects.toThrow(/403/);

    // The account menu's list, reached with the keyboard.
    await alice.getByRole('button', { name: 'Account' }).focus();
    await alice.keyboard.press('Enter');
    await alice.getByRole('dialog').getByRole('button', { name: 'Blocked users' }).click();
    const list = alice.getByRole('list', { name: 'Blocked users' });
    await list.getByText('Carol Danvers').waitFor(WAIT);
    await list.getByRole('button', { name: 'Unblock Carol Danvers' }).click();
    await list.waitFor({ state: 'detached', ...WAIT });
    await alice.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    await send(2);
    await alice.getByRole('article').filter({ hasText: 'try 2' }).waitFor(WAIT);
  });

  it('lets a group admin remove a member from the group info panel', async () => {
    const aliceKey = await apiKeyOf(alice);
    const { user: bobUser } = await server.api('GET', '/v1/users?username=bob', aliceKey);
    const {
      conversation: { id: group },
    } = await server.api('POST', '/v1/conversations', aliceKey, { memberIds: [bobUser.id], title: 'Book club' });
    await server.api('POST', `/v1/conversations/${group}/accept`, await apiKeyOf(bob));
    await chatLink(bob, 'Book club').waitFor(WAIT);

    await chatLink(alice, 'Book club').click();
    await alice.getByRole('heading', { name: 'Book club', exact: true }).waitFor(WAIT);
    await alice.getByRole('button', { name: 'Group info' }).click();
    const members = alice.getByRole('dialog').getByRole('list', { name: 'Members' });
    await members.getByText('Bob Builder').waitFor(WAIT);
    await alice.getByRole('button', { name: 'Remove Bob Builder from the group' }).click();
    await members.getByText('Bob Builder').waitFor({ state: 'detached', ...WAIT });
    await chatLink(bob, 'Book club').waitFor({ state: 'detached', ...WAIT });
    expect(pageErrors).toEqual([]);
  });
});

// Link previews over the real wire: a message's first link is read (pages served from 127.0.0.1,
// allowed by LINK_PREVIEW_ALLOWED_HOSTS) and the preview arrives with a message.updated and in
// history. Without the allowance, and on a redirect to another private host, nothing is fetched.
import { beforeAll, describe, expect, it } from 'vitest';
import { GuardedPageFetcher, isPublicAddress } from '../src/adapters/webfetch/page-fetcher.js';
import { firstLink, parsePreview } from '../src/core/media/link-previews.js';
import { friends, sendForPreview, serverForFile, siteForFile, type TestUser, waitFor } from './harness.js';

const server = serverForFile({}, { LINK_PREVIEW_ALLOWED_HOSTS: '127.0.0.1' });
let ann: TestUser;
let bob: TestUser;
let chat: string;

const PAGE = `<!doctype html><html><head><title>Ignored title</title>
<meta property="og:title" content="Trail guide &amp; maps">
<meta name="description" content="Where to walk this weekend">
<meta property="og:image" content="/cover.jpg"></head><body>hello</body></html>`;

const site = siteForFile((req, res) => {
  if (req.url === '/to-private') res.writeHead(302, { location: `http://localhost:${site.port}/page` }).end();
  else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
});

beforeAll(async () => {
  [chat, ann, bob] = await friends(server.urls[0]!);
});

describe('link previews', () => {
  it('reads the first link of a message and adds the preview with message.updated', async () => {
    const message = await sendForPreview(server, [ann, bob], chat, `Route for Saturday: ${site.origin}/page.`);
    expect(message.linkPreview).toEqual({
      url: `${site.origin}/page`,
      title: 'Trail guide & maps',
      description: 'Where to walk this weekend',
      imageUrl: `${site.origin}/cover.jpg`,
      // The page answers /cover.jpg with HTML: no image, so no thumbnail (link-preview-images.test.ts).
      thumbnailUrl: null,
    });
    expect(message.editedAt).toBeNull();
    const stored = await waitFor(async () => {
      const h = await bob.call('GET', `/v1/conversations/${chat}/messages`);
      return h.body.messages.find((m: any) => m.id === message.id && m.linkPreview);
    });
    expect(stored.linkPreview.title).toBe('Trail guide & maps');
    expect(stored.editedAt).toBeNull();
  });

  it('refuses private addresses unless allowed, after DNS and on redirects', async () => {
    site.hits = [];
    const strict = new GuardedPageFetcher();
    await expect(strict.fetch(`${site.origin}/page`)).rejects.toThrow(/private/);
    const port = site.port;
    await expect(strict.fetch(`http://localhost:${port}/page`)).rejects.toThrow(/private/);
    await expect(strict.fetch(`http://[::1]:${port}/page`)).rejects.toThrow(/private/);
    expect(site.hits).toEqual([]);
    const allowed = new GuardedPageFetcher({ allowedHosts: ['127.0.0.1'] });
    await expect(allowed.fetch(`${site.origin}/to-private`)).rejects.toThrow(/private/);
    expect(site.hits).toEqual(['/to-private']);
    expect((await allowed.fetch(`${site.origin}/page`)).html).toContain('og:title');
    for (const address of [
      '10.1.2.3',
      '127.0.0.1',
      '169.254.169.254',
      '192.168.1.1',
      '::1',
      'fd00::1',
      '::ffff:10.0.0.1',
    ])
      expect(isPublicAddress(address)).toBe(false);
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(isPublicAddress(address)).toBe(true);
  });

  it('finds the first link and reads titles without markup', () => {
    expect(firstLink('see (https://example.org/a?b=1), then http://x.test')).toBe('https://example.org/a?b=1');
    expect(firstLink('no link here')).toBeNull();
    const p = parsePreview('https://e.test/', {
      url: 'https://e.test/x/',
      html: "<title>A &lt;b&gt; &#x263A;</title><meta content='Desc' name='description'><meta property=og:image content=javascript:alert(1)>",
    });
    expect(p).toEqual({ url: 'https://e.test/', title: 'A <b> ☺', description: 'Desc', imageUrl: null });
  });
});

// A link preview's image over the real wire, both modes: the server fetches it (pages and images
// served from 127.0.0.1, allowed by LINK_PREVIEW_ALLOWED_HOSTS), keeps a thumbnail in the blob
// store, and the preview carries a signed URL to it that only members get and that works with no
// header. An image over the size limit, or bytes that are no image, leave a preview without one.
// Deleting the message for everyone, or the sender removing the preview, deletes the file.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { GuardedPageFetcher } from '../src/adapters/webfetch/page-fetcher.js';
import { avatarUploadIdOf } from '../src/core/media/attachments.js';
import {
  expectError,
  friends,
  online,
  sendForPreview,
  sendHttp,
  serverForFile,
  siteForFile,
  type TestUser,
  waitFor,
} from './harness.js';

const server = serverForFile({}, { LINK_PREVIEW_ALLOWED_HOSTS: '127.0.0.1' });
let ann: TestUser;
let bob: TestUser;
let eve: TestUser;
let chat: string;
const images = new Map<string, { type: string; bytes: Buffer }>();
/** Requests for /held.png wait here until the test lets them go. */
const held: (() => void)[] = [];

const png = (width: number, height: number, background: string) =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();

/** Noise does not compress: a PNG well over the 512 KiB limit. */
const noise = () => {
  const raw = Buffer.alloc(640 * 640 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  return sharp(raw, { raw: { width: 640, height: 640, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
};

const page = (title: string, image: string) =>
  `<!doctype html><html><head><meta property="og:title" content="${title}">
<meta property="og:image" content="${image}"></head><body>hi</body></html>`;

const site = siteForFile((req, res) => {
  const path = req.url ?? '';
  const image = images.get(path);
  if (path === '/held.png' && image)
    return held.push(() => res.writeHead(200, { 'content-type': image.type }).end(image.bytes));
  if (image) return res.writeHead(200, { 'content-type': image.type }).end(image.bytes);
  const name = path.match(/^\/page\/(\w+)/)?.[1];
  if (!name) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'text/html' }).end(page(`Page ${name}`, `/${name}.png`));
});

beforeAll(async () => {
  images.set('/red.png', { type: 'image/png', bytes: await png(800, 400, '#e11') });
  images.set('/green.png', { type: 'image/png', bytes: await png(300, 300, '#1e1') });
  images.set('/blue.png', { type: 'image/png', bytes: await png(200, 500, '#11e') });
  images.set('/held.png', { type: 'image/png', bytes: await png(240, 240, '#fb0') });
  images.set('/big.png', { type: 'image/png', bytes: await noise() });
  images.set('/fake.png', { type: 'image/png', bytes: Buffer.from('<html>not an image</html>') });
  images.set('/text.png', { type: 'text/html', bytes: await png(10, 10, '#000') });
  [chat, ann, bob, eve] = await friends(server.urls[0]!, 3);
  expect(images.get('/big.png')!.bytes.length).toBeGreaterThan(512 * 1024);
});

/** Sends a link to `/page/<name>` and answers the message as Bob's socket gets it with its preview. */
const sendLink = (name: string) =>
  sendForPreview(server, [ann, bob], chat, `look: ${site.origin}/page/${name}`, 15_000);

const fetchAt = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${server.urls.at(-1)!}${path}`, { headers });

describe('link preview images', () => {
  it('fetches the image server-side and serves a signed, members-only thumbnail', async () => {
    site.hits = [];
    const message = await sendLink('red');
    expect(site.hits).toEqual(['/page/red', '/red.png']);
    const preview = message.linkPreview;
    expect(preview).toMatchObject({ title: 'Page red', imageUrl: `${site.origin}/red.png` });
    expect(preview.thumbnailUrl).toMatch(/^\/v1\/uploads\/[^/?]+\/thumbnail\?exp=\d+&sig=[\w-]+$/);

    // No header needed: an <img src> works.
    const res = await fetchAt(preview.thumbnailUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 320, 160]);

    const tampered = preview.thumbnailUrl.replace(/sig=./, (s: string) => (s.endsWith('A') ? 'sig=B' : 'sig=A'));
    expect((await fetchAt(tampered)).status).toBe(403);
    const plain = preview.thumbnailUrl.split('?')[0];
    expect((await fetchAt(plain, { authorization: `Bearer ${bob.apiKey}` })).status).toBe(200);
    expect((await fetchAt(plain, { authorization: `Bearer ${eve.apiKey}` })).status).toBe(404);
    expect((await fetchAt(plain)).status).toBeGreaterThanOrEqual(400);

    // History signs it afresh; the store keeps the plain path.
    const history = await bob.call('GET', `/v1/conversations/${chat}/messages`);
    const stored = history.body.messages.find((m: any) => m.id === message.id);
    expect(stored.linkPreview.thumbnailUrl).toMatch(/\/thumbnail\?exp=\d+&sig=/);
    const record = await server.backend.uploads.get(avatarUploadIdOf(plain)!);
    expect(record).toMatchObject({ ownerId: ann.id, conversationId: chat, messageId: message.id });
  });

  it('keeps the preview but no image when it is over the size limit, not an image, or not served as one', async () => {
    for (const name of ['big', 'fake', 'text']) {
      const message = await sendLink(name);
      expect(message.linkPreview).toMatchObject({ title: `Page ${name}`, thumbnailUrl: null });
    }
    expect(site.hits).toEqual(expect.arrayContaining(['/big.png', '/fake.png', '/text.png']));
  });

  it('deletes the image file when the message is deleted for everyone', async () => {
    const message = await sendLink('green');
    const id = avatarUploadIdOf(message.linkPreview.thumbnailUrl)!;
    const { blobKey } = (await server.backend.uploads.get(id))!;
    expect(await server.backend.blobs.stat(blobKey)).not.toBeNull();
    const del = await ann.call('DELETE', `/v1/conversations/${chat}/messages/${message.id}?for=everyone`);
    expect(del.status).toBe(204);
    expect(await server.backend.uploads.get(id)).toBeNull();
    expect(await server.backend.blobs.stat(blobKey)).toBeNull();
    expect((await fetchAt(message.linkPreview.thumbnailUrl)).status).toBe(404);
  });

  it('deletes the image of a message deleted for everyone while its preview was being made', async () => {
    const sent = await sendHttp(ann, chat, `soon gone: ${site.origin}/page/held`);
    await waitFor(async () => held.length > 0, 10_000);
    const del = await ann.call('DELETE', `/v1/conversations/${chat}/messages/${sent.id}?for=everyone`);
    expect(del.status).toBe(204);
    held.shift()!();
    // Thumbnailing a 240 px image and logging it takes milliseconds; without the re-check after the
    // append its upload (and file) would be left behind, attached to a tombstone.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await server.backend.uploads.ofMessage(sent.id)).toEqual([]);
  });

  it('lets the sender, and only the sender, remove the preview, which deletes its file', async () => {
    const message = await sendLink('blue');
    const id = avatarUploadIdOf(message.linkPreview.thumbnailUrl)!;
    const { blobKey } = (await server.backend.uploads.get(id))!;
    const path = `/v1/conversations/${chat}/messages/${message.id}/link-preview`;
    expectError(await bob.call('DELETE', path), 403, 'forbidden');
    expectError(await eve.call('DELETE', path), 404, 'not_found');
    const [socket] = await online(server.urls.at(-1)!, bob);
    expect((await ann.call('DELETE', path)).status).toBe(204);
    const removed = await socket.waitForEvent(
      'message.updated',
      (e) => e.message.id === message.id && e.message.linkPreview == null,
      10_000,
    );
    socket.close();
    expect(removed.message.body).toBe(message.body);
    expect(await server.backend.uploads.get(id)).toBeNull();
    expect(await server.backend.blobs.stat(blobKey)).toBeNull();
    const history = await bob.call('GET', `/v1/conversations/${chat}/messages`);
    expect(history.body.messages.find((m: any) => m.id === message.id).linkPreview ?? null).toBeNull();
    expect((await ann.call('DELETE', path)).status).toBe(204);
  });

  it('fetches images by the page rules: private addresses refused unless allowed', async () => {
    site.hits = [];
    await expect(new GuardedPageFetcher().fetchImage(`${site.origin}/red.png`)).rejects.toThrow(/private/);
    expect(site.hits).toEqual([]);
    const allowed = new GuardedPageFetcher({ allowedHosts: ['127.0.0.1'] });
    expect((await allowed.fetchImage(`${site.origin}/red.png`)).equals(images.get('/red.png')!.bytes)).toBe(true);
    await expect(allowed.fetchImage(`${site.origin}/big.png`)).rejects.toThrow(/over/);
    await expect(allowed.fetchImage(`${site.origin}/text.png`)).rejects.toThrow(/not an image/);
  });
});

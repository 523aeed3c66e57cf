// Uploads over the real wire, both modes: streaming in with a size limit, types from the bytes,
// images cleaned of EXIF/GPS with a thumbnail, bombs refused, signed and authenticated downloads
// with byte ranges and safe headers, and deletion of files never attached. In cluster mode a file
// uploaded through one gateway downloads through the other (object storage: S3 on s3rver).
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { contentKey } from '../src/core/media/blob-store.js';
import { UrlSigner } from '../src/core/media/signed-urls.js';
import { newId } from '../src/domain/ids.js';
import { CLUSTER } from './deployment.mjs';
import { directChat, expectError, serverForFile, signUp, signUpMany, type TestUser, uploadFile } from './harness.js';

const MAX = 2 * 1024 * 1024;
const server = serverForFile({ maxUploadBytes: MAX });
let ann: TestUser;
let bob: TestUser;
beforeAll(async () => {
  [ann, bob] = await signUpMany(server.firstUrl, 2);
});

const upload = (body: Uint8Array | string, type: string, name = 'file.bin', key = ann.apiKey) =>
  uploadFile(server.firstUrl, key, body, type, name);

/** Uploads a body that streams in, with no Content-Length. */
const uploadStream = (stream: ReadableStream<Uint8Array>, key: string) =>
  fetch(`${server.firstUrl}/v1/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
    body: stream,
    duplex: 'half',
  } as RequestInit);

async function download(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.lastUrl}${url}`, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A JPEG that says where it was taken (GPS), who made it, and that it is rotated (orientation 6). */
async function photoWithGps(): Promise<Buffer> {
  return sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: 'PhoneMaker', Model: 'Secret Phone' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 29/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 40/1' },
    })
    .toBuffer();
}

/** A 30,000 x 30,000 grayscale PNG of a few KB: a valid header and the start of its pixel data. */
function pngBomb(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30_000, 0);
  ihdr.writeUInt32BE(30_000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const rows = deflateSync(Buffer.alloc(200 * 30_001), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', rows),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(data: Buffer): number {
  let c = ~0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** One second of 8 kHz 8-bit mono silence as a WAV file. */
function wav(): Buffer {
  const data = Buffer.alloc(8000, 128);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(8000, 28);
  h.writeUInt16LE(1, 32);
  h.writeUInt16LE(8, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

describe('uploads', () => {
  it('strip EXIF and GPS from a photo, apply its orientation, and make a small thumbnail', async () => {
    const original = await photoWithGps();
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const res = await upload(original, 'image/jpeg', 'holiday 🌴.jpg');
    expect(res.status).toBe(201);
    const { upload: up } = res.body;
    expect(up).toMatchObject({
      name: 'holiday 🌴.jpg',
      contentType: 'image/jpeg',
      width: 600,
      height: 800,
      durationMs: null,
    });

    const got = await download(up.url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/jpeg');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toBe('sandbox');
    expect(got.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(got.bytes.length).toBe(up.size);
    expect(sha(got.bytes)).toBe(up.sha256);
    const served = await sharp(got.bytes).metadata();
    expect(served.exif).toBeUndefined();
    expect(served.orientation).toBeUndefined();
    expect([served.width, served.height]).toEqual([600, 800]);
    expect(got.bytes.includes(Buffer.from('Secret Phone'))).toBe(false);

    const thumb = await download(up.thumbnailUrl);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    const t = await sharp(thumb.bytes).metadata();
    expect(Math.max(t.width, t.height)).toBeLessThanOrEqual(320);
    expect(t.exif).toBeUndefined();
  });

  it('refuse a decompression bomb with a 4xx', async () => {
    const bomb = pngBomb();
    expect(bomb.length).toBeLessThan(20_000);
    const res = await upload(bomb, 'image/png', 'bomb.png');
    expectError(res, 400, 'invalid_request');
  });

  it('take the type from the bytes, not from the client', async () => {
    const png = await sharp({ create: { width: 10, height: 20, channels: 4, background: '#00f' } })
      .png()
      .toBuffer();
    const lied = await upload(png, 'image/jpeg', 'not-a.jpg');
    expect(lied.body.upload).toMatchObject({ contentType: 'image/png', width: 10, height: 20 });

    const binary = await upload(Buffer.from([0, 1, 2, 3, 255, 254, 0, 7]), 'image/png', 'x.png');
    expect(binary.body.upload).toMatchObject({
      contentType: 'application/octet-stream',
      width: null,
      thumbnailUrl: null,
    });
    const got = await download(binary.body.upload.url);
    expect(got.headers.get('content-disposition')).toMatch(/^attachment;/);

    const html = await upload('<script>alert(document.cookie)</script>', 'text/html', 'page.html');
    expect(html.body.upload.contentType).toBe('text/html');
    const page = await download(html.body.upload.url);
    expect(page.headers.get('content-disposition')).toMatch(/^attachment; filename="page.html"/);
    expect(page.headers.get('content-security-policy')).toBe('sandbox');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');

    const svg = await upload(
      '<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>',
      'image/svg+xml',
      'a.svg',
    );
    expect(svg.body.upload).toMatchObject({ contentType: 'image/svg+xml', width: null });
    expect((await download(svg.body.upload.url)).headers.get('content-disposition')).toMatch(/^attachment;/);

    const voice = await upload(wav(), 'application/octet-stream', 'voice.wav');
    expect(voice.body.upload.contentType).toMatch(/^audio\//);
    expect(voice.body.upload.durationMs).toBe(1000);
  });

  it('refuse an upload over MAX_UPLOAD_BYTES with 413, by header or while streaming, leaving nothing', async () => {
    const before = await server.backend.uploads.ofOwner(bob.id);
    const big = Buffer.alloc(MAX + 1, 7);
    expectError(await upload(big, 'application/octet-stream', 'big', bob.apiKey), 413, 'message_too_big');

    // No Content-Length: the limit is found while the body streams in.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX * 2) return controller.close();
        sent += 65_536;
        controller.enqueue(new Uint8Array(65_536));
      },
    });
    const res = await uploadStream(stream, bob.apiKey);
    // The answer arrives while the client is still sending: the server does not wait for the rest.
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('message_too_big');
    expect(await server.backend.uploads.ofOwner(bob.id)).toEqual(before);
    const spool = path.join(server.dataDir, ...(CLUSTER ? ['gateway0'] : []), 'spool');
    expect(fs.readdirSync(spool)).toEqual([]);
  });

  it('store a body streamed in many chunks under the SHA-256 of exactly its bytes', async () => {
    // Random bytes: no magic number, not text, so stored as they came (no image re-encoding).
    const data = randomBytes(MAX);
    const sizes = [65_536, 1, 3000, 131_072, 17];
    let at = 0;
    let chunks = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= data.length) return controller.close();
        const next = data.subarray(at, at + sizes[chunks++ % sizes.length]!);
        at += next.length;
        controller.enqueue(new Uint8Array(next));
      },
    });
    const res = await uploadStream(stream, ann.apiKey);
    expect(res.status).toBe(201);
    const { upload: up } = (await res.json()) as any;
    expect(chunks).toBeGreaterThan(30);
    expect(up).toMatchObject({ size: MAX, sha256: sha(data), contentType: 'application/octet-stream' });
    const record = (await server.backend.uploads.get(up.id))!;
    expect([record.sha256, record.blobKey]).toEqual([sha(data), contentKey(sha(data))]);
    expect(await server.backend.blobs.stat(record.blobKey)).toEqual({ size: MAX });
    const got = await download(up.url);
    expect(got.status).toBe(200);
    expect(sha(got.bytes)).toBe(sha(data));
  });

  it('answer bad input with 4xx, never 5xx', async () => {
    const bad = await fetch(`${server.firstUrl}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ann.apiKey}`, 'x-filename': '%E0%A4%A' },
      body: 'x',
    });
    expect(bad.status).toBe(400);
    const noAuth = await fetch(`${server.firstUrl}/v1/uploads`, { method: 'POST', body: 'x' });
    expect(noAuth.status).toBe(401);
    const empty = await upload('', 'text/plain', '');
    expect(empty.body.upload).toMatchObject({ size: 0, name: 'file' });
    expect((await download(empty.body.upload.url, { range: 'bytes=0-0' })).status).toBe(416);
    const corrupt = await upload(Buffer.concat([await photoWithGps()]).subarray(0, 400), 'image/jpeg', 'cut.jpg');
    expect(corrupt.status).toBe(400);
    expect((await download('/v1/uploads/f_nope/content?exp=1&sig=x')).status).toBe(403);
    expect((await download('/v1/uploads/%2e%2e/content', { authorization: `Bearer ${ann.apiKey}` })).status).toBe(404);
  });

  it('sign URLs: a tampered or expired signature is 403; Bearer works for the uploader only', async () => {
    const { upload: up } = (await upload('hello, world', 'text/plain', 'hello.txt')).body;
    const url = new URL(up.url, server.firstUrl);
    expect(Number(url.searchParams.get('exp')) * 1000 - Date.now()).toBeGreaterThan(3_600_000);
    const tampered = `${url.pathname}?exp=${url.searchParams.get('exp')}&sig=${url.searchParams.get('sig')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`;
    expect((await download(tampered)).status).toBe(403);
    const later = `${url.pathname}?exp=${Number(url.searchParams.get('exp')) + 3600}&sig=${url.searchParams.get('sig')}`;
    expect((await download(later)).status).toBe(403);
    const signer = new UrlSigner({ secret: await server.backend.mediaSecret() });
    expect((await download(signer.url(up.id, 'content', Date.now() - 48 * 3_600_000))).status).toBe(403);

    const plain = `/v1/uploads/${up.id}/content`;
    const own = await download(plain, { authorization: `Bearer ${ann.apiKey}` });
    expect([own.status, own.bytes.toString()]).toEqual([200, 'hello, world']);
    expect(own.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect((await download(plain, { authorization: `Bearer ${bob.apiKey}` })).status).toBe(404);
    expect((await download(plain)).status).toBe(401);
    // Attached to a message of a chat: its members may read it with their credential, others not.
    const chat = await directChat(ann, bob);
    await server.backend.uploads.claim(
      up.id,
      ann.id,
      { conversationId: chat, messageId: 'm_x' },
      new Date().toISOString(),
    );
    expect((await download(plain, { authorization: `Bearer ${bob.apiKey}` })).status).toBe(200);
    const carol = await signUp(server.firstUrl);
    expect((await download(plain, { authorization: `Bearer ${carol.apiKey}` })).status).toBe(404);
    expect((await download(`/v1/uploads/${up.id}/thumbnail`, { authorization: `Bearer ${ann.apiKey}` })).status).toBe(
      404,
    );
  });

  it('serve byte ranges: 206, suffix ranges, 416 when unsatisfiable', async () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const { upload: up } = (await upload(data, 'application/octet-stream', 'data.bin')).body;
    const part = await download(up.url, { range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 10-19/1000');
    expect(part.bytes).toEqual(data.subarray(10, 20));
    const open = await download(up.url, { range: 'bytes=990-' });
    expect([open.status, open.bytes.length]).toEqual([206, 10]);
    const suffix = await download(up.url, { range: 'bytes=-5' });
    expect(suffix.headers.get('content-range')).toBe('bytes 995-999/1000');
    expect(suffix.bytes).toEqual(data.subarray(995));
    const beyond = await download(up.url, { range: 'bytes=1000-1001' });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */1000');
    const whole = await download(up.url, { range: 'bytes=5-1' });
    expect([whole.status, whole.bytes.length]).toEqual([200, 1000]);
  });

  it('delete uploads never attached after 24 hours, and on request, from storage too', async () => {
    const carol = await signUp(server.firstUrl);
    const png = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#0f0' } })
      .png()
      .toBuffer();
    const { upload: old } = (await upload(png, 'image/png', 'old.png', carol.apiKey)).body;
    const { upload: kept } = (await upload('keep', 'text/plain', 'k.txt', carol.apiKey)).body;
    const record = (await server.backend.uploads.get(old.id))!;
    expect(server.backend.blobs.constructor.name).toBe(CLUSTER ? 'S3BlobStore' : 'DiskBlobStore');
    expect(await server.backend.blobs.stat(record.blobKey)).not.toBeNull();
    await server.backend.uploads.claim(
      kept.id,
      carol.id,
      { conversationId: 'c_x', messageId: 'm_x' },
      new Date().toISOString(),
    );

    await server.media.sweep(Date.now() + 25 * 3_600_000);
    expect((await download(old.url)).status).toBe(404);
    expect(await server.backend.blobs.stat(record.blobKey)).toBeNull();
    expect(await server.backend.blobs.stat(record.thumbnailKey!)).toBeNull();
    if (!CLUSTER) expect(fs.existsSync(path.join(server.dataDir, 'uploads', record.blobKey))).toBe(false);
    expect((await download(kept.url)).status).toBe(200);

    expect(await server.media.deleteUploadsOf(carol.id)).toBe(1);
    expect((await download(kept.url)).status).toBe(404);
    expect(await server.media.deleteUpload(kept.id)).toBe(false);
  });

  it('the sweeper keeps an object that an attached upload of the same bytes still needs', async () => {
    const dan = await signUp(server.firstUrl);
    const bytes = `swept once, kept once ${dan.id}`;
    const { upload: loose } = (await upload(bytes, 'text/plain', 'loose.txt', dan.apiKey)).body;
    const { upload: sent } = (await upload(bytes, 'text/plain', 'sent.txt', dan.apiKey)).body;
    const key = (await server.backend.uploads.get(sent.id))!.blobKey;
    const to = { conversationId: 'c_x', messageId: `m_${dan.id}` };
    expect(await server.backend.uploads.claim(sent.id, dan.id, to, new Date().toISOString())).toBe(true);
    await server.media.sweep(Date.now() + 25 * 3_600_000);
    expect(await server.backend.uploads.get(loose.id)).toBeNull();
    expect((await download(sent.url)).bytes.toString()).toBe(bytes);
    expect(await server.media.deleteUploadsOf(dan.id)).toBe(1);
    expect(await server.backend.blobs.stat(key)).toBeNull();
  });

  it('files stored under per-upload keys before content addressing still download and delete', async () => {
    const dan = await signUp(server.firstUrl);
    const id = newId('f');
    const bytes = Buffer.from(`stored before content addressing ${id}`);
    await server.backend.blobs.put(`u/${id}`, Readable.from([bytes]));
    const at = new Date().toISOString();
    await server.backend.uploads.create(
      {
        ...{ id, ownerId: dan.id, name: 'old.txt', contentType: 'text/plain', size: bytes.length, sha256: sha(bytes) },
        ...{ width: null, height: null, durationMs: null, blobKey: `u/${id}`, thumbnailKey: null, createdAt: at },
        ...{ attachedAt: null, conversationId: null, messageId: null },
      },
      async () => undefined,
    );
    const old = await download(`/v1/uploads/${id}/content`, { authorization: `Bearer ${dan.apiKey}` });
    expect([old.status, old.bytes.toString()]).toEqual([200, bytes.toString()]);
    // The same bytes uploaded now get their content key, and the old object is left as it is.
    const { upload: fresh } = (await upload(bytes, 'text/plain', 'new.txt', dan.apiKey)).body;
    expect((await server.backend.uploads.get(fresh.id))!.blobKey).toBe(contentKey(sha(bytes)));
    expect(await server.media.deleteUpload(id)).toBe(true);
    expect(await server.backend.blobs.stat(`u/${id}`)).toBeNull();
    expect((await download(fresh.url)).status).toBe(200);
  });
});

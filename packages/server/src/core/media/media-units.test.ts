// The pure and local parts of media: ranges, URL signatures, names, image processing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MAX_IMAGE_PIXELS, processImage, sniffType } from './inspect.js';
import { Slots } from '../../domain/slots.js';
import { cleanName } from './media.js';
import { parseRange } from './ranges.js';
import { URL_LIFETIME_MS, UrlSigner } from './signed-urls.js';

describe('parseRange', () => {
  it('reads one range, open-ended and suffix ranges, and clamps the end', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=50-5000', 100)).toEqual({ start: 50, end: 99 });
  });

  it('says unsatisfiable past the end, and ignores what it does not serve', () => {
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-0', 0)).toBe('unsatisfiable');
    for (const ignored of [undefined, '', 'bytes=5-1', 'bytes=0-1,5-6', 'items=0-1', 'bytes=-', 'bytes=a-b'])
      expect(parseRange(ignored, 100)).toBeUndefined();
  });
});

describe('UrlSigner', () => {
  const secret = Buffer.alloc(32, 9).toString('base64url');
  const signer = new UrlSigner({ secret });
  const parts = (url: string) => {
    const u = new URL(url, 'http://x');
    return { exp: u.searchParams.get('exp')!, sig: u.searchParams.get('sig')! };
  };

  it('signs for at least the lifetime, rounded up to the hour', () => {
    const now = Date.UTC(2026, 0, 1, 10, 17);
    const { exp, sig } = parts(signer.url('f_1', 'content', now));
    expect(Number(exp) * 1000 - now).toBeGreaterThanOrEqual(URL_LIFETIME_MS);
    expect(Number(exp) % 3600).toBe(0);
    expect(signer.verify('f_1', 'content', exp, sig, now)).toBe(true);
    expect(signer.url('f_1', 'content', now + 60_000)).toBe(signer.url('f_1', 'content', now));
  });

  it('refuses another upload, variant, expiry, key or a passed expiry', () => {
    const now = Date.now();
    const { exp, sig } = parts(signer.url('f_1', 'content', now));
    expect(signer.verify('f_2', 'content', exp, sig, now)).toBe(false);
    expect(signer.verify('f_1', 'thumbnail', exp, sig, now)).toBe(false);
    expect(signer.verify('f_1', 'content', String(Number(exp) + 1), sig, now)).toBe(false);
    expect(signer.verify('f_1', 'content', exp, sig, Number(exp) * 1000 + 1)).toBe(false);
    expect(signer.verify('f_1', 'content', 'x', sig, now)).toBe(false);
    const other = new UrlSigner({ secret: Buffer.alloc(32, 1).toString('base64url') });
    expect(other.verify('f_1', 'content', exp, sig, now)).toBe(false);
    expect(() => new UrlSigner({ secret: 'short' })).toThrow();
  });
});

describe('cleanName', () => {
  it('keeps a name, drops paths and control characters', () => {
    const names: [given: string, kept: string][] = [
      ['photo 🌴.jpg', 'photo 🌴.jpg'],
      ['../../etc/passwd', '.._.._etc_passwd'],
      ['a\u0000b\nc', 'abc'],
      ['', 'file'],
      ['..', 'file'],
    ];
    for (const [given, kept] of names) expect(cleanName(given)).toBe(kept);
    expect(cleanName('x'.repeat(400))).toHaveLength(255);
  });
});

describe('Slots', () => {
  it('runs at most its size at once, the rest in order, also after failures', async () => {
    const slots = new Slots(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      order.push(i);
      if (i === 1) throw new Error('boom');
      return i;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => slots.run(task(i))));
    expect(peak).toBe(2);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(order.slice(2).sort()).toEqual([2, 3, 4]);
  });
});

describe('images', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-units-'));
  const write = async (name: string, image: ReturnType<typeof sharp>) => {
    const file = path.join(dir, name);
    await image.toFile(file);
    return file;
  };

  it('re-encodes WebP and GIF without metadata, with a thumbnail', async () => {
    const base = () => sharp({ create: { width: 1000, height: 500, channels: 3, background: '#123456' } });
    for (const [type, image] of [
      [
        'image/webp',
        base()
          .webp()
          .withExif({ IFD0: { Model: 'Secret Phone' } }),
      ],
      ['image/gif', base().gif()],
      [
        'image/png',
        base()
          .png()
          .withExif({ IFD0: { Model: 'Secret Phone' } }),
      ],
    ] as const) {
      const file = await write(`in.${type.split('/')[1]}`, image);
      expect(await sniffType(file, fs.readFileSync(file).subarray(0, 8192), 'text/plain')).toBe(type);
      const out = `${file}.out`;
      const done = await processImage(file, type, out);
      expect([done.width, done.height]).toEqual([1000, 500]);
      expect((await sharp(out).metadata()).exif).toBeUndefined();
      const thumb = await sharp(done.thumbnail).metadata();
      expect([thumb.width, thumb.height, thumb.format]).toEqual([320, 160, 'webp']);
    }
  });

  it('refuses an image over the pixel limit from its header', async () => {
    expect(MAX_IMAGE_PIXELS).toBeLessThan(30_000 * 30_000);
    const file = await write(
      'garbage.jpg',
      sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).jpeg(),
    );
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 100));
    await expect(processImage(file, 'image/jpeg', `${file}.out`)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('tells text from binary when no magic number matches', async () => {
    const text = path.join(dir, 'notes.csv');
    fs.writeFileSync(text, 'a,b\n1,2\n');
    expect(await sniffType(text, fs.readFileSync(text), 'text/csv; charset=utf-8')).toBe('text/csv');
    expect(await sniffType(text, fs.readFileSync(text), 'application/x-msdownload')).toBe('text/plain');
    const bin = path.join(dir, 'blob');
    fs.writeFileSync(bin, Buffer.from([1, 0, 2, 0, 3]));
    expect(await sniffType(bin, fs.readFileSync(bin), 'text/plain')).toBe('application/octet-stream');
  });
});

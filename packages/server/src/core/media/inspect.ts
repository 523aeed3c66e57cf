// What an uploaded file is, from its bytes: the type (never the client's word, except for text),
// and for images a copy without metadata plus a thumbnail, for audio and video the duration.
// sharp's and music-metadata's work runs off the event loop (sharp on libuv threads).
import { fileTypeFromFile } from 'file-type';
import { parseFile } from 'music-metadata';
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../../domain/errors.js';

/** Processed by sharp: these get dimensions, a thumbnail and their metadata stripped. */
export const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

/** Above this many pixels an image is refused (a decompression bomb is a few KB that decode to GBs). */
export const MAX_IMAGE_PIXELS = 100_000_000;
export const THUMBNAIL_MAX_SIDE = 320;

/** Text the client may name itself: no magic number tells a CSV from plain text. */
const DECLARABLE_TEXT = /^(text\/[a-z0-9.+-]+|application\/(json|xml)|image\/svg\+xml)$/;

/** The type to store and serve: the sniffed one; for text the declared one when it is text; else octet-stream. */
export async function sniffType(file: string, head: Buffer, declared: string | undefined): Promise<string> {
  const found = await fileTypeFromFile(file).catch(() => undefined);
  if (found) return narrowedToAudio(found.mime, declared) ?? found.mime;
  if (!looksLikeText(head)) return 'application/octet-stream';
  const type = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  return DECLARABLE_TEXT.test(type) ? type : 'text/plain';
}

/**
 * WebM, Matroska and MP4 hold audio or video, and their magic says video: a recording the client
 * calls audio (a voice message from MediaRecorder) is served as audio. Both are served inline.
 */
function narrowedToAudio(sniffed: string, declared: string | undefined): string | null {
  const want = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  const pairs: Record<string, string[]> = {
    'video/webm': ['audio/webm'],
    'video/x-matroska': ['audio/webm', 'audio/x-matroska'],
    'video/mp4': ['audio/mp4', 'audio/x-m4a'],
  };
  return pairs[sniffed]?.includes(want) ? want : null;
}

function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  // A multi-byte character cut at the end of the head is not a reason to call it binary.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const replaced = text.length - text.replaceAll('\uFFFD', '').length;
  return replaced <= 1;
}

export interface ProcessedImage {
  width: number;
  height: number;
  thumbnail: Buffer;
}

const bad = (why: string) => new AppError('invalid_request', why);

/**
 * Re-encodes the image at `file` into `out` with its orientation applied and no metadata (sharp
 * keeps none unless told to), and makes a WebP thumbnail. Refuses what cannot be decoded, and
 * anything over MAX_IMAGE_PIXELS before decoding it.
 */
export async function processImage(file: string, type: string, out: string): Promise<ProcessedImage> {
  const animated = type === 'image/gif' || type === 'image/webp';
  const options = { limitInputPixels: MAX_IMAGE_PIXELS, animated, failOn: 'error' as const };
  let meta: Metadata;
  try {
    meta = await sharp(file, options).metadata();
  } catch {
    throw bad('the image could not be read');
  }
  const frame = (meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0);
  if (frame > MAX_IMAGE_PIXELS || frame === 0) throw bad(`the image is over ${MAX_IMAGE_PIXELS} pixels`);
  try {
    const image = sharp(file, options).rotate();
    const encoded =
      type === 'image/jpeg'
        ? image.jpeg({ quality: 90 })
        : type === 'image/png'
          ? image.png()
          : type === 'image/webp'
            ? image.webp({ quality: 90 })
            : image.gif();
    await encoded.toFile(out);
    const stored = await sharp(out, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
    const thumbnail = await sharp(out, { limitInputPixels: MAX_IMAGE_PIXELS })
      .resize({ width: THUMBNAIL_MAX_SIDE, height: THUMBNAIL_MAX_SIDE, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75 })
      .toBuffer();
    return { width: stored.width, height: stored.pageHeight ?? stored.height, thumbnail };
  } catch {
    throw bad('the image could not be decoded');
  }
}

/** Audio or video duration in ms; null when the container does not say or cannot be read. */
export async function probeDuration(file: string): Promise<number | null> {
  try {
    const { format } = await parseFile(file, { duration: true, skipCovers: true });
    return format.duration !== undefined && Number.isFinite(format.duration)
      ? Math.round(format.duration * 1000)
      : null;
  } catch {
    return null;
  }
}

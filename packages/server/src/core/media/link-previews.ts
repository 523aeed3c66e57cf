// Link previews: after a message with a link is sent, the server reads the first link's page
// (title, description, image) and adds it to the message with a message.updated. Best effort:
// a page that cannot be read adds nothing. Pages are cached by URL for an hour, per process.
// The page's image is fetched by the server too (the reader's browser never asks the linked site)
// and kept as a thumbnail per message; an image that cannot be read leaves a preview without one.
import type { LinkPreview, Message } from '@messenger/protocol';
import type { Logger } from '../../observability/logger.js';
import type { EventLog } from '../messages/event-log.js';
import { avatarUploadIdOf } from './attachments.js';
import type { PreviewThumbnail } from './preview-images.js';

export interface FetchedPage {
  /** After redirects. */
  url: string;
  html: string;
}

/** Reads a page for a preview; rejects for anything it may not or cannot read (SSRF guard). */
export interface PageFetcher {
  fetch(url: string): Promise<FetchedPage>;
  /** An image's bytes, by the same rules and limits; without it previews carry no image. */
  fetchImage?(url: string): Promise<Buffer>;
}

/** Makes and keeps preview images (PreviewImages). */
export interface PreviewImageStore {
  thumbnail(bytes: Buffer): Promise<PreviewThumbnail>;
  /** A copy for one message; answers the plain thumbnail path. */
  store(
    thumbnail: PreviewThumbnail,
    of: { senderId: string; conversationId: string; messageId: string },
  ): Promise<string>;
}

interface LinkPreviewsDeps {
  fetcher: PageFetcher;
  log: Pick<EventLog, 'append'>;
  logger: Logger;
  images?: PreviewImageStore;
  /**
   * Whether the message was deleted for everyone (its files deleted) while its page was read:
   * the image stored for it since is deleted then, or nothing would.
   */
  deleted?(conversationId: string, messageId: string): Promise<boolean>;
  /** Deletes an upload (a preview image stored for a message deleted meanwhile). */
  discard?(uploadId: string): Promise<void>;
}

interface Cached {
  at: number;
  preview: LinkPreview | null;
  thumbnail: PreviewThumbnail | null;
}

const CACHE_TTL_MS = 3_600_000;
const CACHE_SIZE = 1_000;
const LINK = /\bhttps?:\/\/[^\s<>"'`]+/i;

/** The first http(s) link of a text, without the punctuation that usually ends a sentence. */
export function firstLink(body: string): string | null {
  const found = body.match(LINK)?.[0];
  if (!found) return null;
  const trimmed = found.replace(/[.,;:!?)\]}'"]+$/, '');
  try {
    return new URL(trimmed).toString();
  } catch {
    return null;
  }
}

export class LinkPreviews {
  private readonly deps: LinkPreviewsDeps;
  // Thumbnails are at most 320 px WebP (tens of KB), so a full cache stays within tens of MB.
  private readonly cache = new Map<string, Cached>();

  constructor(deps: LinkPreviewsDeps) {
    this.deps = deps;
  }

  /** Starts the preview of a message just sent; never throws, never delays the send. */
  onSent(message: Message): void {
    const url = firstLink(message.body);
    if (!url) return;
    void this.add(message, url).catch((err: unknown) =>
      this.deps.logger.debug({ err, url }, 'no link preview for this message'),
    );
  }

  /** Resolves once the preview is logged (or known to be none); for tests. */
  async add(message: Message, url: string): Promise<LinkPreview | null> {
    const page = await this.preview(url);
    if (!page.preview) return null;
    let preview: LinkPreview = { ...page.preview, thumbnailUrl: null };
    if (page.thumbnail && this.deps.images) {
      const of = { senderId: message.senderId, conversationId: message.conversationId, messageId: message.id };
      preview = { ...preview, thumbnailUrl: await this.deps.images.store(page.thumbnail, of) };
    }
    const image = preview.thumbnailUrl ? avatarUploadIdOf(preview.thumbnailUrl) : null;
    try {
      await this.deps.log.append({
        type: 'message.updated',
        conversationId: message.conversationId,
        messageId: message.id,
        body: message.body,
        editedAt: message.editedAt,
        message: { ...message, linkPreview: preview },
        linkPreview: preview,
      });
    } finally {
      // A delete for everyone deleted the files it found; one stored after that would stay behind.
      if (image && (await this.deps.deleted?.(message.conversationId, message.id))) await this.deps.discard?.(image);
    }
    return preview;
  }

  private async preview(url: string): Promise<Cached> {
    const hit = this.cache.get(url);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit;
    const entry: Cached = { at: Date.now(), preview: null, thumbnail: null };
    try {
      const page = await this.deps.fetcher.fetch(url);
      entry.preview = parsePreview(url, page);
      if (entry.preview?.imageUrl) entry.thumbnail = await this.image(entry.preview.imageUrl);
    } finally {
      entry.at = Date.now();
      if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(url, entry);
    }
    return entry;
  }

  /** The thumbnail of a page's image; null when it cannot be fetched or is no image (the preview stays). */
  private async image(imageUrl: string): Promise<PreviewThumbnail | null> {
    const { fetcher, images } = this.deps;
    if (!fetcher.fetchImage || !images) return null;
    try {
      return await images.thumbnail(await fetcher.fetchImage(imageUrl));
    } catch (err) {
      this.deps.logger.debug({ err, imageUrl }, 'link preview without its image');
      return null;
    }
  }
}

/** Title, description and image from a page's Open Graph tags, else its <title> and meta description. */
export function parsePreview(url: string, page: FetchedPage): LinkPreview | null {
  const head = page.html.slice(0, 256 * 1024);
  const meta = (name: string): string | null => {
    for (const tag of head.matchAll(/<meta\b[^>]*>/gi)) {
      const attrs = tag[0];
      const key = attr(attrs, 'property') ?? attr(attrs, 'name');
      if (key?.toLowerCase() === name) return attr(attrs, 'content');
    }
    return null;
  };
  const titleTag = head.match(/<title\b[^>]*>([\s\S]*?)<\/title>/i)?.[1] ?? null;
  const title = clean(meta('og:title') ?? meta('twitter:title') ?? titleTag, 200);
  const description = clean(meta('og:description') ?? meta('description') ?? meta('twitter:description'), 500);
  const image = meta('og:image') ?? meta('twitter:image');
  let imageUrl: string | null = null;
  if (image) {
    try {
      const resolved = new URL(decode(image), page.url);
      if (resolved.protocol === 'https:' || resolved.protocol === 'http:') imageUrl = resolved.toString();
    } catch {
      imageUrl = null;
    }
  }
  if (!title && !description) return null;
  return { url, title, description, imageUrl };
}

function attr(tag: string, name: string): string | null {
  const m = tag.match(new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i'));
  return m ? (m[2] ?? m[3] ?? m[4] ?? null) : null;
}

function clean(text: string | null, max: number): string | null {
  if (!text) return null;
  const plain = decode(text.replace(/<[^>]*>/g, ''))
    .replace(/[\p{Cc}\s]+/gu, ' ')
    .trim();
  if (!plain) return null;
  const chars = [...plain];
  return chars.length <= max ? plain : `${chars.slice(0, max - 1).join('')}…`;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, code: string) => {
    if (code[0] === '#') {
      const n = code[1] === 'x' || code[1] === 'X' ? Number.parseInt(code.slice(2), 16) : Number(code.slice(1));
      return Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : whole;
    }
    return ENTITIES[code.toLowerCase()] ?? whole;
  });
}

// A link preview's image, kept by the server: made into a small WebP thumbnail (no metadata, the
// first frame of an animation), stored in the blob store and recorded as an upload of the sender's
// attached to the message. So it is served like an attachment's thumbnail (signed, expiring,
// members only), and it goes when the message is deleted for everyone or the account is deleted.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { newId } from '../../domain/ids.js';
import { avatarPath } from './attachments.js';
import { type BlobStore, contentKey, dropper } from './blob-store.js';
import { THUMBNAIL_MAX_SIDE } from './inspect.js';
import { Slots } from '../../domain/slots.js';
import type { UploadStore } from './upload-store.js';

/** A preview image is a few hundred KB at most: far fewer pixels than a photo may have. */
const MAX_PREVIEW_PIXELS = 40_000_000;
const FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif']);

export interface PreviewThumbnail {
  webp: Buffer;
  width: number;
  height: number;
}

/** The thumbnail of an image's bytes; rejects for anything that is not a JPEG, PNG, WebP or GIF image. */
export async function previewThumbnail(bytes: Buffer): Promise<PreviewThumbnail> {
  const options = { limitInputPixels: MAX_PREVIEW_PIXELS, failOn: 'error' as const };
  const meta = await sharp(bytes, options).metadata();
  if (!meta.format || !FORMATS.has(meta.format)) throw new Error(`not a preview image (${meta.format})`);
  const { data, info } = await sharp(bytes, options)
    .rotate()
    .resize({ width: THUMBNAIL_MAX_SIDE, height: THUMBNAIL_MAX_SIDE, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 75 })
    .toBuffer({ resolveWithObject: true });
  return { webp: data, width: info.width, height: info.height };
}

export class PreviewImages {
  private readonly deps: { uploads: UploadStore; blobs: BlobStore };
  // sharp works on libuv threads; one preview at a time leaves them to uploads.
  private readonly slots = new Slots(1);

  constructor(deps: { uploads: UploadStore; blobs: BlobStore }) {
    this.deps = deps;
  }

  thumbnail(bytes: Buffer): Promise<PreviewThumbnail> {
    return this.slots.run(() => previewThumbnail(bytes));
  }

  /** Stores a copy for one message and answers its plain thumbnail path (signed when served). */
  async store(
    thumbnail: PreviewThumbnail,
    of: { senderId: string; conversationId: string; messageId: string },
  ): Promise<string> {
    const id = newId('f');
    const sha256 = createHash('sha256').update(thumbnail.webp).digest('hex');
    // Content-addressed like uploads: the same image previewed in many messages is one object.
    const key = contentKey(sha256);
    const write = () => this.deps.blobs.put(key, Readable.from([thumbnail.webp]));
    const at = new Date().toISOString();
    try {
      await write();
      await this.deps.uploads.create(
        {
          id,
          ownerId: of.senderId,
          name: 'link-preview.webp',
          contentType: 'image/webp',
          size: thumbnail.webp.length,
          sha256,
          width: thumbnail.width,
          height: thumbnail.height,
          durationMs: null,
          blobKey: key,
          thumbnailKey: key,
          createdAt: at,
          attachedAt: at,
          conversationId: of.conversationId,
          messageId: of.messageId,
        },
        async () => {
          if (!(await this.deps.blobs.stat(key))) await write();
        },
      );
    } catch (error) {
      await this.deps.uploads.release([key], dropper(this.deps.blobs)).catch(() => undefined);
      throw error;
    }
    return avatarPath(id)!;
  }
}

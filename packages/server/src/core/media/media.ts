// Media: uploads in (streamed, sniffed, images cleaned), signed or authenticated downloads out,
// and deletion (of one upload, of a user's, of those never attached after a day).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { Upload } from '@messenger/protocol';
import { AppError, notFound } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { Slots } from '../../domain/slots.js';
import { type BlobStore, type ByteRange, contentKey, dropper } from './blob-store.js';
import { IMAGE_TYPES, probeDuration, processImage, sniffType } from './inspect.js';
import type { UrlSigner, Variant } from './signed-urls.js';
import { spool, WRITE_BEHIND_BYTES } from './spool.js';
import type { UploadRecord, UploadStore } from './upload-store.js';

/** Uploads never attached to a message are deleted after this long. */
export const UNATTACHED_TTL_MS = 24 * 3_600_000;

export interface MediaDeps {
  uploads: UploadStore;
  blobs: BlobStore;
  signer: UrlSigner;
  /** A private directory for bodies on their way in (cleared at start). */
  spoolDir: string;
  maxUploadBytes: number;
  /** Whether the user is a member of the conversation (downloads of attached files). */
  isMember(conversationId: string, userId: string): Promise<boolean>;
}

/** Who asks for a file: the holder of a signed URL, or an authenticated user. */
export type Access = { exp: string; sig: string } | { userId: string };

export interface StoredFile {
  key: string;
  contentType: string;
  name: string;
  size: number;
}

/**
 * Images decoded at once per process: a 100-megapixel photo is 400 MB once decoded (rotating it
 * needs all of it), so ten at a time could exhaust memory where two cannot.
 */
const IMAGE_SLOTS = 2;

export class Media {
  private readonly deps: MediaDeps;
  private readonly imageSlots = new Slots(IMAGE_SLOTS);

  constructor(deps: MediaDeps) {
    this.deps = deps;
  }

  /** Takes the body as a stream; 413 past the limit, 400 for an image that cannot be decoded. */
  async upload(ownerId: string, body: Readable, meta: { declaredType?: string; filename?: string }): Promise<Upload> {
    const { uploads, blobs } = this.deps;
    const spooled = await spool(body, this.deps.spoolDir, this.deps.maxUploadBytes, {
      writeBehindBytes: blobs.keepsFiles ? WRITE_BEHIND_BYTES : 0,
    });
    const cleaned = `${spooled.file}.clean`;
    const id = newId('f');
    /** Each blob written, by key, with how to write it again. */
    const writes = new Map<string, () => Promise<unknown>>();
    try {
      const contentType = await sniffType(spooled.file, spooled.head, meta.declaredType);
      let width: number | null = null;
      let height: number | null = null;
      let durationMs: number | null = null;
      let stored = { file: spooled.file, size: spooled.size, sha256: spooled.sha256 };
      let thumbnailKey: string | null = null;
      if (IMAGE_TYPES.has(contentType)) {
        const image = await this.imageSlots.run(() => processImage(spooled.file, contentType, cleaned));
        ({ width, height } = image);
        // The key is that of the bytes stored, without metadata: hashed before it is chosen.
        stored = { file: cleaned, ...(await hashFile(cleaned)) };
        thumbnailKey = contentKey(createHash('sha256').update(image.thumbnail).digest('hex'));
        writes.set(thumbnailKey, () => blobs.put(thumbnailKey!, Readable.from([image.thumbnail])));
      } else if (contentType.startsWith('audio/') || contentType.startsWith('video/')) {
        durationMs = await probeDuration(spooled.file);
      }
      const blobKey = contentKey(stored.sha256);
      writes.set(blobKey, () => blobs.putFile(blobKey, stored.file));
      // Written again even when another upload has the same object: idempotent, and it leaves the
      // lock (taken by create) for the rare object a removal deleted meanwhile.
      for (const write of writes.values()) await write();
      const record: UploadRecord = {
        id,
        ownerId,
        name: cleanName(meta.filename),
        contentType,
        size: stored.size,
        sha256: stored.sha256,
        width,
        height,
        durationMs,
        blobKey,
        thumbnailKey,
        createdAt: new Date().toISOString(),
        attachedAt: null,
        conversationId: null,
        messageId: null,
      };
      await uploads.create(record, async (keys) => {
        for (const key of keys) if (!(await blobs.stat(key))) await writes.get(key)?.();
      });
      return this.view(record);
    } catch (error) {
      // Other uploads may share these objects: only those nothing refers to are deleted.
      await uploads.release([...writes.keys()], dropper(blobs)).catch(() => undefined);
      throw error;
    } finally {
      await Promise.all([fs.promises.rm(spooled.file, { force: true }), fs.promises.rm(cleaned, { force: true })]);
    }
  }

  /** The upload as clients see it, with freshly signed URLs. */
  view(record: UploadRecord, now = Date.now()): Upload {
    const { signer } = this.deps;
    return {
      id: record.id,
      name: record.name,
      contentType: record.contentType,
      size: record.size,
      sha256: record.sha256,
      width: record.width,
      height: record.height,
      durationMs: record.durationMs,
      url: signer.url(record.id, 'content', now),
      thumbnailUrl: record.thumbnailKey ? signer.url(record.id, 'thumbnail', now) : null,
      createdAt: record.createdAt,
    };
  }

  /**
   * The file a download asks for. A signed URL that is tampered with or expired: 403. A user who
   * neither uploaded it nor is a member of a conversation it is attached to: 404, as for no file.
   */
  async file(id: string, variant: Variant, access: Access): Promise<StoredFile> {
    if ('sig' in access && !this.deps.signer.verify(id, variant, access.exp, access.sig))
      throw new AppError('forbidden', 'the link is not valid or has expired');
    const record = await this.deps.uploads.get(id);
    if (!record) throw notFound('file');
    if ('userId' in access && !(await this.mayRead(record, access.userId))) throw notFound('file');
    if (variant === 'thumbnail') {
      if (!record.thumbnailKey) throw notFound('thumbnail');
      const stat = await this.deps.blobs.stat(record.thumbnailKey);
      if (!stat) throw notFound('file');
      return { key: record.thumbnailKey, contentType: 'image/webp', name: `${record.name}.webp`, size: stat.size };
    }
    return { key: record.blobKey, contentType: record.contentType, name: record.name, size: record.size };
  }

  async open(file: StoredFile, range?: ByteRange): Promise<Readable> {
    const stream = await this.deps.blobs.get(file.key, range);
    if (!stream) throw notFound('file');
    return stream;
  }

  private async mayRead(record: UploadRecord, userId: string): Promise<boolean> {
    if (record.ownerId === userId) return true;
    return record.conversationId !== null && this.deps.isMember(record.conversationId, userId);
  }

  /** Deletes the upload's files, then its record; true when it existed. Idempotent. */
  async deleteUpload(id: string): Promise<boolean> {
    const record = await this.deps.uploads.get(id);
    if (!record) return false;
    await this.deleteRecord(record);
    return true;
  }

  /** Every upload of the user (account deletion); answers how many. */
  async deleteUploadsOf(userId: string): Promise<number> {
    const records = await this.deps.uploads.ofOwner(userId);
    for (const record of records) await this.deleteRecord(record);
    return records.length;
  }

  /** Deletes uploads never attached within UNATTACHED_TTL_MS; answers how many. */
  async sweep(now = Date.now()): Promise<number> {
    const before = new Date(now - UNATTACHED_TTL_MS).toISOString();
    let deleted = 0;
    for (;;) {
      const due = await this.deps.uploads.unattachedBefore(before, 100);
      for (const record of due) await this.deleteRecord(record);
      deleted += due.length;
      if (due.length < 100) return deleted;
    }
  }

  // Files no other upload shares, then the record: a failure leaves the record for a retry (or the sweeper).
  private async deleteRecord(record: UploadRecord): Promise<void> {
    await this.deps.uploads.remove(record.id, dropper(this.deps.blobs));
  }
}

/**
 * The size and SHA-256 of a file: a cleaned image, whose bytes sharp wrote from its own threads
 * (its stream output would hand over the whole encoded image as one buffer).
 */
async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** A display name: no path, no control characters, at most 255 characters; `file` when empty. */
export function cleanName(raw: string | undefined): string {
  const name = (raw ?? '')
    .replace(/\p{Cc}/gu, '')
    .replace(/[/\\]/g, '_')
    .trim()
    .slice(0, 255);
  return name === '' || name === '.' || name === '..' ? 'file' : name;
}

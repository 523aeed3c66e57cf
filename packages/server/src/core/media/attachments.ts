// Attachments: uploads claimed for a message when it is sent, their files deleted with it, and the
// signed URLs added each time a message is served. The log and the stores keep each attachment with
// unsigned paths (which work with a member's Bearer credential); clients get signed ones.
import { createHash } from 'node:crypto';
import type { Attachment, Conversation, Message, User } from '@messenger/protocol';
import { AppError, invalid, notFound } from '../../domain/errors.js';
import { type BlobStore, dropper } from './blob-store.js';
import type { UrlSigner } from './signed-urls.js';
import type { AttachedTo, UploadRecord, UploadStore } from './upload-store.js';

export interface AttachmentsDeps {
  uploads: UploadStore;
  blobs: BlobStore;
  signer: UrlSigner;
}

export class Attachments {
  private readonly deps: AttachmentsDeps;

  constructor(deps: AttachmentsDeps) {
    this.deps = deps;
  }

  /**
   * Claims every upload for the message, atomically each: 404 for one that is not the sender's
   * (or does not exist), 409 for one already attached to another message. A retry of the same send
   * claims for the same message id (sentMessageId), so its own earlier claim is no conflict.
   */
  async claim(senderId: string, uploadIds: readonly string[], to: AttachedTo, at: string): Promise<Attachment[]> {
    if (new Set(uploadIds).size !== uploadIds.length)
      throw new AppError('invalid_request', 'an upload is listed twice');
    const records: UploadRecord[] = [];
    for (const id of uploadIds) {
      const record = await this.deps.uploads.get(id);
      if (!record || record.ownerId !== senderId) throw notFound('upload');
      records.push(record);
    }
    for (const record of records) {
      if (record.messageId === to.messageId) continue;
      if (record.messageId !== null || !(await this.deps.uploads.claim(record.id, senderId, to, at))) {
        const now = await this.deps.uploads.get(record.id);
        if (now?.messageId !== to.messageId)
          throw new AppError('conflict', 'the upload is attached to another message');
      }
    }
    return records.map(stored);
  }

  /**
   * Claims an image the user uploaded as the avatar of `of` (the user, or a group): 404 when it is
   * not theirs, 400 when it is no image, 409 when it is attached elsewhere. Setting it again is no
   * conflict. A group's avatar counts as attached to the group, so its members may open it.
   */
  async claimAvatar(
    userId: string,
    uploadId: string,
    of: { userId: string } | { conversationId: string },
  ): Promise<void> {
    const record = await this.deps.uploads.get(uploadId);
    if (!record || record.ownerId !== userId) throw notFound('upload');
    if (!record.thumbnailKey) throw invalid('an avatar must be a JPEG, PNG, WebP or GIF image');
    const to =
      'userId' in of
        ? { conversationId: `avatar:${of.userId}`, messageId: `avatar:${of.userId}` }
        : { conversationId: of.conversationId, messageId: `avatar:${of.conversationId}` };
    if (record.messageId === to.messageId) return;
    if (record.messageId === null && (await this.deps.uploads.claim(uploadId, userId, to, new Date().toISOString())))
      return;
    if ((await this.deps.uploads.get(uploadId))?.messageId !== to.messageId)
      throw new AppError('conflict', 'the upload is attached to something else');
  }

  /** Deletes one upload (a replaced avatar): files, then the record. Idempotent. */
  async deleteUpload(uploadId: string): Promise<void> {
    const record = await this.deps.uploads.get(uploadId);
    if (record) await this.remove(record);
  }

  /** Deletes the files of a message deleted for everyone, then their records. Idempotent. */
  async deleteOf(messageId: string): Promise<void> {
    for (const record of await this.deps.uploads.ofMessage(messageId)) await this.remove(record);
  }

  /** Deletes every file a user uploaded (account deletion), attached or not. Idempotent. */
  async deleteOfOwner(userId: string): Promise<void> {
    for (const record of await this.deps.uploads.ofOwner(userId)) await this.remove(record);
  }

  // Files no other upload shares, then the record: a failure leaves the record for a retry.
  private async remove(record: UploadRecord): Promise<void> {
    await this.deps.uploads.remove(record.id, dropper(this.deps.blobs));
  }

  /** The message with signed URLs (attachments, a link preview's image); the same object when it has none. */
  sign(message: Message, now = Date.now()): Message {
    const list = message.attachments;
    const preview = message.linkPreview;
    let out = message;
    if (list?.length !== 0) out = { ...message, attachments: list ? list.map((a) => this.signOne(a, now)) : [] };
    if (preview?.thumbnailUrl && !preview.thumbnailUrl.includes('?'))
      out = { ...out, linkPreview: { ...preview, thumbnailUrl: this.signAvatar(preview.thumbnailUrl, now) } };
    return out;
  }

  /** A conversation whose last message is signed. */
  signConversation(conversation: Conversation, now = Date.now()): Conversation {
    const last = conversation.lastMessage;
    const lastMessage = last ? this.sign(last, now) : last;
    const avatarUrl = this.signAvatar(conversation.avatarUrl, now);
    const members = mapIfChanged(conversation.members, (m) => {
      const url = this.signAvatar(m.avatarUrl, now);
      return url === (m.avatarUrl ?? null) ? m : { ...m, avatarUrl: url };
    });
    if (lastMessage === last && avatarUrl === conversation.avatarUrl && members === conversation.members)
      return conversation;
    return { ...conversation, lastMessage, avatarUrl, members };
  }

  /** A user whose avatar URL is signed (stores keep the plain path of its thumbnail). */
  signUser(user: User, now = Date.now()): User {
    const avatarUrl = this.signAvatar(user.avatarUrl, now);
    return avatarUrl === user.avatarUrl ? user : { ...user, avatarUrl };
  }

  private signAvatar(url: string | null | undefined, now: number): string | null {
    if (!url || url.includes('?')) return url ?? null;
    const id = avatarUploadIdOf(url);
    return id ? this.deps.signer.url(id, 'thumbnail', now) : url;
  }

  /**
   * Signs every message an answer holds, in the shapes answers have (`message`, `messages`,
   * `results[].message`, `conversation(s)[].lastMessage`, a `send` reply's `result.message`).
   */
  signAnswer<T>(answer: T, now = Date.now()): T {
    if (!answer || typeof answer !== 'object') return answer;
    const a = answer as Record<string, unknown>;
    let out: Record<string, unknown> | null = null;
    const set = (key: string, value: unknown) => {
      if (value === a[key]) return;
      out ??= { ...a };
      out[key] = value;
    };
    if (isMessage(a.message)) set('message', this.sign(a.message, now));
    if (Array.isArray(a.messages))
      set(
        'messages',
        mapIfChanged(a.messages, (m) => this.sign(m as Message, now)),
      );
    if (Array.isArray(a.results))
      set(
        'results',
        mapIfChanged(a.results, (r) => this.signAnswer(r, now)),
      );
    if (isConversation(a.conversation)) set('conversation', this.signConversation(a.conversation, now));
    if (Array.isArray(a.conversations))
      set(
        'conversations',
        mapIfChanged(a.conversations, (c) => this.signConversation(c as Conversation, now)),
      );
    if (a.result && typeof a.result === 'object') set('result', this.signAnswer(a.result, now));
    if (isUser(a.user)) set('user', this.signUser(a.user, now));
    if (Array.isArray(a.users))
      set(
        'users',
        mapIfChanged(a.users, (u) => (isUser(u) ? this.signUser(u, now) : u)),
      );
    return (out ?? answer) as T;
  }

  private signOne(a: Attachment, now: number): Attachment {
    const { signer } = this.deps;
    return {
      ...a,
      url: signer.url(a.id, 'content', now),
      thumbnailUrl: a.thumbnailUrl === null ? null : signer.url(a.id, 'thumbnail', now),
    };
  }
}

/** The attachment as the log and the stores keep it: unsigned paths. */
export function stored(record: UploadRecord): Attachment {
  const path = `/v1/uploads/${encodeURIComponent(record.id)}`;
  return {
    id: record.id,
    name: record.name,
    contentType: record.contentType,
    size: record.size,
    width: record.width,
    height: record.height,
    durationMs: record.durationMs,
    url: `${path}/content`,
    thumbnailUrl: record.thumbnailKey ? `${path}/thumbnail` : null,
  };
}

/** A user's or a group's avatar as stored: the plain path of its thumbnail (signed when served). */
export function avatarPath(uploadId: string | null | undefined): string | null {
  return uploadId ? `/v1/uploads/${encodeURIComponent(uploadId)}/thumbnail` : null;
}

/** The upload id of an avatar path (signed or not), or null. */
export function avatarUploadIdOf(url: string | null | undefined): string | null {
  const match = url?.match(/^\/v1\/uploads\/([^/?]+)\/thumbnail/);
  return match ? decodeURIComponent(match[1]!) : null;
}

/**
 * The id of a message sent with attachments, derived from its sender and clientMsgId: a retry
 * claims its uploads for the same id as the first try did, even when that try's append was lost.
 */
export function sentMessageId(senderId: string, clientMsgId: string): string {
  const digest = createHash('sha256').update(`${senderId}\n${clientMsgId}`).digest('base64url');
  return `m_${digest.slice(0, 22).replace(/[-_]/g, 'x')}`;
}

function isMessage(value: unknown): value is Message {
  return !!value && typeof value === 'object' && 'clientMsgId' in value;
}

function isUser(value: unknown): value is User {
  return !!value && typeof value === 'object' && 'avatarUrl' in value;
}

function isConversation(value: unknown): value is Conversation {
  return !!value && typeof value === 'object' && 'lastMessage' in value;
}

function mapIfChanged<T>(list: T[], f: (x: T) => T): T[] {
  let out: T[] | null = null;
  for (let i = 0; i < list.length; i++) {
    const next = f(list[i] as T);
    if (next !== list[i]) {
      out ??= list.slice();
      out[i] = next;
    }
  }
  return out ?? list;
}

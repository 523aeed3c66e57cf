// Where unsent messages are kept between sends, reconnects and (with a persistent store) page reloads.
import type { ErrorCode } from '@messenger/protocol';

/** A file of an unsent message: uploaded before the send names it (a retry uploads only what is missing). */
export interface OutboxAttachment {
  /** Set once uploaded. */
  uploadId: string | null;
  name: string;
  contentType: string;
  size: number;
  /** The share uploaded, 0..1. */
  progress: number;
}

export interface OutboxItem {
  /** Re-sent unchanged after every reconnect, so the server stores the message once. */
  clientMsgId: string;
  conversationId: string;
  body: string;
  replyToId: string | null;
  /** Files to send with the text; absent when none. */
  attachments?: OutboxAttachment[];
  /** `failed`: the server refused it for good; it waits for retry() or discard(). */
  state: 'pending' | 'failed';
  error?: { code: ErrorCode; message: string };
  /** ISO-8601; the outbox sends in this order within a conversation. */
  createdAt: string;
}

/**
 * Synchronous on purpose: save() runs on every change and must be done before the send goes out,
 * so a reload right after cannot lose the item. Implementations may be lossy only in the way their
 * medium is (a full localStorage), never by reordering.
 */
export interface OutboxStore {
  load(): OutboxItem[];
  save(items: OutboxItem[]): void;
}

/** The default. Items live as long as the client object; outgrow it when sends must survive a reload. */
export class MemoryOutboxStore implements OutboxStore {
  #items: OutboxItem[] = [];

  load(): OutboxItem[] {
    return this.#items.map((item) => ({ ...item }));
  }

  save(items: OutboxItem[]): void {
    this.#items = items.map((item) => ({ ...item }));
  }
}

/** Accepts only what an OutboxItem looks like, so a corrupt or foreign stored value cannot break the client. */
export function isOutboxItem(value: unknown): value is OutboxItem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.clientMsgId === 'string' &&
    typeof v.conversationId === 'string' &&
    typeof v.body === 'string' &&
    (v.replyToId === null || typeof v.replyToId === 'string') &&
    (v.attachments === undefined || Array.isArray(v.attachments)) &&
    (v.state === 'pending' || v.state === 'failed') &&
    typeof v.createdAt === 'string'
  );
}

// Drives the outbox over the socket: sends due items, retries what may succeed later, settles send() promises.
import { LIMITS, type Message, type Upload, utf8Length } from '@messenger/protocol';
import { jitteredDelay } from './backoff.js';
import { MessengerError } from './errors.js';
import type { Outbox } from './outbox.js';
import type { OutboxAttachment, OutboxItem } from './outbox-store.js';
import type { UploadOptions } from './upload.js';

export interface OutboxSenderDeps {
  outbox: Outbox;
  /** One `send` request on the current socket; rejects with MessengerError (timeouts as `unavailable`). */
  send(item: OutboxItem): Promise<Message>;
  /** Whether a socket is ready; items wait for the next `pump()` otherwise. */
  canSend(): boolean;
  /** Delays after `unavailable` while still connected; defaults 500 ms .. 30 s. */
  retry?: { minDelayMs?: number; maxDelayMs?: number };
  /** Used when a rate-limit reply names no delay. */
  defaultRateLimitDelayMs?: number;
  newClientMsgId?: () => string;
  /** POST /v1/uploads, for the files of a send; without it, sends with files fail. */
  upload?: (file: Blob, opts: UploadOptions) => Promise<Upload>;
}

interface Waiter {
  resolve(message: Message): void;
  reject(error: unknown): void;
}

export class OutboxSender {
  readonly #deps: OutboxSenderDeps;
  readonly #outbox: Outbox;
  readonly #inFlight = new Set<string>();
  /** Only items queued by this client object have a promise; items loaded from the store settle silently. */
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #retryBounds: { minDelayMs: number; maxDelayMs: number };
  #wakeTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * The files of queued sends, in the order of their attachments, in memory only (a store keeps
   * text): after a reload an item whose files were not all uploaded fails, to be attached again.
   */
  readonly #files = new Map<string, Blob[]>();
  readonly #uploading = new Map<string, AbortController>();

  constructor(deps: OutboxSenderDeps) {
    this.#deps = deps;
    this.#outbox = deps.outbox;
    this.#retryBounds = { minDelayMs: deps.retry?.minDelayMs ?? 500, maxDelayMs: deps.retry?.maxDelayMs ?? 30_000 };
  }

  enqueue(
    conversationId: string,
    body: string,
    opts: { replyToId?: string; clientMsgId?: string; files?: Blob[] } = {},
  ): Promise<Message> {
    const clientMsgId = opts.clientMsgId ?? (this.#deps.newClientMsgId ?? newClientMsgId)();
    const promise = new Promise<Message>((resolve, reject) => {
      const list = this.#waiters.get(clientMsgId) ?? [];
      list.push({ resolve, reject });
      this.#waiters.set(clientMsgId, list);
    });
    const existing = this.#outbox.get(clientMsgId);
    if (existing) {
      // The same clientMsgId again is the same message: join its send, and give a failed one another go.
      if (existing.state === 'failed') this.retry(clientMsgId);
      return promise;
    }
    const item: OutboxItem = {
      clientMsgId,
      conversationId,
      body,
      replyToId: opts.replyToId ?? null,
      ...(opts.files?.length ? { attachments: opts.files.map(pendingAttachment) } : {}),
      state: 'pending',
      createdAt: new Date().toISOString(),
    };
    if (opts.files?.length) this.#files.set(clientMsgId, opts.files);
    this.#outbox.add(item);
    // Refuse here what the server would refuse, but through the same failed state, so the UI has one path.
    const refusal = localRefusal(body, opts.files?.length ?? 0);
    if (refusal) this.#fail(clientMsgId, refusal);
    else this.pump();
    return promise;
  }

  retry(clientMsgId: string): void {
    if (this.#outbox.retry(clientMsgId)) this.pump();
  }

  /** A discarded item may already be on the wire; the server may still store it. */
  discard(clientMsgId: string): void {
    this.#outbox.remove(clientMsgId);
    this.#uploading.get(clientMsgId)?.abort();
    this.#files.delete(clientMsgId);
    this.#settle(clientMsgId, (w) => w.reject(new DOMException('discarded from the outbox', 'AbortError')));
    this.pump();
  }

  /** Sends whatever is due. Called on every change that could make something due: ready, ack, timer. */
  pump(): void {
    if (!this.#deps.canSend()) return;
    for (const item of this.#outbox.due(this.#inFlight, Date.now())) this.#sendOne(item);
    this.#scheduleWake();
  }

  /**
   * Our own message seen in an event or a catch-up page: the send is done even if its ack was lost
   * with a socket, or it was queued before a reload. Keeps the app from showing it twice.
   */
  observed(message: Message): void {
    const item = this.#outbox.get(message.clientMsgId);
    if (!item || item.conversationId !== message.conversationId) return;
    this.#outbox.remove(message.clientMsgId);
    this.#files.delete(message.clientMsgId);
    this.#settle(message.clientMsgId, (w) => w.resolve(message));
    this.pump();
  }

  /** On close(): items stay in the store for the next connect, but nobody should wait on them now. */
  stop(reason: MessengerError): void {
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    for (const id of [...this.#waiters.keys()]) this.#settle(id, (w) => w.reject(reason));
  }

  #sendOne(item: OutboxItem): void {
    const id = item.clientMsgId;
    this.#inFlight.add(id);
    this.#uploaded(item)
      .then((ready) => this.#deps.send(ready))
      .then(
        (message) => {
          this.#inFlight.delete(id);
          this.#outbox.remove(id);
          this.#files.delete(id);
          this.#settle(id, (w) => w.resolve(message));
          this.pump();
        },
        (error: unknown) => {
          this.#inFlight.delete(id);
          this.#onError(
            id,
            error instanceof MessengerError
              ? error
              : new MessengerError('unavailable', String(error), { cause: error }),
          );
          this.pump();
        },
      );
  }

  /** The item once each of its files is uploaded (those uploaded before are not sent again). */
  async #uploaded(item: OutboxItem): Promise<OutboxItem> {
    const id = item.clientMsgId;
    const list = item.attachments;
    if (!list || list.every((a) => a.uploadId !== null)) return item;
    const upload = this.#deps.upload;
    if (!upload) throw new MessengerError('invalid_request', 'this client cannot upload files');
    const current = list.map((a) => ({ ...a }));
    const files = this.#files.get(id);
    const controller = new AbortController();
    this.#uploading.set(id, controller);
    try {
      for (let i = 0; i < current.length; i++) {
        const a = current[i]!;
        if (a.uploadId !== null) continue;
        const file = files?.[i];
        if (!file)
          throw new MessengerError('invalid_request', `${a.name}: the file is gone (page reloaded); attach it again`);
        let shown = a.progress;
        const onProgress = (fraction: number) => {
          // A save per 5 %, not per chunk: the store may be localStorage.
          if (fraction - shown < 0.05 && fraction < 1) return;
          shown = fraction;
          current[i] = { ...current[i]!, progress: fraction };
          this.#outbox.setAttachments(id, current.slice());
        };
        const done = await upload(file, { name: a.name, signal: controller.signal, onProgress });
        current[i] = { ...current[i]!, uploadId: done.id, progress: 1 };
        this.#outbox.setAttachments(id, current.slice());
      }
    } finally {
      this.#uploading.delete(id);
    }
    return { ...item, attachments: current };
  }

  #onError(clientMsgId: string, error: MessengerError): void {
    if (!this.#outbox.get(clientMsgId)) return; // discarded meanwhile
    if (error.code === 'rate_limited') {
      this.#outbox.defer(clientMsgId, Date.now() + (error.retryAfterMs ?? this.#deps.defaultRateLimitDelayMs ?? 1000));
    } else if (error.code === 'unavailable') {
      // Lost with the socket: the next ready re-sends it at once. Refused while connected: back off.
      // A Retry-After (the server's store is catching up) is waited out first, then the jitter.
      if (this.#deps.canSend()) {
        const delay = (error.retryAfterMs ?? 0) + jitteredDelay(this.#outbox.attempts(clientMsgId), this.#retryBounds);
        this.#outbox.defer(clientMsgId, Date.now() + delay);
      }
    } else {
      this.#fail(clientMsgId, error);
    }
  }

  #fail(clientMsgId: string, error: MessengerError): void {
    this.#outbox.fail(clientMsgId, { code: error.code, message: error.message });
    this.#settle(clientMsgId, (w) => w.reject(error));
  }

  #settle(clientMsgId: string, fn: (waiter: Waiter) => void): void {
    const list = this.#waiters.get(clientMsgId);
    this.#waiters.delete(clientMsgId);
    for (const waiter of list ?? []) fn(waiter);
  }

  #scheduleWake(): void {
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    const at = this.#outbox.nextWakeAt();
    if (at === undefined) return;
    this.#wakeTimer = setTimeout(
      () => {
        this.#wakeTimer = undefined;
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
  }
}

function pendingAttachment(file: Blob): OutboxAttachment {
  const name = (file as Blob & { name?: string }).name || 'file';
  return { uploadId: null, name, contentType: file.type, size: file.size, progress: 0 };
}

function localRefusal(body: string, files: number): MessengerError | undefined {
  if (files > LIMITS.maxAttachments)
    return new MessengerError('invalid_request', `at most ${LIMITS.maxAttachments} attachments`);
  if (body.length === 0 && files === 0) return new MessengerError('invalid_request', 'body must not be empty');
  if (body.includes('\u0000'))
    return new MessengerError('invalid_request', 'body must not contain NUL (U+0000) characters');
  if (utf8Length(body) > LIMITS.maxMessageBytes) {
    return new MessengerError('message_too_big', `body is over ${LIMITS.maxMessageBytes} UTF-8 bytes`);
  }
  return undefined;
}

/** crypto.randomUUID exists only in secure contexts (https, localhost); plain-http pages need the fallback. */
export function newClientMsgId(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

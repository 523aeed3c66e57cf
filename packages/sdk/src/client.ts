// The messenger client: one object that keeps a socket up, catches up after outages, sends through the outbox and emits typed events.
import {
  shouldReconnect,
  type ClientRequestType,
  type Conversation,
  type EventOf,
  type Message,
  type RequestResults,
  type ServerEvent,
  type ServerEventType,
  type SessionCreatedResponse,
  type Upload,
  type User,
} from '@messenger/protocol';
import { Backoff } from './backoff.js';
import { CatchUpRetries } from './catch-up-retries.js';
import { ConnectWaiters, reconnectDelay, socketTarget } from './client-connect.js';
import type {
  ClientEvents,
  ClientState,
  MessengerClientOptions,
  ResyncEvent,
  UnauthenticatedEvent,
} from './client-types.js';
import { Connection, type RequestFields } from './connection.js';
import { DeliveredSender } from './delivered-sender.js';
import { Emitter } from './emitter.js';
import { MessengerError } from './errors.js';
import { HttpApi, type FetchLike, type SignInBody, type SignUpBody } from './http-api.js';
import { Outbox } from './outbox.js';
import { OutboxSender } from './outbox-sender.js';
import { MemoryOutboxStore, type OutboxItem } from './outbox-store.js';
import { SeqTracker } from './seq-tracker.js';
import type { UploadOptions } from './upload.js';

export type { ClientState, MessengerClientOptions, ResyncEvent, UnauthenticatedEvent } from './client-types.js';
export { webSocketUrl } from './connection.js';

/** Not a server code, so that logs tell the client's own reasons apart. */
const CLIENT_GAVE_UP = 4000;

export class MessengerClient {
  readonly api: HttpApi;
  readonly #opts: MessengerClientOptions;
  readonly #emitter = new Emitter<ClientEvents>();
  readonly #tracker = new SeqTracker();
  readonly #delivered: DeliveredSender;
  readonly #catchUp = new CatchUpRetries();
  readonly #outbox: Outbox;
  readonly #sender: OutboxSender;
  readonly #backoff: Backoff;
  #state: ClientState = 'idle';
  #userId: string | null = null;
  #conn: Connection | undefined;
  /** Bumped per socket; callbacks of an older socket compare and bow out. */
  #generation = 0;
  #everOpen = false;
  /** Whether any socket of this client ever got `ready`: a later refusal means the session ended, not a typo. */
  #everAccepted = false;
  /** Whether a catch-up ever completed on this client: the next one is a resync after an outage (or a close()). */
  #everCaughtUp = false;
  #presence: 'online' | 'away' | undefined;
  /** The server refused the credential: the client stays closed, and says so once. */
  #refused = false;
  readonly #connectWaiters = new ConnectWaiters();
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #stableTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: MessengerClientOptions) {
    this.#opts = opts;
    this.api = new HttpApi({
      baseUrl: opts.baseUrl,
      token: this.#credential,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      onUnauthenticated: (error) => this.#credentialRefused('http', error),
    });
    this.#backoff = new Backoff(opts.reconnect);
    this.#delivered = new DeliveredSender({
      enabled: () => this.#opts.autoDelivered !== false,
      delayMs: () => this.#opts.deliveredDelayMs ?? 200,
      ready: () => this.#conn?.ready === true,
      send: (receipt) => this.request('delivered', receipt),
    });
    this.#outbox = new Outbox({
      store: opts.outboxStore ?? new MemoryOutboxStore(),
      onChange: (items) => this.#emitter.emit('outbox', items),
    });
    this.#sender = new OutboxSender({
      outbox: this.#outbox,
      canSend: () => this.#conn?.ready === true,
      send: async (item) => {
        const fields = {
          conversationId: item.conversationId,
          clientMsgId: item.clientMsgId,
          body: item.body,
          ...(item.replyToId ? { replyToId: item.replyToId } : {}),
          ...(item.attachments?.length ? { attachments: item.attachments.map((a) => a.uploadId ?? '') } : {}),
        };
        return (await this.request('send', fields)).message;
      },
      upload: (file, opts) => this.api.upload(file, opts),
    });
  }

  static createUser(
    baseUrl: string,
    body: { username: string; displayName?: string },
    fetchImpl?: FetchLike,
  ): Promise<{ user: User; apiKey: string }> {
    return HttpApi.createUser(baseUrl, body, fetchImpl);
  }

  /** Sign-up with a password; pass the answer's `token` as the `token` option of a new client. */
  static signUp(baseUrl: string, body: SignUpBody, fetchImpl?: FetchLike): Promise<SessionCreatedResponse> {
    return HttpApi.signUp(baseUrl, body, fetchImpl);
  }

  /** Sign-in on a new device; pass the answer's `token` as the `token` option of a new client. */
  static signIn(baseUrl: string, body: SignInBody, fetchImpl?: FetchLike): Promise<SessionCreatedResponse> {
    return HttpApi.signIn(baseUrl, body, fetchImpl);
  }

  get state(): ClientState {
    return this.#state;
  }

  get userId(): string | null {
    return this.#userId;
  }

  on<T extends ServerEventType>(type: T, fn: (e: EventOf<T>) => void): () => void;
  on(type: 'event', fn: (e: ServerEvent) => void): () => void;
  on(type: 'state', fn: (s: ClientState) => void): () => void;
  on(type: 'outbox', fn: (items: OutboxItem[]) => void): () => void;
  on(type: 'resync', fn: (e: ResyncEvent) => void): () => void;
  on(type: 'unauthenticated', fn: (e: UnauthenticatedEvent) => void): () => void;
  // biome-ignore lint/suspicious/noExplicitAny: the overloads above type each event; this is their one body
  on(type: keyof ClientEvents, fn: (arg: any) => void): () => void {
    return this.#emitter.on(type, fn);
  }

  /**
   * Resolves on the first `ready`; from then on the client reconnects by itself until close().
   * Failed attempts before that are retried too (offline at start is normal on mobile); it
   * rejects only on a refused credential (close code 4401) or close().
   */
  connect(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#refused)
      return Promise.reject(new MessengerError('unauthenticated', 'the server refused the credential'));
    const promise = this.#connectWaiters.add();
    if (this.#state === 'idle' || this.#state === 'closed') {
      this.#everOpen = false;
      this.#backoff.reset();
      this.#setState('connecting');
      this.#openSocket();
    }
    return promise;
  }

  async close(): Promise<void> {
    const conn = this.#conn;
    this.#generation++;
    this.#conn = undefined;
    this.#clearTimers();
    this.#setState('closed');
    const reason = new MessengerError('unavailable', 'client closed');
    this.#connectWaiters.settle(reason);
    this.#sender.stop(reason);
    if (conn) {
      conn.close(1000, 'client closed');
      await conn.socketClosed(1000);
    }
  }

  /**
   * Ends this device's session on the server (a token; an API key is not ended this way) and
   * closes the client. It is closed even when the server cannot be reached; then this rejects.
   */
  async signOut(): Promise<void> {
    // Closed first: the server closes the session's sockets (4401) as it ends it, which this client
    // would otherwise report as its credential refused.
    await this.close();
    await this.api.signOut();
  }

  /** A request on the socket. Rejects with `unavailable` when not connected or after the timeout. */
  request<T extends ClientRequestType>(
    type: T,
    fields: RequestFields<T>,
    opts: { timeoutMs?: number } = {},
  ): Promise<RequestResults[T]> {
    const conn = this.#conn;
    if (!conn?.ready) return Promise.reject(new MessengerError('unavailable', 'not connected'));
    return conn.request(type, fields, opts.timeoutMs ?? this.#requestTimeoutMs);
  }

  /**
   * Queues the message in the outbox; resolves with the stored message once the server has it
   * durably. `files` are uploaded first (progress in the outbox items), the body may then be empty;
   * after a reconnect or a retry only the files not uploaded yet go again.
   */
  send(
    conversationId: string,
    body: string,
    opts: { replyToId?: string; clientMsgId?: string; files?: Blob[] } = {},
  ): Promise<Message> {
    return this.#sender.enqueue(conversationId, body, opts);
  }

  /** Streams one file to the server (POST /v1/uploads), outside the outbox. */
  upload(file: Blob, opts: UploadOptions = {}): Promise<Upload> {
    return this.api.upload(file, opts);
  }

  pending(): OutboxItem[] {
    return this.#outbox.items();
  }

  retry(clientMsgId: string): void {
    this.#sender.retry(clientMsgId);
  }

  /** Rejects the send's promise with an AbortError. A message already on the wire may still be stored. */
  discard(clientMsgId: string): void {
    this.#sender.discard(clientMsgId);
  }

  /**
   * Tells the client the app already has this conversation up to `lastSeq` (say, it loaded history),
   * so catch-up continues from there and live events at or below it are dropped.
   */
  trackConversation(conversationId: string, lastSeq: number): void {
    this.#tracker.seed(conversationId, lastSeq);
  }

  /** The highest seq handed to the app for a conversation, if it is known. */
  trackedSeq(conversationId: string): number | undefined {
    return this.#tracker.handed(conversationId);
  }

  /** Over the socket when connected, else over HTTP: a read receipt should not wait for a reconnect. */
  markRead(conversationId: string, seq: number): Promise<void> {
    if (this.#conn?.ready) return this.request('read', { conversationId, seq }).then(() => undefined);
    return this.api.markRead(conversationId, seq);
  }

  typing(conversationId: string): Promise<void> {
    if (this.#conn?.ready) return this.request('typing', { conversationId }).then(() => undefined);
    return this.api.typing(conversationId);
  }

  /** Remembered and re-sent after every reconnect, since the server starts each socket as online. */
  setPresence(status: 'online' | 'away'): Promise<void> {
    this.#presence = status;
    if (!this.#conn?.ready) return Promise.resolve();
    return this.request('presence', { status }).then(() => undefined);
  }

  get #credential(): string {
    return this.#opts.token ?? this.#opts.apiKey ?? '';
  }

  get #requestTimeoutMs(): number {
    return this.#opts.requestTimeoutMs ?? 15_000;
  }

  #openSocket(): void {
    const target = socketTarget(this.#opts);
    if ('error' in target) {
      this.#setState('closed');
      this.#connectWaiters.settle(target.error);
      return;
    }
    const generation = ++this.#generation;
    const current = () => generation === this.#generation;
    this.#conn = new Connection({
      WebSocket: target.WebSocket,
      url: target.url,
      apiKey: this.#credential,
      requestTimeoutMs: this.#requestTimeoutMs,
      pingIntervalMs: this.#opts.keepalive?.pingIntervalMs ?? 25_000,
      idleTimeoutMs: this.#opts.keepalive?.idleTimeoutMs ?? 60_000,
      onReady: (info) => current() && this.#onReady(generation, info.userId),
      onEvent: (event) => current() && this.#onLiveEvent(event),
      onClose: (code) => current() && this.#onSocketClosed(code),
    });
  }

  #onReady(generation: number, userId: string): void {
    this.#userId = userId;
    this.#everOpen = true;
    this.#everAccepted = true;
    // Before any event of this socket is handled: hold back live events until catch-up places them.
    this.#tracker.beginCatchUp();
    this.#setState('open');
    this.#connectWaiters.settle();
    const current = () => generation === this.#generation && this.#conn?.ready === true;
    this.#catchUp.run({
      api: this.api,
      tracker: this.#tracker,
      emit: (e) => this.#emitEvent(e),
      isCurrent: current,
      backoff: this.#backoff,
      onCaughtUp: (result) => {
        this.#stableTimer = setTimeout(() => this.#backoff.reset(), this.#opts.reconnect?.stableAfterMs ?? 10_000);
        this.#afterCatchUp(userId, result.conversations, result.added);
      },
      // A half caught-up client would hand out live events past a gap; start over on a fresh socket.
      onGiveUp: () => this.#conn?.close(CLIENT_GAVE_UP, 'catch-up failed'),
    });
    if (this.#presence) this.request('presence', { status: this.#presence }).catch(() => {});
    this.#sender.pump();
    this.#delivered.resume();
  }

  /**
   * Delivery receipts owed for `conversations` the app listed itself: catch-up acknowledges those of
   * the chat list, but not message requests, which that list leaves out. Sent once connected.
   */
  acknowledgeDelivered(conversations: Conversation[]): void {
    if (this.#userId) this.#delivered.noteOwed(this.#userId, conversations);
  }

  #afterCatchUp(userId: string, conversations: Conversation[], added: Conversation[]): void {
    // Messages that came while no device of ours was online were never events here: acknowledge them from the list.
    this.#delivered.noteOwed(userId, conversations);
    const reconnect = this.#everCaughtUp;
    this.#everCaughtUp = true;
    this.#emitter.emit('resync', { conversations, added, reconnect });
  }

  #onLiveEvent(event: ServerEvent): void {
    for (const out of this.#tracker.accept(event)) this.#emitEvent(out);
  }

  #emitEvent(event: ServerEvent): void {
    if (event.type === 'message.created') {
      const { message } = event;
      if (message.senderId === this.#userId) this.#sender.observed(message);
      else this.#delivered.noteMessage(event.conversationId, message.seq);
    }
    this.#emitter.emit(event.type, event as never);
    this.#emitter.emit('event', event);
  }

  #onSocketClosed(code: number): void {
    this.#conn = undefined;
    this.#clearTimers();
    if (!shouldReconnect(code)) {
      this.#credentialRefused('socket', new MessengerError('unauthenticated', 'the server refused the credential'));
      return;
    }
    this.#setState(this.#everOpen ? 'reconnecting' : 'connecting');
    this.#reconnectTimer = setTimeout(
      () => {
        this.#reconnectTimer = undefined;
        this.#openSocket();
      },
      reconnectDelay(this.#backoff, code),
    );
  }

  /** 4401 on the socket or 401 over HTTP: retrying with the same credential cannot help. */
  #credentialRefused(source: UnauthenticatedEvent['source'], error: MessengerError): void {
    if (this.#refused || this.#state === 'closed') return;
    this.#refused = true;
    const conn = this.#conn;
    this.#conn = undefined;
    this.#generation++;
    this.#clearTimers();
    conn?.close(1000, 'credential refused');
    this.#setState('closed');
    this.#connectWaiters.settle(error);
    this.#sender.stop(error);
    this.#emitter.emit('unauthenticated', { source, wasAccepted: this.#everAccepted, error });
  }

  #setState(state: ClientState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#emitter.emit('state', state);
  }

  #clearTimers(): void {
    for (const timer of [this.#reconnectTimer, this.#stableTimer]) if (timer !== undefined) clearTimeout(timer);
    this.#reconnectTimer = this.#stableTimer = undefined;
    this.#delivered.stop();
    this.#catchUp.stop();
  }
}

// The app's state for one signed-in user: conversations, loaded messages, outgoing sends, presence and typing.
// It owns the SDK client, folds its events into one immutable snapshot and exposes the user's actions.
import { LocalStorageOutboxStore, MessengerClient } from '@messenger/sdk';
import type { Conversation, Message, SearchResult, User } from '@messenger/protocol';
import { Account } from './account.js';
import { ChatHistory } from './chat-history.js';
import { AppStateCell, type AppState } from './app-state.js';
import { keepNewerPreview, normalizeUsername, sortByActivity } from './lib/conversations.js';
import { readPresenceVisible, writePresenceVisible } from './lib/preferences.js';
import { LiveEvents } from './live-events.js';
import { Notifications } from './notifications.js';
import { SafetyActions } from './safety-actions.js';
import { credentialOf, type Session } from './session.js';

export type { Session } from './session.js';

export type { AppState, ChatMessages } from './app-state.js';

export interface AppStoreOptions {
  /** The server stopped accepting this browser's credential (signed out elsewhere, expired): back to sign-in. */
  onSessionEnded?: () => void;
}

export class AppStore {
  readonly client: MessengerClient;
  readonly session: Session;
  readonly notifications: Notifications;
  readonly account: Account;
  /** Requests, blocks, group administration, reports, people search and the operator's actions. */
  readonly safety: SafetyActions;
  readonly #cell: AppStateCell;
  readonly #history: ChatHistory;
  readonly #events: LiveEvents;
  readonly #unsubscribe: Array<() => void> = [];
  /** The chat the user is looking at with its newest message on screen; its messages are read as they come. */
  #reading: string | null = null;
  readonly #onSessionEnded: (() => void) | undefined;
  /** Set while this browser signs out: the 401s that follow are expected, not news. */
  #signingOut = false;

  constructor(session: Session, opts: AppStoreOptions = {}) {
    this.session = session;
    this.#onSessionEnded = opts.onSessionEnded;
    this.client = new MessengerClient({
      baseUrl: '',
      token: credentialOf(session),
      outboxStore: new LocalStorageOutboxStore(`messenger.outbox.${session.userId}`),
    });
    this.notifications = new Notifications(this.client.api, session.userId);
    this.account = new Account({ api: this.client.api, session });
    this.#cell = new AppStateCell(session.userId, {
      me: null,
      connection: 'idle',
      listLoaded: false,
      conversations: [],
      chats: {},
      outgoing: this.client.pending(),
      presence: {},
      typing: {},
      presenceVisible: readPresenceVisible(session.userId),
      operator: false,
      blocked: [],
    });
    this.#history = new ChatHistory({ api: this.client.api, cell: this.#cell });
    this.safety = new SafetyActions({ api: this.client.api, cell: this.#cell });
    this.#events = new LiveEvents({
      client: this.client,
      cell: this.#cell,
      userId: session.userId,
      history: this.#history,
      safety: this.safety,
      notifications: this.notifications,
      reading: () => this.#reading,
      markRead: (id) => this.markRead(id),
      refreshPresence: () => this.#refreshPresence(),
    });
  }

  get state(): AppState {
    return this.#cell.state;
  }

  subscribe = (fn: () => void): (() => void) => this.#cell.subscribe(fn);

  getSnapshot = (): AppState => this.#cell.state;

  /** Rejects when the server refuses the key. */
  async start(): Promise<void> {
    const c = this.client;
    this.#unsubscribe.push(
      c.on('event', (e) => this.#events.onEvent(e)),
      c.on('outbox', (items) => this.#cell.foldOutbox(items)),
      c.on('state', (s) => this.#cell.set({ connection: s })),
      c.on('resync', (e) => void this.#events.onResync(e).catch(() => {})),
      c.on('unauthenticated', () => {
        if (!this.#signingOut) this.#onSessionEnded?.();
      }),
    );
    this.notifications.start();
    this.#cell.set({ connection: c.state });
    const connected = c.connect();
    connected.catch(() => {});
    const { user: me, operator } = await c.api.whoAmI();
    this.#cell.set({ me, operator });
    void this.safety.refreshBlocked();
    // The list is shown before the socket is up; the SDK's resync keeps it fresh from then on.
    await this.refreshList();
    await connected;
  }

  async stop(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    this.notifications.stop();
    this.#cell.stop();
    await this.client.close();
  }

  /**
   * Ends this device's session on the server, after its push subscription (which needs the
   * credential). An API key from an earlier version is only forgotten: it is the account's key.
   * Local state goes even when the server cannot be reached.
   */
  async signOut(): Promise<void> {
    this.#signingOut = true;
    await this.notifications.signOut();
    if (this.session.token) await this.client.signOut().catch(() => {});
    await this.stop();
  }

  /** At sign-in: the list and presence (later the SDK's `resync` event brings the list). */
  async refreshList(): Promise<void> {
    // Message requests stay out of the server's chat list; here they are one list, split on `request`.
    const [accepted, requests] = await Promise.all([this.client.api.listAllConversations(), this.safety.allRequests()]);
    const conversations = [...accepted, ...requests];
    for (const c of conversations) this.client.trackConversation(c.id, c.lastSeq);
    const byId = new Map(this.#cell.state.conversations.map((c) => [c.id, c]));
    this.#cell.set({
      conversations: sortByActivity(conversations.map((c) => keepNewerPreview(c, byId.get(c.id)))),
      listLoaded: true,
    });
    await this.#refreshPresence();
  }

  // ---- reading -------------------------------------------------------------------------------

  openChat(id: string): Promise<void> {
    return this.#history.open(id);
  }

  loadOlder(id: string): Promise<void> {
    return this.#history.loadOlder(id);
  }

  /** Loads from just before `seq` up to the newest, so a search hit lands inside one contiguous history. */
  loadAround(id: string, seq: number): Promise<void> {
    return this.#history.loadAround(id, seq);
  }

  /** `id` is on screen with its newest message visible (or null): mark read now and as messages arrive. */
  setReading(id: string | null): void {
    this.#reading = id;
    if (id) this.markRead(id);
  }

  markRead(id: string): void {
    const conversation = this.#cell.conversation(id);
    const meId = this.session.userId;
    if (!conversation) return;
    const loaded = this.#cell.state.chats[id]?.messages;
    const seq = Math.max(conversation.lastSeq, loaded?.[loaded.length - 1]?.seq ?? 0);
    const mine = conversation.members.find((m) => m.userId === meId);
    if (seq === 0 || (mine && mine.readSeq >= seq && conversation.unreadCount === 0)) return;
    this.#cell.patchConversation(id, (c) => ({
      ...c,
      unreadCount: 0,
      members: c.members.map((m) => (m.userId === meId ? { ...m, readSeq: Math.max(m.readSeq, seq) } : m)),
    }));
    this.client.markRead(id, seq).catch(() => {});
  }

  // ---- writing -------------------------------------------------------------------------------

  send(conversationId: string, body: string, replyToId?: string, files: File[] = []): void {
    const opts = { ...(replyToId ? { replyToId } : {}), ...(files.length > 0 ? { files } : {}) };
    this.client.send(conversationId, body, opts).then(
      (message) => this.#cell.addMessages(conversationId, [message]),
      () => {}, // failures show as the outbox item's failed state
    );
  }

  retry(clientMsgId: string): void {
    this.client.retry(clientMsgId);
  }

  discard(clientMsgId: string): void {
    this.client.discard(clientMsgId);
    this.#cell.set({ outgoing: this.#cell.state.outgoing.filter((i) => i.clientMsgId !== clientMsgId) });
  }

  async edit(conversationId: string, messageId: string, body: string): Promise<void> {
    const message = await this.client.api.editMessage(conversationId, messageId, body);
    this.#cell.replaceMessage(conversationId, message);
  }

  async deleteMessage(conversationId: string, messageId: string, scope: 'everyone' | 'me'): Promise<void> {
    await this.client.api.deleteMessage(conversationId, messageId, scope);
    this.#events.applyDelete(conversationId, messageId, scope);
  }

  async removeLinkPreview(conversationId: string, message: Message): Promise<void> {
    await this.client.api.removeLinkPreview(conversationId, message.id);
    this.#cell.replaceMessage(conversationId, { ...message, linkPreview: null });
  }

  /** Same emoji again removes the reaction; another one replaces it. */
  async toggleReaction(conversationId: string, message: Message, emoji: string): Promise<void> {
    const meId = this.session.userId;
    const mine = message.reactions.find((r) => r.userId === meId)?.emoji;
    if (mine === emoji) {
      await this.client.api.unreact(conversationId, message.id);
      this.#cell.applyReaction(conversationId, message.id, meId, null);
    } else {
      const updated = await this.client.api.react(conversationId, message.id, emoji);
      this.#cell.replaceMessage(conversationId, updated);
    }
  }

  typing(conversationId: string): void {
    this.client.typing(conversationId).catch(() => {});
  }

  async startDirect(username: string): Promise<Conversation> {
    const user = await this.client.api.lookupUser(normalizeUsername(username));
    const { conversation } = await this.client.api.createConversation({ memberIds: [user.id] });
    this.#cell.upsertConversation(conversation);
    void this.#refreshPresence();
    return conversation;
  }

  async createGroup(title: string, usernames: string[]): Promise<Conversation> {
    const users = await Promise.all(usernames.map((u) => this.client.api.lookupUser(normalizeUsername(u))));
    const memberIds = [...new Set(users.map((u) => u.id))].filter((id) => id !== this.session.userId);
    const { conversation } = await this.client.api.createConversation({ memberIds, title });
    this.#cell.upsertConversation(conversation);
    void this.#refreshPresence();
    return conversation;
  }

  async addMembers(conversationId: string, usernames: string[]): Promise<void> {
    const users = await Promise.all(usernames.map((u) => this.client.api.lookupUser(normalizeUsername(u))));
    const conversation = await this.client.api.addMembers(
      conversationId,
      users.map((u) => u.id),
    );
    this.#cell.upsertConversation(conversation);
    void this.#refreshPresence();
  }

  async leave(conversationId: string): Promise<void> {
    await this.client.api.leave(conversationId);
    this.#cell.removeConversation(conversationId);
  }

  search(q: string): Promise<SearchResult[]> {
    return this.client.api.search({ q, limit: 30 });
  }

  setAway(away: boolean): void {
    this.client.setPresence(away ? 'away' : 'online').catch(() => {});
  }

  async setMuted(conversationId: string, muted: boolean): Promise<void> {
    const conversation = await this.client.api.setMuted(conversationId, muted);
    this.#cell.upsertConversation(conversation);
  }

  /** Optimistic: the switch moves at once and moves back if the server refuses. */
  async setPresenceVisible(visible: boolean): Promise<void> {
    const before = this.#cell.state.presenceVisible;
    this.#cell.set({ presenceVisible: visible });
    try {
      await this.client.api.setPresenceVisible(visible);
      writePresenceVisible(this.session.userId, visible);
    } catch (error) {
      this.#cell.set({ presenceVisible: before });
      throw error;
    }
  }

  /** A new name (or "Deleted account") shows wherever the user is a member, and as `me` for oneself. */
  applyUser(user: User): void {
    this.#events.applyUser(user);
  }

  async #refreshPresence(): Promise<void> {
    const ids = new Set<string>();
    for (const c of this.#cell.state.conversations)
      for (const m of c.members) if (m.userId !== this.session.userId) ids.add(m.userId);
    const list = [...ids];
    for (let i = 0; i < list.length; i += 200) {
      const presence = await this.client.api.getPresence(list.slice(i, i + 200)).catch(() => ({}));
      this.#cell.set({ presence: { ...this.#cell.state.presence, ...presence } });
    }
  }
}

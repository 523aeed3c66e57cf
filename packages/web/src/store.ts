// The app's state for one signed-in user: conversations, loaded messages, outgoing sends, presence and typing.
// It owns the SDK client, folds its events into one immutable snapshot and exposes the user's actions.
import {
  LocalStorageOutboxStore,
  MessengerClient,
  type ClientState,
  type OutboxItem,
  type ResyncEvent,
} from '@messenger/sdk';
import {
  LIMITS,
  type Conversation,
  type Message,
  type PresenceInfo,
  type SearchResult,
  type ServerEvent,
  type User,
} from '@messenger/protocol';
import { Notifications } from './notifications.js';

export interface ChatMessages {
  /** Ascending seq, without gaps between the oldest loaded and the newest. */
  messages: Message[];
  hasOlder: boolean;
  loadingOlder: boolean;
}

export interface AppState {
  me: User | null;
  connection: ClientState;
  listLoaded: boolean;
  /** Newest activity first. */
  conversations: Conversation[];
  chats: Record<string, ChatMessages>;
  /** Own messages not yet confirmed, kept until their stored copy is in `chats` so the bubble never blinks. */
  outgoing: OutboxItem[];
  presence: Record<string, PresenceInfo>;
  /** conversationId -> userId -> when the indicator expires (ms). */
  typing: Record<string, Record<string, number>>;
  /** "Show my online status"; the server does not report it back, so the last choice made here is kept. */
  presenceVisible: boolean;
}

export interface Session {
  apiKey: string;
  userId: string;
}

const HISTORY_PAGE = 50;
/** A typing event lasts this long unless another one or the message itself arrives. */
const TYPING_SHOWN_MS = 6000;

export class AppStore {
  readonly client: MessengerClient;
  readonly session: Session;
  readonly notifications: Notifications;
  #state: AppState;
  readonly #listeners = new Set<() => void>();
  readonly #unsubscribe: Array<() => void> = [];
  /** The chat the user is looking at with its newest message on screen; its messages are read as they come. */
  #reading: string | null = null;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(session: Session) {
    this.session = session;
    this.client = new MessengerClient({
      baseUrl: '',
      apiKey: session.apiKey,
      outboxStore: new LocalStorageOutboxStore(`messenger.outbox.${session.userId}`),
    });
    this.notifications = new Notifications(this.client.api, session.userId);
    this.#state = {
      me: null,
      connection: 'idle',
      listLoaded: false,
      conversations: [],
      chats: {},
      outgoing: this.client.pending(),
      presence: {},
      typing: {},
      presenceVisible: readPresenceVisible(session.userId),
    };
  }

  get state(): AppState {
    return this.#state;
  }

  subscribe = (fn: () => void): (() => void) => {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  };

  getSnapshot = (): AppState => this.#state;

  /** Rejects when the server refuses the key. */
  async start(): Promise<void> {
    const c = this.client;
    this.#unsubscribe.push(
      c.on('event', (e) => this.#onEvent(e)),
      c.on('outbox', (items) => this.#onOutbox(items)),
      c.on('state', (s) => this.#set({ connection: s })),
      c.on('resync', (e) => void this.#onResync(e).catch(() => {})),
    );
    this.notifications.start();
    this.#set({ connection: c.state });
    const connected = c.connect();
    connected.catch(() => {});
    const me = await c.api.me();
    this.#set({ me });
    // The list is shown before the socket is up; the SDK's resync keeps it fresh from then on.
    await this.refreshList();
    await connected;
  }

  async stop(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    this.notifications.stop();
    clearTimeout(this.#typingTimer);
    await this.client.close();
  }

  /** At sign-in: the list and presence (later the SDK's `resync` event brings the list). */
  async refreshList(): Promise<void> {
    const conversations = await this.client.api.listAllConversations();
    for (const c of conversations) this.client.trackConversation(c.id, c.lastSeq);
    const byId = new Map(this.#state.conversations.map((c) => [c.id, c]));
    this.#set({
      conversations: sortByActivity(conversations.map((c) => keepNewerPreview(c, byId.get(c.id)))),
      listLoaded: true,
    });
    await this.#refreshPresence();
  }

  // ---- reading -------------------------------------------------------------------------------

  async openChat(id: string): Promise<void> {
    if (this.#state.chats[id]) return;
    const messages = await this.client.api.getMessages(id, { limit: HISTORY_PAGE });
    const current = this.#state.chats[id] as ChatMessages | undefined; // may have arrived during the fetch
    this.#setChat(id, {
      messages: mergeMessages(current?.messages ?? [], messages),
      hasOlder: messages.length === HISTORY_PAGE,
      loadingOlder: false,
    });
  }

  async loadOlder(id: string): Promise<void> {
    const chat = this.#state.chats[id];
    if (!chat?.hasOlder || chat.loadingOlder) return;
    const oldest = chat.messages[0]?.seq;
    if (oldest === undefined) return;
    this.#setChat(id, { ...chat, loadingOlder: true });
    try {
      const older = await this.client.api.getMessages(id, { beforeSeq: oldest, limit: HISTORY_PAGE });
      const now = this.#state.chats[id] ?? chat;
      this.#setChat(id, {
        messages: mergeMessages(now.messages, older),
        hasOlder: older.length === HISTORY_PAGE,
        loadingOlder: false,
      });
    } catch (error) {
      this.#setChat(id, { ...(this.#state.chats[id] ?? chat), loadingOlder: false });
      throw error;
    }
  }

  /** Loads from just before `seq` up to the newest, so a search hit lands inside one contiguous history. */
  async loadAround(id: string, seq: number): Promise<void> {
    const have = this.#state.chats[id];
    if (have?.messages.some((m) => m.seq <= seq)) return;
    let afterSeq = Math.max(0, seq - 10);
    let all: Message[] = [];
    for (let page = 0; page < 20; page++) {
      const got = await this.client.api.getMessages(id, { afterSeq, limit: LIMITS.maxHistoryLimit });
      all = all.concat(got);
      if (got.length < LIMITS.maxHistoryLimit) break;
      afterSeq = got[got.length - 1]!.seq;
    }
    const merged = mergeMessages(this.#state.chats[id]?.messages ?? [], all);
    this.#setChat(id, { messages: merged, hasOlder: (merged[0]?.seq ?? 1) > 1, loadingOlder: false });
  }

  /** `id` is on screen with its newest message visible (or null): mark read now and as messages arrive. */
  setReading(id: string | null): void {
    this.#reading = id;
    if (id) this.markRead(id);
  }

  markRead(id: string): void {
    const conversation = this.#conversation(id);
    const meId = this.session.userId;
    if (!conversation) return;
    const loaded = this.#state.chats[id]?.messages;
    const seq = Math.max(conversation.lastSeq, loaded?.[loaded.length - 1]?.seq ?? 0);
    const mine = conversation.members.find((m) => m.userId === meId);
    if (seq === 0 || (mine && mine.readSeq >= seq && conversation.unreadCount === 0)) return;
    this.#patchConversation(id, (c) => ({
      ...c,
      unreadCount: 0,
      members: c.members.map((m) => (m.userId === meId ? { ...m, readSeq: Math.max(m.readSeq, seq) } : m)),
    }));
    this.client.markRead(id, seq).catch(() => {});
  }

  // ---- writing -------------------------------------------------------------------------------

  send(conversationId: string, body: string, replyToId?: string): void {
    this.client.send(conversationId, body, replyToId ? { replyToId } : {}).then(
      (message) => this.#addMessages(conversationId, [message]),
      () => {}, // failures show as the outbox item's failed state
    );
  }

  retry(clientMsgId: string): void {
    this.client.retry(clientMsgId);
  }

  discard(clientMsgId: string): void {
    this.client.discard(clientMsgId);
    this.#set({ outgoing: this.#state.outgoing.filter((i) => i.clientMsgId !== clientMsgId) });
  }

  async edit(conversationId: string, messageId: string, body: string): Promise<void> {
    const message = await this.client.api.editMessage(conversationId, messageId, body);
    this.#replaceMessage(conversationId, message);
  }

  async deleteMessage(conversationId: string, messageId: string, scope: 'everyone' | 'me'): Promise<void> {
    await this.client.api.deleteMessage(conversationId, messageId, scope);
    this.#applyDelete(conversationId, messageId, scope);
  }

  /** Same emoji again removes the reaction; another one replaces it. */
  async toggleReaction(conversationId: string, message: Message, emoji: string): Promise<void> {
    const meId = this.session.userId;
    const mine = message.reactions.find((r) => r.userId === meId)?.emoji;
    if (mine === emoji) {
      await this.client.api.unreact(conversationId, message.id);
      this.#applyReaction(conversationId, message.id, meId, null);
    } else {
      const updated = await this.client.api.react(conversationId, message.id, emoji);
      this.#replaceMessage(conversationId, updated);
    }
  }

  typing(conversationId: string): void {
    this.client.typing(conversationId).catch(() => {});
  }

  async startDirect(username: string): Promise<Conversation> {
    const user = await this.client.api.lookupUser(normalizeUsername(username));
    const { conversation } = await this.client.api.createConversation({ memberIds: [user.id] });
    this.#upsertConversation(conversation);
    void this.#refreshPresence();
    return conversation;
  }

  async createGroup(title: string, usernames: string[]): Promise<Conversation> {
    const users = await Promise.all(usernames.map((u) => this.client.api.lookupUser(normalizeUsername(u))));
    const memberIds = [...new Set(users.map((u) => u.id))].filter((id) => id !== this.session.userId);
    const { conversation } = await this.client.api.createConversation({ memberIds, title });
    this.#upsertConversation(conversation);
    void this.#refreshPresence();
    return conversation;
  }

  async addMembers(conversationId: string, usernames: string[]): Promise<void> {
    const users = await Promise.all(usernames.map((u) => this.client.api.lookupUser(normalizeUsername(u))));
    const conversation = await this.client.api.addMembers(
      conversationId,
      users.map((u) => u.id),
    );
    this.#upsertConversation(conversation);
    void this.#refreshPresence();
  }

  async leave(conversationId: string): Promise<void> {
    await this.client.api.leave(conversationId);
    this.#removeConversation(conversationId);
  }

  search(q: string): Promise<SearchResult[]> {
    return this.client.api.search({ q, limit: 30 });
  }

  setAway(away: boolean): void {
    this.client.setPresence(away ? 'away' : 'online').catch(() => {});
  }

  async setMuted(conversationId: string, muted: boolean): Promise<void> {
    const conversation = await this.client.api.setMuted(conversationId, muted);
    this.#upsertConversation(conversation);
  }

  /** Optimistic: the switch moves at once and moves back if the server refuses. */
  async setPresenceVisible(visible: boolean): Promise<void> {
    const before = this.#state.presenceVisible;
    this.#set({ presenceVisible: visible });
    try {
      await this.client.api.setPresenceVisible(visible);
      writePresenceVisible(this.session.userId, visible);
    } catch (error) {
      this.#set({ presenceVisible: before });
      throw error;
    }
  }

  // ---- events --------------------------------------------------------------------------------

  /**
   * After every catch-up (the SDK has handed out the missed messages by now): the fresh list brings
   * receipts, unread counts, mutes and chats created meanwhile; after an outage the open chats are
   * refetched for edits, reactions and deletions, which are not replayed as events.
   */
  async #onResync(e: ResyncEvent): Promise<void> {
    const byId = new Map(this.#state.conversations.map((c) => [c.id, c]));
    this.#set({
      conversations: sortByActivity(e.conversations.map((c) => mergeListed(c, byId.get(c.id)))),
      listLoaded: true,
    });
    void this.#refreshPresence();
    if (!e.reconnect) return;
    const listed = new Set(e.conversations.map((c) => c.id));
    for (const [id, chat] of Object.entries(this.#state.chats)) {
      if (!listed.has(id)) continue;
      const newest = chat.messages[chat.messages.length - 1]?.seq ?? 0;
      const recent = await this.client.api.getMessages(id, {
        afterSeq: Math.max(0, newest - HISTORY_PAGE),
        limit: LIMITS.maxHistoryLimit,
      });
      this.#replaceWindow(id, Math.max(0, newest - HISTORY_PAGE), recent);
    }
    if (this.#reading) this.markRead(this.#reading);
  }

  #onOutbox(items: OutboxItem[]): void {
    const current = new Map(items.map((i) => [i.clientMsgId, i]));
    // Items gone from the outbox stay until their message is in the chat (see `outgoing`).
    const kept = this.#state.outgoing
      .filter((i) => !current.has(i.clientMsgId))
      .map((i) => ({ ...i, state: 'pending' as const }));
    const confirmed = this.#confirmedClientIds();
    this.#set({
      outgoing: [...kept, ...items]
        .filter((i) => !confirmed.has(i.clientMsgId))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
    });
  }

  #onEvent(e: ServerEvent): void {
    switch (e.type) {
      case 'message.created':
        this.#onMessage(e.conversationId, e.message);
        break;
      case 'message.updated':
        this.#replaceMessage(e.conversationId, e.message);
        break;
      case 'message.deleted':
        this.#applyDelete(e.conversationId, e.messageId, e.for);
        break;
      case 'reaction.updated':
        this.#applyReaction(e.conversationId, e.messageId, e.userId, e.emoji);
        break;
      case 'receipt.read':
      case 'receipt.delivered': {
        const field = e.type === 'receipt.read' ? 'readSeq' : 'deliveredSeq';
        this.#patchConversation(e.conversationId, (c) => ({
          ...c,
          members: c.members.map((m) => (m.userId === e.userId ? { ...m, [field]: Math.max(m[field], e.seq) } : m)),
          ...(e.userId === this.session.userId && field === 'readSeq' && e.seq >= c.lastSeq ? { unreadCount: 0 } : {}),
        }));
        break;
      }
      case 'typing':
        if (e.userId !== this.session.userId) this.#setTyping(e.conversationId, e.userId, Date.now() + TYPING_SHOWN_MS);
        break;
      case 'presence':
        this.#set({
          presence: { ...this.#state.presence, [e.userId]: { status: e.status, lastSeenAt: e.lastSeenAt } },
        });
        break;
      case 'conversation.updated':
        if (e.conversation.members.some((m) => m.userId === this.session.userId)) {
          this.#upsertConversation(e.conversation);
          void this.#refreshPresence();
        } else this.#removeConversation(e.conversation.id);
        break;
    }
  }

  #onMessage(conversationId: string, message: Message): void {
    const meId = this.session.userId;
    if (!this.#conversation(conversationId)) {
      // A conversation we were just added to: its event may come after its first message.
      this.client.api.getConversation(conversationId).then(
        (c) => this.#upsertConversation(c),
        () => {},
      );
    }
    this.#setTyping(conversationId, message.senderId, 0);
    const reading = this.#reading === conversationId && document.visibilityState === 'visible';
    const before = this.#conversation(conversationId);
    if (
      before &&
      message.senderId !== meId &&
      !message.deletedAt &&
      message.seq > before.lastSeq &&
      !before.muted &&
      document.visibilityState === 'hidden'
    ) {
      const sender = before.members.find((m) => m.userId === message.senderId)?.displayName ?? 'New message';
      this.notifications.showFromPage(conversationId, sender, message.body);
    }
    this.#patchConversation(conversationId, (c) => {
      const fromOther = message.senderId !== meId && !message.deletedAt;
      const isNew = message.seq > c.lastSeq;
      return {
        ...c,
        lastSeq: Math.max(c.lastSeq, message.seq),
        lastMessage: !c.lastMessage || message.seq >= c.lastMessage.seq ? message : c.lastMessage,
        // Sending counts as reading up to there, as on the server; so one's own message clears the badge.
        unreadCount: message.senderId === meId ? 0 : c.unreadCount + (fromOther && isNew && !reading ? 1 : 0),
        members: c.members.map((m) =>
          m.userId === message.senderId
            ? { ...m, readSeq: Math.max(m.readSeq, message.seq), deliveredSeq: Math.max(m.deliveredSeq, message.seq) }
            : m,
        ),
      };
    });
    if (this.#state.chats[conversationId]) this.#addMessages(conversationId, [message]);
    if (reading) this.markRead(conversationId);
  }

  #addMessages(conversationId: string, messages: Message[], opts: { replace?: boolean } = {}): void {
    const chat = this.#state.chats[conversationId];
    if (chat)
      this.#setChat(conversationId, { ...chat, messages: mergeMessages(chat.messages, messages, opts.replace) });
    const confirmed = new Set(messages.filter((m) => m.senderId === this.session.userId).map((m) => m.clientMsgId));
    if (confirmed.size > 0 && this.#state.outgoing.some((i) => confirmed.has(i.clientMsgId))) {
      this.#set({ outgoing: this.#state.outgoing.filter((i) => !confirmed.has(i.clientMsgId)) });
    }
    const newest = messages.reduce<Message | undefined>((a, m) => (!a || m.seq > a.seq ? m : a), undefined);
    if (newest) {
      this.#patchConversation(conversationId, (c) => ({
        ...c,
        lastSeq: Math.max(c.lastSeq, newest.seq),
        lastMessage: !c.lastMessage || newest.seq >= c.lastMessage.seq ? newest : c.lastMessage,
      }));
    }
  }

  /**
   * A refetched stretch of history (everything after `afterSeq` up to the newest) replaces what was
   * loaded there: messages deleted for me, or hidden, while away are gone from the answer.
   */
  #replaceWindow(conversationId: string, afterSeq: number, fresh: Message[]): void {
    const chat = this.#state.chats[conversationId];
    if (!chat) return;
    const newestFresh = fresh[fresh.length - 1]?.seq ?? afterSeq;
    // Anything newer than the answer came live meanwhile and stays.
    const kept = chat.messages.filter((m) => m.seq <= afterSeq || m.seq > newestFresh);
    this.#setChat(conversationId, { ...chat, messages: kept });
    this.#addMessages(conversationId, fresh);
  }

  #replaceMessage(conversationId: string, message: Message): void {
    const chat = this.#state.chats[conversationId];
    if (chat?.messages.some((m) => m.id === message.id)) {
      this.#setChat(conversationId, {
        ...chat,
        messages: chat.messages.map((m) => (m.id === message.id ? message : m)),
      });
    }
    this.#patchConversation(conversationId, (c) =>
      c.lastMessage?.id === message.id ? { ...c, lastMessage: message } : c,
    );
  }

  #applyDelete(conversationId: string, messageId: string, scope: 'everyone' | 'me'): void {
    const tombstone = (m: Message): Message => ({
      ...m,
      body: '',
      reactions: [],
      deletedAt: m.deletedAt ?? new Date().toISOString(),
    });
    const chat = this.#state.chats[conversationId];
    if (chat) {
      const messages =
        scope === 'me'
          ? chat.messages.filter((m) => m.id !== messageId)
          : chat.messages.map((m) => (m.id === messageId ? tombstone(m) : m));
      this.#setChat(conversationId, { ...chat, messages });
    }
    const c = this.#conversation(conversationId);
    if (c?.lastMessage?.id !== messageId) return;
    if (scope === 'everyone')
      this.#patchConversation(conversationId, (x) => ({
        ...x,
        lastMessage: x.lastMessage && tombstone(x.lastMessage),
      }));
    else
      this.client.api.getConversation(conversationId).then(
        (x) => this.#upsertConversation(x),
        () => {},
      );
  }

  #applyReaction(conversationId: string, messageId: string, userId: string, emoji: string | null): void {
    const chat = this.#state.chats[conversationId];
    if (!chat) return;
    const messages = chat.messages.map((m) => {
      if (m.id !== messageId) return m;
      const reactions = m.reactions.filter((r) => r.userId !== userId);
      return { ...m, reactions: emoji ? [...reactions, { userId, emoji }] : reactions };
    });
    this.#setChat(conversationId, { ...chat, messages });
  }

  #setTyping(conversationId: string, userId: string, until: number): void {
    const forChat = this.#state.typing[conversationId] ?? {};
    if (until === 0 && forChat[userId] === undefined) return;
    const next = { ...forChat };
    if (until === 0) delete next[userId];
    else next[userId] = until;
    this.#set({ typing: { ...this.#state.typing, [conversationId]: next } });
    this.#scheduleTypingSweep();
  }

  #scheduleTypingSweep(): void {
    clearTimeout(this.#typingTimer);
    const all = Object.values(this.#state.typing).flatMap((t) => Object.values(t));
    if (all.length === 0) return;
    this.#typingTimer = setTimeout(
      () => {
        const now = Date.now();
        const typing: AppState['typing'] = {};
        for (const [cid, users] of Object.entries(this.#state.typing)) {
          const live = Object.fromEntries(Object.entries(users).filter(([, until]) => until > now));
          if (Object.keys(live).length > 0) typing[cid] = live;
        }
        this.#set({ typing });
        this.#scheduleTypingSweep();
      },
      Math.max(50, Math.min(...all) - Date.now()),
    );
  }

  async #refreshPresence(): Promise<void> {
    const ids = new Set<string>();
    for (const c of this.#state.conversations)
      for (const m of c.members) if (m.userId !== this.session.userId) ids.add(m.userId);
    const list = [...ids];
    for (let i = 0; i < list.length; i += 200) {
      const presence = await this.client.api.getPresence(list.slice(i, i + 200)).catch(() => ({}));
      this.#set({ presence: { ...this.#state.presence, ...presence } });
    }
  }

  // ---- state helpers -------------------------------------------------------------------------

  #conversation(id: string): Conversation | undefined {
    return this.#state.conversations.find((c) => c.id === id);
  }

  #upsertConversation(conversation: Conversation): void {
    const old = this.#conversation(conversation.id);
    const merged = keepNewerPreview(conversation, old);
    const others = this.#state.conversations.filter((c) => c.id !== conversation.id);
    this.#set({ conversations: sortByActivity([...others, merged]) });
  }

  #removeConversation(id: string): void {
    const { [id]: _gone, ...chats } = this.#state.chats;
    this.#set({ conversations: this.#state.conversations.filter((c) => c.id !== id), chats });
  }

  #patchConversation(id: string, change: (c: Conversation) => Conversation): void {
    const old = this.#conversation(id);
    if (!old) return;
    const next = change(old);
    if (next === old) return;
    this.#set({ conversations: sortByActivity(this.#state.conversations.map((c) => (c.id === id ? next : c))) });
  }

  #setChat(id: string, chat: ChatMessages): void {
    this.#set({ chats: { ...this.#state.chats, [id]: chat } });
  }

  #confirmedClientIds(): Set<string> {
    const ids = new Set<string>();
    for (const chat of Object.values(this.#state.chats))
      for (const m of chat.messages) if (m.senderId === this.session.userId) ids.add(m.clientMsgId);
    return ids;
  }

  #set(patch: Partial<AppState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const fn of this.#listeners) fn();
  }
}

function activity(c: Conversation): string {
  return c.lastMessage?.createdAt ?? c.createdAt;
}

function sortByActivity(list: Conversation[]): Conversation[] {
  return [...list].sort((a, b) => activity(b).localeCompare(activity(a)));
}

/**
 * A listed conversation over the one held: the list wins for settings and counts, but events handed
 * out after the list was taken may be newer (a later message, a receipt), and those stay.
 */
function mergeListed(fresh: Conversation, old: Conversation | undefined): Conversation {
  const merged = keepNewerPreview(fresh, old);
  if (!old) return merged;
  const oldMembers = new Map(old.members.map((m) => [m.userId, m]));
  return {
    ...merged,
    unreadCount: old.lastSeq > fresh.lastSeq ? Math.max(fresh.unreadCount, old.unreadCount) : fresh.unreadCount,
    members: merged.members.map((m) => {
      const o = oldMembers.get(m.userId);
      return o
        ? { ...m, readSeq: Math.max(m.readSeq, o.readSeq), deliveredSeq: Math.max(m.deliveredSeq, o.deliveredSeq) }
        : m;
    }),
  };
}

const presenceKey = (userId: string) => `messenger.presenceVisible.${userId}`;

function readPresenceVisible(userId: string): boolean {
  try {
    return localStorage.getItem(presenceKey(userId)) !== 'false';
  } catch {
    return true;
  }
}

function writePresenceVisible(userId: string, visible: boolean): void {
  try {
    localStorage.setItem(presenceKey(userId), String(visible));
  } catch {
    // No storage: the server still has the setting.
  }
}

/** Events and list pages can overtake each other; never let an older preview replace a newer one. */
function keepNewerPreview(fresh: Conversation, old: Conversation | undefined): Conversation {
  if (!old?.lastMessage || (fresh.lastMessage && fresh.lastMessage.seq >= old.lastMessage.seq)) return fresh;
  return { ...fresh, lastMessage: old.lastMessage, lastSeq: Math.max(fresh.lastSeq, old.lastSeq) };
}

/** By id; `replace` lets the incoming copy win (a refetch), otherwise a known message keeps its live state. */
export function mergeMessages(current: Message[], incoming: Message[], replace = true): Message[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const m of incoming) if (replace || !byId.has(m.id)) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

function normalizeUsername(u: string): string {
  return u.trim().replace(/^@/, '').toLowerCase();
}

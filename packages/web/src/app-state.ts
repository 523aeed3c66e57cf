// The snapshot the UI renders for one signed-in user, and every change to it: one immutable state
// replaced on each change, with the listeners of useSyncExternalStore told.
import type { ClientState, OutboxItem } from '@messenger/sdk';
import type { Conversation, Message, PresenceInfo, User } from '@messenger/protocol';
import { keepNewerPreview, sortByActivity, withNewest } from './lib/conversations.js';
import {
  mergeMessages,
  newestOf,
  outsideWindow,
  tombstone,
  withDeleted,
  withReaction,
  withReplaced,
} from './lib/messages.js';

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
  /** Whether the server names the user an operator (its ADMIN_USERNAMES): the operator page shows. */
  operator: boolean;
  /** Ids of the users this user blocked. */
  blocked: string[];
}

export class AppStateCell {
  #state: AppState;
  readonly #meId: string;
  readonly #listeners = new Set<() => void>();
  #typingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(meId: string, initial: AppState) {
    this.#meId = meId;
    this.#state = initial;
  }

  get state(): AppState {
    return this.#state;
  }

  subscribe = (fn: () => void): (() => void) => {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  };

  getSnapshot = (): AppState => this.#state;

  stop(): void {
    clearTimeout(this.#typingTimer);
  }

  addMessages(conversationId: string, messages: Message[], opts: { replace?: boolean } = {}): void {
    const chat = this.#state.chats[conversationId];
    if (chat) this.setChat(conversationId, { ...chat, messages: mergeMessages(chat.messages, messages, opts.replace) });
    const confirmed = new Set(messages.filter((m) => m.senderId === this.#meId).map((m) => m.clientMsgId));
    if (confirmed.size > 0 && this.#state.outgoing.some((i) => confirmed.has(i.clientMsgId))) {
      this.set({ outgoing: this.#state.outgoing.filter((i) => !confirmed.has(i.clientMsgId)) });
    }
    const newest = newestOf(messages);
    if (newest) this.patchConversation(conversationId, (c) => withNewest(c, newest));
  }

  /** A refetched stretch of history (everything after `afterSeq` up to the newest) replaces what was loaded there. */
  replaceWindow(conversationId: string, afterSeq: number, fresh: Message[]): void {
    const chat = this.#state.chats[conversationId];
    if (!chat) return;
    this.setChat(conversationId, { ...chat, messages: outsideWindow(chat.messages, afterSeq, fresh) });
    this.addMessages(conversationId, fresh);
  }

  replaceMessage(conversationId: string, message: Message): void {
    const chat = this.#state.chats[conversationId];
    if (chat?.messages.some((m) => m.id === message.id)) {
      this.setChat(conversationId, { ...chat, messages: withReplaced(chat.messages, message) });
    }
    this.patchConversation(conversationId, (c) =>
      c.lastMessage?.id === message.id ? { ...c, lastMessage: message } : c,
    );
  }

  /** True when the preview was the message hidden for me: the one before it is the server's to say, so refetch. */
  applyDelete(conversationId: string, messageId: string, scope: 'everyone' | 'me'): boolean {
    const chat = this.#state.chats[conversationId];
    if (chat) this.setChat(conversationId, { ...chat, messages: withDeleted(chat.messages, messageId, scope) });
    const c = this.conversation(conversationId);
    if (c?.lastMessage?.id !== messageId) return false;
    if (scope === 'me') return true;
    this.patchConversation(conversationId, (x) => ({ ...x, lastMessage: x.lastMessage && tombstone(x.lastMessage) }));
    return false;
  }

  applyReaction(conversationId: string, messageId: string, userId: string, emoji: string | null): void {
    const chat = this.#state.chats[conversationId];
    if (chat)
      this.setChat(conversationId, { ...chat, messages: withReaction(chat.messages, messageId, userId, emoji) });
  }

  setTyping(conversationId: string, userId: string, until: number): void {
    const forChat = this.#state.typing[conversationId] ?? {};
    if (until === 0 && forChat[userId] === undefined) return;
    const next = { ...forChat };
    if (until === 0) delete next[userId];
    else next[userId] = until;
    this.set({ typing: { ...this.#state.typing, [conversationId]: next } });
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
        this.set({ typing });
        this.#scheduleTypingSweep();
      },
      Math.max(50, Math.min(...all) - Date.now()),
    );
  }

  conversation(id: string): Conversation | undefined {
    return this.#state.conversations.find((c) => c.id === id);
  }

  upsertConversation(conversation: Conversation): void {
    const old = this.conversation(conversation.id);
    const merged = keepNewerPreview(conversation, old);
    const others = this.#state.conversations.filter((c) => c.id !== conversation.id);
    this.set({ conversations: sortByActivity([...others, merged]) });
  }

  removeConversation(id: string): void {
    const { [id]: _gone, ...chats } = this.#state.chats;
    this.set({ conversations: this.#state.conversations.filter((c) => c.id !== id), chats });
  }

  patchConversation(id: string, change: (c: Conversation) => Conversation): void {
    const old = this.conversation(id);
    if (!old) return;
    const next = change(old);
    if (next === old) return;
    this.set({ conversations: sortByActivity(this.#state.conversations.map((c) => (c.id === id ? next : c))) });
  }

  setChat(id: string, chat: ChatMessages): void {
    this.set({ chats: { ...this.#state.chats, [id]: chat } });
  }

  #confirmedClientIds(): Set<string> {
    const ids = new Set<string>();
    for (const chat of Object.values(this.#state.chats))
      for (const m of chat.messages) if (m.senderId === this.#meId) ids.add(m.clientMsgId);
    return ids;
  }

  set(patch: Partial<AppState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const fn of this.#listeners) fn();
  }

  /** The outbox changed: items gone from it stay until their message is in the chat (see `outgoing`). */
  foldOutbox(items: OutboxItem[]): void {
    const current = new Map(items.map((i) => [i.clientMsgId, i]));
    const kept = this.#state.outgoing
      .filter((i) => !current.has(i.clientMsgId))
      .map((i) => ({ ...i, state: 'pending' as const }));
    const confirmed = this.#confirmedClientIds();
    this.set({
      outgoing: [...kept, ...items]
        .filter((i) => !confirmed.has(i.clientMsgId))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
    });
  }
}

// Folding the SDK's live events into the app state: new, edited and deleted messages, reactions,
// receipts, typing, presence, renamed users and changed chats, and the fresh list after each catch-up.
import type { MessengerClient, ResyncEvent } from '@messenger/sdk';
import type { Conversation, Message, ServerEvent, User } from '@messenger/protocol';
import type { AppStateCell } from './app-state.js';
import type { ChatHistory } from './chat-history.js';
import { mergeListed, sortByActivity, withMessage, withReceipt } from './lib/conversations.js';
import type { Notifications } from './notifications.js';
import type { SafetyActions } from './safety-actions.js';

/** A typing event lasts this long unless another one or the message itself arrives. */
const TYPING_SHOWN_MS = 6000;

export interface LiveEventsDeps {
  client: MessengerClient;
  cell: AppStateCell;
  userId: string;
  history: ChatHistory;
  safety: SafetyActions;
  notifications: Notifications;
  /** The chat on screen with its newest message visible, whose messages are read as they come. */
  reading: () => string | null;
  markRead: (id: string) => void;
  refreshPresence: () => Promise<void>;
}

export class LiveEvents {
  readonly #client: MessengerClient;
  readonly #cell: AppStateCell;
  readonly #userId: string;
  readonly #history: ChatHistory;
  readonly #safety: SafetyActions;
  readonly #notifications: Notifications;
  readonly #reading: () => string | null;
  readonly #markRead: (id: string) => void;
  readonly #refreshPresence: () => Promise<void>;

  constructor(deps: LiveEventsDeps) {
    this.#client = deps.client;
    this.#cell = deps.cell;
    this.#userId = deps.userId;
    this.#history = deps.history;
    this.#safety = deps.safety;
    this.#notifications = deps.notifications;
    this.#reading = deps.reading;
    this.#markRead = deps.markRead;
    this.#refreshPresence = deps.refreshPresence;
  }

  /**
   * After every catch-up (the SDK has handed out the missed messages by now): the fresh list brings
   * receipts, unread counts, mutes and chats created meanwhile; after an outage the open chats are
   * refetched for edits, reactions and deletions, which are not replayed as events.
   */
  async onResync(e: ResyncEvent): Promise<void> {
    // The SDK's list is the server's chat list, without message requests: those are fetched beside
    // it, or kept as held when that fails, so the Requests section does not empty on a reconnect.
    const requests = await this.#safety
      .allRequests()
      .catch(() => this.#cell.state.conversations.filter((c) => c.request));
    const listed = new Set(e.conversations.map((c) => c.id));
    const byId = new Map(this.#cell.state.conversations.map((c) => [c.id, c]));
    const conversations = [...e.conversations, ...requests.filter((c) => !listed.has(c.id))];
    this.#cell.set({
      conversations: sortByActivity(conversations.map((c) => mergeListed(c, byId.get(c.id)))),
      listLoaded: true,
    });
    // Their messages reached this device too: delivered (the server shows it once accepted).
    this.#client.acknowledgeDelivered(requests);
    void this.#refreshPresence();
    if (!e.reconnect) return;
    await this.#history.refetchRecent(new Set(conversations.map((c) => c.id)));
    const reading = this.#reading();
    if (reading) this.#markRead(reading);
  }

  onEvent(e: ServerEvent): void {
    switch (e.type) {
      case 'message.created':
        this.#onMessage(e.conversationId, e.message);
        break;
      case 'message.updated':
        this.#cell.replaceMessage(e.conversationId, e.message);
        break;
      case 'message.deleted':
        this.applyDelete(e.conversationId, e.messageId, e.for);
        break;
      case 'reaction.updated':
        this.#cell.applyReaction(e.conversationId, e.messageId, e.userId, e.emoji);
        break;
      case 'receipt.read':
      case 'receipt.delivered': {
        const field = e.type === 'receipt.read' ? 'readSeq' : 'deliveredSeq';
        this.#cell.patchConversation(e.conversationId, (c) => withReceipt(c, field, e.userId, e.seq, this.#userId));
        break;
      }
      case 'typing':
        if (e.userId !== this.#userId) this.#cell.setTyping(e.conversationId, e.userId, Date.now() + TYPING_SHOWN_MS);
        break;
      case 'presence':
        this.#cell.set({
          presence: { ...this.#cell.state.presence, [e.userId]: { status: e.status, lastSeenAt: e.lastSeenAt } },
        });
        break;
      case 'user.updated':
        this.applyUser(e.user);
        break;
      case 'conversation.updated':
        if (e.conversation.request && this.#safety.declined(e.conversation.id)) break;
        if (e.conversation.members.some((m) => m.userId === this.#userId)) {
          this.#cell.upsertConversation(e.conversation);
          void this.#refreshPresence();
        } else this.#cell.removeConversation(e.conversation.id);
        break;
    }
  }

  /** A new name (or "Deleted account") shows wherever the user is a member, and as `me` for oneself. */
  applyUser(user: User): void {
    const rename = (c: Conversation): Conversation =>
      c.members.some((m) => m.userId === user.id)
        ? {
            ...c,
            members: c.members.map((m) =>
              m.userId === user.id
                ? { ...m, username: user.username, displayName: user.displayName, avatarUrl: user.avatarUrl }
                : m,
            ),
          }
        : c;
    this.#cell.set({
      conversations: this.#cell.state.conversations.map(rename),
      ...(user.id === this.#userId ? { me: user } : {}),
    });
  }

  #onMessage(conversationId: string, message: Message): void {
    const meId = this.#userId;
    if (this.#safety.declined(conversationId)) return;
    if (!this.#cell.conversation(conversationId)) {
      // A conversation we were just added to: its event may come after its first message.
      this.#client.api.getConversation(conversationId).then(
        (c) => this.#cell.upsertConversation(c),
        () => {},
      );
    }
    this.#cell.setTyping(conversationId, message.senderId, 0);
    const reading = this.#reading() === conversationId && document.visibilityState === 'visible';
    const before = this.#cell.conversation(conversationId);
    if (
      before &&
      message.senderId !== meId &&
      !message.deletedAt &&
      message.seq > before.lastSeq &&
      !before.muted &&
      // Like the server's push, none for a message request.
      !before.request &&
      document.visibilityState === 'hidden'
    ) {
      const sender = before.members.find((m) => m.userId === message.senderId)?.displayName ?? 'New message';
      this.#notifications.showFromPage(conversationId, sender, message.body);
    }
    this.#cell.patchConversation(conversationId, (c) => withMessage(c, message, meId, reading));
    if (this.#cell.state.chats[conversationId]) this.#cell.addMessages(conversationId, [message]);
    if (reading) this.#markRead(conversationId);
  }

  /** Also after the user's own delete. */
  applyDelete(conversationId: string, messageId: string, scope: 'everyone' | 'me'): void {
    if (!this.#cell.applyDelete(conversationId, messageId, scope)) return;
    this.#client.api.getConversation(conversationId).then(
      (c) => this.#cell.upsertConversation(c),
      () => {},
    );
  }
}

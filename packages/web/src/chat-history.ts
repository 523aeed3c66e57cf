// Loading a chat's history: its newest page, older pages on scroll-up, around a search hit, and the refetch after an outage.
import { LIMITS, type Message } from '@messenger/protocol';
import type { HttpApi } from '@messenger/sdk';
import type { AppStateCell, ChatMessages } from './app-state.js';
import { mergeMessages } from './lib/messages.js';

const HISTORY_PAGE = 50;

export class ChatHistory {
  readonly #api: HttpApi;
  readonly #cell: AppStateCell;

  constructor(deps: { api: HttpApi; cell: AppStateCell }) {
    this.#api = deps.api;
    this.#cell = deps.cell;
  }

  async open(id: string): Promise<void> {
    if (this.#cell.state.chats[id]) return;
    const messages = await this.#api.getMessages(id, { limit: HISTORY_PAGE });
    const current = this.#cell.state.chats[id] as ChatMessages | undefined; // may have arrived during the fetch
    this.#cell.setChat(id, {
      messages: mergeMessages(current?.messages ?? [], messages),
      hasOlder: messages.length === HISTORY_PAGE,
      loadingOlder: false,
    });
  }

  async loadOlder(id: string): Promise<void> {
    const chat = this.#cell.state.chats[id];
    if (!chat?.hasOlder || chat.loadingOlder) return;
    const oldest = chat.messages[0]?.seq;
    if (oldest === undefined) return;
    this.#cell.setChat(id, { ...chat, loadingOlder: true });
    try {
      const older = await this.#api.getMessages(id, { beforeSeq: oldest, limit: HISTORY_PAGE });
      const now = this.#cell.state.chats[id] ?? chat;
      this.#cell.setChat(id, {
        messages: mergeMessages(now.messages, older),
        hasOlder: older.length === HISTORY_PAGE,
        loadingOlder: false,
      });
    } catch (error) {
      this.#cell.setChat(id, { ...(this.#cell.state.chats[id] ?? chat), loadingOlder: false });
      throw error;
    }
  }

  /** Loads from just before `seq` up to the newest, so a search hit lands inside one contiguous history. */
  async loadAround(id: string, seq: number): Promise<void> {
    const have = this.#cell.state.chats[id];
    if (have?.messages.some((m) => m.seq <= seq)) return;
    let afterSeq = Math.max(0, seq - 10);
    let all: Message[] = [];
    for (let page = 0; page < 20; page++) {
      const got = await this.#api.getMessages(id, { afterSeq, limit: LIMITS.maxHistoryLimit });
      all = all.concat(got);
      if (got.length < LIMITS.maxHistoryLimit) break;
      afterSeq = got[got.length - 1]!.seq;
    }
    const merged = mergeMessages(this.#cell.state.chats[id]?.messages ?? [], all);
    this.#cell.setChat(id, { messages: merged, hasOlder: (merged[0]?.seq ?? 1) > 1, loadingOlder: false });
  }

  /**
   * After an outage, the open chats' recent history again: edits, reactions and deletions made
   * meanwhile are not replayed as events. Chats no longer `listed` are left alone.
   */
  async refetchRecent(listed: Set<string>): Promise<void> {
    for (const [id, chat] of Object.entries(this.#cell.state.chats)) {
      if (!listed.has(id)) continue;
      const newest = chat.messages[chat.messages.length - 1]?.seq ?? 0;
      const afterSeq = Math.max(0, newest - HISTORY_PAGE);
      const recent = await this.#api.getMessages(id, { afterSeq, limit: LIMITS.maxHistoryLimit });
      this.#cell.replaceWindow(id, afterSeq, recent);
    }
  }
}

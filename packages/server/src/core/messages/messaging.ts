// Messaging use cases: send (SendMessage), edit, delete, react, receipts and history.
// Every state change is appended to the event log; the reply waits for the append to be durable.
import { isSingleEmoji, LIMITS, type Message, type SearchResult } from '@messenger/protocol';
import { AppError, invalid, notFound, unavailable } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { inSpan, traceparent, tracingEnabled } from '../../observability/tracing.js';
import {
  checkCanDeleteForEveryone,
  checkCanEdit,
  checkMessageText,
  nextReceiptSeq,
  tombstone,
} from '../../domain/rules.js';
import type { Conversations } from '../conversations/conversations.js';
import type { Reach } from '../safety/reach.js';
import type { RateLimiter } from '../rate-limit.js';
import type { ConversationStore } from '../conversations/conversation-store.js';
import type { MessageSearch } from './message-search.js';
import type { HistoryQuery, MessageStore } from './message-store.js';
import type { EventLog } from './event-log.js';
import type { StoreLag } from './store-lag.js';
import { type Attachments, avatarUploadIdOf, sentMessageId } from '../media/attachments.js';

export interface SendInput {
  conversationId: string;
  clientMsgId: string;
  body: string;
  replyToId?: string | null | undefined;
  /** Upload ids (at most LIMITS.maxAttachments), each the sender's own and not attached before. */
  attachments?: readonly string[] | undefined;
}

export class Messaging {
  private readonly store: MessageStore;
  private readonly messageSearch: MessageSearch;
  private readonly seqs: Pick<ConversationStore, 'lastSeq'>;
  private readonly log: EventLog;
  private readonly conversations: Conversations;
  private readonly sends: RateLimiter;
  private readonly searches: RateLimiter | undefined;
  private readonly reach: Reach;
  private readonly editWindowMs: number;
  private readonly now: () => number;
  /** Resolves once the store holds everything the log has for a conversation (when it may trail it). */
  private readonly storeCatchUp: ((conversationId: string) => Promise<unknown>) | undefined;
  /** Refuses new sends while the store trails the log past its bound (cluster back-pressure). */
  private readonly storeLag: Pick<StoreLag, 'admit'> | undefined;
  /** Per sender, the turn of its latest send: appends leave in the order the sends came in. */
  private readonly sendTurns = new Map<string, Promise<void>>();
  private readonly attachments: Pick<Attachments, 'claim' | 'deleteOf' | 'deleteUpload'> | undefined;
  private readonly previews: { onSent(message: Message): void } | undefined;

  constructor(deps: {
    messageStore: MessageStore;
    messageSearch: MessageSearch;
    conversationStore: Pick<ConversationStore, 'lastSeq'>;
    log: EventLog;
    conversations: Conversations;
    sends: RateLimiter;
    /** Search requests per user (RATE_LIMIT_SEARCHES per minute). */
    searches?: RateLimiter;
    reach: Reach;
    editWindowMs: number;
    now?: () => number;
    storeCatchUp?: (conversationId: string) => Promise<unknown>;
    storeLag?: Pick<StoreLag, 'admit'>;
    /** Without it, sends with attachments are refused. */
    attachments?: Pick<Attachments, 'claim' | 'deleteOf' | 'deleteUpload'>;
    /** Told of each new message, after it is durable (link previews). */
    previews?: { onSent(message: Message): void };
  }) {
    this.attachments = deps.attachments;
    this.previews = deps.previews;
    this.storeLag = deps.storeLag;
    this.storeCatchUp = deps.storeCatchUp;
    this.store = deps.messageStore;
    this.messageSearch = deps.messageSearch;
    this.seqs = deps.conversationStore;
    this.log = deps.log;
    this.conversations = deps.conversations;
    this.sends = deps.sends;
    this.searches = deps.searches;
    this.reach = deps.reach;
    this.editWindowMs = deps.editWindowMs;
    this.now = deps.now ?? Date.now;
  }

  /** `created` is false for a retry of an earlier send: the original message comes back. */
  async send(senderId: string, input: SendInput): Promise<{ message: Message; created: boolean }> {
    if (!tracingEnabled()) return this.sendOrdered(senderId, input);
    return inSpan('message.send', { 'messenger.conversation': input.conversationId }, () =>
      this.sendOrdered(senderId, input),
    );
  }

  private async sendOrdered(senderId: string, input: SendInput): Promise<{ message: Message; created: boolean }> {
    // The checks below wait on the store, and may finish out of order (a cluster store is remote);
    // a sender's pipelined sends must still get their seqs in the order they were sent.
    const previous = this.sendTurns.get(senderId);
    let done!: () => void;
    const turn = new Promise<void>((resolve) => (done = resolve));
    this.sendTurns.set(senderId, turn);
    try {
      return await this.sendInTurn(senderId, input, previous, done);
    } finally {
      done();
      if (this.sendTurns.get(senderId) === turn) this.sendTurns.delete(senderId);
    }
  }

  private async sendInTurn(
    senderId: string,
    input: SendInput,
    previous: Promise<void> | undefined,
    done: () => void,
  ): Promise<{ message: Message; created: boolean }> {
    const uploadIds = input.attachments ?? [];
    if (uploadIds.length > LIMITS.maxAttachments) throw invalid(`at most ${LIMITS.maxAttachments} attachments`);
    checkMessageText(input.body, LIMITS.maxMessageBytes, uploadIds.length);
    // Asked together (a cluster store answers both in one query), judged in this order: a
    // non-member learns nothing of blocks.
    const [member, reach] = await Promise.allSettled([
      this.conversations.requireMember(input.conversationId, senderId),
      this.reach.checkCanSend(senderId, input.conversationId),
    ]);
    if (member.status === 'rejected') throw member.reason;
    if (reach.status === 'rejected') throw reach.reason;
    const membership = member.value;
    const wait = this.sends.take(senderId);
    if (wait > 0) {
      // A retry of a message already sent is answered, not limited: retries must stay safe.
      const original = await this.store.messageByClientId(senderId, input.clientMsgId);
      if (original)
        return { message: original.deletedAt ? tombstone(original, original.deletedAt) : original, created: false };
      throw new AppError('rate_limited', 'sending too fast', wait);
    }
    if (input.replyToId && !(await this.visibleMessage(input.conversationId, input.replyToId, membership.joinedSeq))) {
      throw invalid('replyToId does not name a message of this conversation');
    }
    const id = uploadIds.length > 0 ? sentMessageId(senderId, input.clientMsgId) : newId('m');
    const createdAt = new Date(this.now()).toISOString();
    const attachments =
      uploadIds.length > 0
        ? await this.claimUploads(senderId, input, { conversationId: input.conversationId, id }, createdAt)
        : [];
    if (!Array.isArray(attachments)) return attachments;
    const draft: Message = {
      id,
      conversationId: input.conversationId,
      seq: 0,
      senderId,
      clientMsgId: input.clientMsgId,
      body: input.body,
      createdAt,
      editedAt: null,
      deletedAt: null,
      replyToId: input.replyToId ?? null,
      reactions: [],
      attachments,
    };
    // Sending in a chat accepts it (a reply to a request is an answer).
    if (membership.request !== 'accepted') await this.conversations.markAccepted(input.conversationId, senderId);
    this.storeLag?.admit(input.conversationId);
    if (previous) await previous;
    // The log orders appends by call, so the next send may go as soon as this one is handed over.
    const entry = { type: 'message.created' as const, conversationId: input.conversationId, message: draft };
    const appended = tracingEnabled()
      ? inSpan('log.append', {}, () => this.log.append({ ...entry, trace: traceparent() }))
      : this.log.append(entry);
    done();
    const result = await appended;
    if (!result.duplicate) {
      if (result.record.type !== 'message.created') throw unavailable('the log returned a different entry');
      this.previews?.onSent(result.record.message);
      return { message: result.record.message, created: true };
    }
    try {
      return { message: await this.original(senderId, input.clientMsgId), created: false };
    } catch (error) {
      // The store is down (a cluster's PostgreSQL); the log's copy answers the retry meanwhile.
      if (result.logged && error instanceof AppError && error.code === 'unavailable')
        return { message: result.logged, created: false };
      throw error;
    }
  }

  /**
   * The attachments of a send, claimed; or, for a retry whose message is already stored, that
   * message (claiming first would find the uploads taken by it, which is no error for a retry).
   */
  private async claimUploads(
    senderId: string,
    input: SendInput,
    to: { conversationId: string; id: string },
    at: string,
  ): Promise<Message['attachments'] | { message: Message; created: boolean }> {
    if (!this.attachments) throw invalid('this server does not take attachments');
    const original = await this.store.messageByClientId(senderId, input.clientMsgId);
    if (original)
      return { message: original.deletedAt ? tombstone(original, original.deletedAt) : original, created: false };
    return this.attachments.claim(
      senderId,
      input.attachments ?? [],
      { conversationId: to.conversationId, messageId: to.id },
      at,
    );
  }

  async edit(userId: string, conversationId: string, messageId: string, body: string): Promise<Message> {
    const membership = await this.conversations.requireMember(conversationId, userId);
    const message = await this.requireMessage(conversationId, messageId, membership.joinedSeq);
    checkCanEdit(message, userId, this.now(), this.editWindowMs);
    checkMessageText(body);
    const editedAt = new Date(this.now()).toISOString();
    const edited: Message = { ...message, body, editedAt };
    await this.log.append({ type: 'message.updated', conversationId, messageId, body, editedAt, message: edited });
    return edited;
  }

  /**
   * The sender removes the link preview: it is logged away (a message.updated with linkPreview
   * null) and its image file deleted. Others: 403. Idempotent.
   */
  async removePreview(userId: string, conversationId: string, messageId: string): Promise<void> {
    const membership = await this.conversations.requireMember(conversationId, userId);
    let message = await this.requireMessage(conversationId, messageId, membership.joinedSeq);
    if (message.senderId !== userId) throw new AppError('forbidden', 'only the sender can remove the preview');
    // The sender saw the preview in an event; a store that trails the log may not hold it yet.
    if (!message.linkPreview && this.storeCatchUp) {
      await this.storeCatchUp(conversationId);
      message = await this.requireMessage(conversationId, messageId, membership.joinedSeq);
    }
    if (message.deletedAt || !message.linkPreview) return;
    const { body, editedAt } = message;
    const removed: Message = { ...message, linkPreview: null };
    await this.log.append({
      type: 'message.updated',
      conversationId,
      messageId,
      body,
      editedAt,
      message: removed,
      linkPreview: null,
    });
    const image = avatarUploadIdOf(message.linkPreview.thumbnailUrl);
    if (image) await this.attachments?.deleteUpload(image);
  }

  async delete(userId: string, conversationId: string, messageId: string, scope: 'everyone' | 'me'): Promise<void> {
    const membership = await this.conversations.requireMember(conversationId, userId);
    const message = await this.requireMessage(conversationId, messageId, membership.joinedSeq);
    if (scope === 'everyone') {
      checkCanDeleteForEveryone(message, userId);
      // A repeated delete completes what a failed one left: the files go after the record is logged.
      if (message.deletedAt) return this.attachments?.deleteOf(messageId);
    }
    const at = new Date(this.now()).toISOString();
    await this.log.append({ type: 'message.deleted', conversationId, messageId, for: scope, userId, at });
    if (scope === 'everyone') await this.attachments?.deleteOf(messageId);
  }

  async react(userId: string, conversationId: string, messageId: string, emoji: string | null): Promise<Message> {
    if (emoji !== null && !isSingleEmoji(emoji)) throw invalid('emoji must be exactly one emoji');
    const membership = await this.conversations.requireMember(conversationId, userId);
    const message = await this.requireMessage(conversationId, messageId, membership.joinedSeq);
    if (message.deletedAt) throw invalid('a deleted message cannot get reactions');
    const others = message.reactions.filter((r) => r.userId !== userId);
    const had = others.length !== message.reactions.length;
    if (emoji !== null || had) {
      await this.log.append({ type: 'reaction.updated', conversationId, messageId, userId, emoji });
    }
    return { ...message, reactions: emoji === null ? others : [...others, { userId, emoji }] };
  }

  async receipt(userId: string, conversationId: string, kind: 'read' | 'delivered', seq: number): Promise<void> {
    const membership = await this.conversations.requireMember(conversationId, userId);
    const current = kind === 'read' ? membership.readSeq : membership.deliveredSeq;
    let last = await this.seqs.lastSeq(conversationId);
    if (seq > last && seq > current && this.storeCatchUp) {
      await this.storeCatchUp(conversationId);
      last = await this.seqs.lastSeq(conversationId);
    }
    const next = nextReceiptSeq(current, seq, last);
    if (next <= current) return;
    await this.log.append({
      type: kind === 'read' ? 'receipt.read' : 'receipt.delivered',
      conversationId,
      userId,
      seq: next,
      ...(this.reach.signalsShown(membership) ? {} : { ownOnly: true }),
    });
  }

  async history(userId: string, conversationId: string, query: Partial<HistoryQuery>): Promise<Message[]> {
    await this.conversations.requireMember(conversationId, userId);
    // Every read includes what the log held for the conversation when it arrived: paging forward
    // (afterSeq) is how a client catches up after a reconnect, and a newest page or one before a seq
    // is what a reload shows. Without the wait, messages fanned out live and not stored yet would be
    // skipped for good by a catch-up, or vanish from the screen on a reload. Where the store trails
    // the log, wait for it first.
    if (this.storeCatchUp) await this.storeCatchUp(conversationId);
    return this.store.history(conversationId, userId, { ...query, limit: query.limit ?? LIMITS.defaultHistoryLimit });
  }

  async search(
    userId: string,
    q: string,
    conversationId: string | undefined,
    limit: number = LIMITS.defaultSearchLimit,
  ): Promise<SearchResult[]> {
    const wait = this.searches?.take(userId) ?? 0;
    if (wait > 0) throw new AppError('rate_limited', 'searching too fast', wait);
    if (conversationId) await this.conversations.requireMember(conversationId, userId);
    const results = await this.messageSearch.search(userId, { q, conversationId, limit });
    if (conversationId) return results;
    // Requests are not in the chat list, and their messages not in search, until accepted.
    const shown = new Map<string, boolean>();
    for (const id of new Set(results.map((r) => r.conversationId)))
      shown.set(id, (await this.conversations.requireMember(id, userId).catch(() => null))?.request === 'accepted');
    return results.filter((r) => shown.get(r.conversationId));
  }

  /** Messages from before the caller joined do not exist for them, even if their id leaked (say, through a reply). */
  private async visibleMessage(conversationId: string, messageId: string, joinedSeq: number): Promise<Message | null> {
    let message = await this.store.message(conversationId, messageId);
    if (!message && this.storeCatchUp) {
      await this.storeCatchUp(conversationId);
      message = await this.store.message(conversationId, messageId);
    }
    return message && message.seq > joinedSeq ? message : null;
  }

  private async requireMessage(conversationId: string, messageId: string, joinedSeq: number): Promise<Message> {
    const message = await this.visibleMessage(conversationId, messageId, joinedSeq);
    if (!message) throw notFound('message');
    return message;
  }

  /** The store may trail the log for a moment in a cluster; the original is there once persisted. */
  private async original(senderId: string, clientMsgId: string): Promise<Message> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const message = await this.store.messageByClientId(senderId, clientMsgId);
      if (message) return message.deletedAt ? tombstone(message, message.deletedAt) : message;
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
    throw unavailable('the original message is not stored yet; retry with the same clientMsgId');
  }
}

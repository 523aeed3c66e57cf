// Who can reach whom: the one place the message-request and block rules are decided. Use cases ask
// it before a send, an add or a new direct chat, and before a receipt, typing or presence reaches
// anyone; the chat list and the notifier read the request state it leaves on each membership.
import { AppError, forbidden } from '../../domain/errors.js';
import { signalsShown } from '../../domain/safety.js';
import type { ConversationStore, Membership } from '../conversations/conversation-store.js';
import type { BlockStore } from './block-store.js';

/** Last-known block answers kept for store outages; old ones go first past this many. */
const LAST_KNOWN = 100_000;

export class Reach {
  private readonly blocks: BlockStore;
  /**
   * The last answer read per (direct chat, sender): while the store is unavailable a send is judged
   * on it, as membership is (the log takes sends through a PostgreSQL outage); every send that can
   * read the store reads it afresh, so a new block holds at once.
   */
  private readonly lastKnown = new Map<string, boolean>();
  private readonly store: Pick<ConversationStore, 'contacts'>;

  constructor(deps: { blocks: BlockStore; conversationStore: Pick<ConversationStore, 'contacts'> }) {
    this.blocks = deps.blocks;
    this.store = deps.conversationStore;
  }

  /** 403 when one of `targets` blocked `userId` (or the other way): no new direct chat, no adding them. */
  async checkCanReach(userId: string, targets: string[]): Promise<void> {
    const blocked = await this.blocks.blockedEither(userId, targets);
    if (blocked.size > 0) throw forbidden('a block between you and this user stops it');
  }

  /** 403 when the other member of a direct chat blocked the sender. */
  async checkCanSend(senderId: string, conversationId: string): Promise<void> {
    const key = `${conversationId}\u0000${senderId}`;
    let blocked: boolean;
    try {
      blocked = await this.blocks.blockedInDirectChat(conversationId, senderId);
    } catch (error) {
      const known = this.lastKnown.get(key);
      if (known === undefined || !(error instanceof AppError && error.code === 'unavailable')) throw error;
      blocked = known;
    }
    this.lastKnown.delete(key);
    this.lastKnown.set(key, blocked);
    if (this.lastKnown.size > LAST_KNOWN) this.lastKnown.delete(this.lastKnown.keys().next().value!);
    if (blocked) throw forbidden('this user does not accept your messages');
  }

  /**
   * Of `userIds` brought into a chat by `by`, those for whom it starts as a message request: all
   * but `by`'s contacts (users who share with `by` a conversation both accepted).
   */
  async pendingFor(by: string, userIds: string[]): Promise<string[]> {
    const contacts = new Set(await this.store.contacts(by));
    return userIds.filter((id) => id !== by && !contacts.has(id));
  }

  /** Whether a member's receipts and typing reach the others of the chat. */
  signalsShown(membership: Membership): boolean {
    return signalsShown(membership);
  }

  /** Of `recipients`, who may see `userId`'s typing or presence: no block either way. */
  async unblocked(userId: string, recipients: string[]): Promise<string[]> {
    const blocked = await this.blocks.blockedEither(userId, recipients);
    return blocked.size === 0 ? recipients : recipients.filter((id) => !blocked.has(id));
  }

  /** Who sees `userId`'s presence: contacts with no block either way. */
  async presenceAudience(userId: string): Promise<string[]> {
    return this.unblocked(userId, await this.store.contacts(userId));
  }

  /** Among `userIds`, the contacts of `viewerId` (whose presence it may ask) and those of them blocked either way. */
  async presenceOf(viewerId: string, userIds: string[]): Promise<{ contacts: string[]; blocked: Set<string> }> {
    const contactSet = new Set(await this.store.contacts(viewerId));
    const contacts = userIds.filter((id) => contactSet.has(id));
    return { contacts, blocked: await this.blocks.blockedEither(viewerId, contacts) };
  }
}

// Pure folds over the chat list: order, merging listed copies with live state, messages and receipts.
import type { Conversation, Message } from '@messenger/protocol';

function activity(c: Conversation): string {
  return c.lastMessage?.createdAt ?? c.createdAt;
}

/** Newest activity first. */
export function sortByActivity(list: Conversation[]): Conversation[] {
  return [...list].sort((a, b) => activity(b).localeCompare(activity(a)));
}

/** Events and list pages can overtake each other; never let an older preview replace a newer one. */
export function keepNewerPreview(fresh: Conversation, old: Conversation | undefined): Conversation {
  if (!old?.lastMessage || (fresh.lastMessage && fresh.lastMessage.seq >= old.lastMessage.seq)) return fresh;
  return { ...fresh, lastMessage: old.lastMessage, lastSeq: Math.max(fresh.lastSeq, old.lastSeq) };
}

/**
 * A listed conversation over the one held: the list wins for settings and counts, but events handed
 * out after the list was taken may be newer (a later message, a receipt), and those stay.
 */
export function mergeListed(fresh: Conversation, old: Conversation | undefined): Conversation {
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

/** A live message: preview, unread count, and the sender has read and received up to it. */
export function withMessage(c: Conversation, message: Message, meId: string, reading: boolean): Conversation {
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
}

/** A stored message (an answer or a refetch) as the newest known, if it is. */
export function withNewest(c: Conversation, newest: Message): Conversation {
  return {
    ...c,
    lastSeq: Math.max(c.lastSeq, newest.seq),
    lastMessage: !c.lastMessage || newest.seq >= c.lastMessage.seq ? newest : c.lastMessage,
  };
}

export function withReceipt(
  c: Conversation,
  field: 'readSeq' | 'deliveredSeq',
  userId: string,
  seq: number,
  meId: string,
): Conversation {
  return {
    ...c,
    members: c.members.map((m) => (m.userId === userId ? { ...m, [field]: Math.max(m[field], seq) } : m)),
    ...(userId === meId && field === 'readSeq' && seq >= c.lastSeq ? { unreadCount: 0 } : {}),
  };
}

export function normalizeUsername(u: string): string {
  return u.trim().replace(/^@/, '').toLowerCase();
}

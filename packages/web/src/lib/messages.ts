// Pure folds over a chat's loaded messages: merging pages and live events, edits, deletions, reactions.
import type { Message } from '@messenger/protocol';

/** By id; `replace` lets the incoming copy win (a refetch), otherwise a known message keeps its live state. */
export function mergeMessages(current: Message[], incoming: Message[], replace = true): Message[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const m of incoming) if (replace || !byId.has(m.id)) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/** Deleted for everyone: the text and reactions are gone, the bubble stays. */
export function tombstone(m: Message): Message {
  return { ...m, body: '', reactions: [], deletedAt: m.deletedAt ?? new Date().toISOString() };
}

export function withDeleted(messages: Message[], messageId: string, scope: 'everyone' | 'me'): Message[] {
  return scope === 'me'
    ? messages.filter((m) => m.id !== messageId)
    : messages.map((m) => (m.id === messageId ? tombstone(m) : m));
}

/** At most one reaction per user: a new one replaces theirs, `null` removes it. */
export function withReaction(messages: Message[], messageId: string, userId: string, emoji: string | null): Message[] {
  return messages.map((m) => {
    if (m.id !== messageId) return m;
    const reactions = m.reactions.filter((r) => r.userId !== userId);
    return { ...m, reactions: emoji ? [...reactions, { userId, emoji }] : reactions };
  });
}

export function withReplaced(messages: Message[], message: Message): Message[] {
  return messages.map((m) => (m.id === message.id ? message : m));
}

/**
 * Before a refetched stretch of history (everything after `afterSeq` up to the newest) is merged:
 * what was loaded there goes, since messages deleted for me, or hidden, while away are gone from
 * the answer. Anything newer than the answer came live meanwhile and stays.
 */
export function outsideWindow(messages: Message[], afterSeq: number, fresh: Message[]): Message[] {
  const newestFresh = fresh[fresh.length - 1]?.seq ?? afterSeq;
  return messages.filter((m) => m.seq <= afterSeq || m.seq > newestFresh);
}

export function newestOf(messages: Message[]): Message | undefined {
  return messages.reduce<Message | undefined>((a, m) => (!a || m.seq > a.seq ? m : a), undefined);
}

// What to show under one's own message, from the other members' receipt positions.
import type { Conversation, Message } from '@messenger/protocol';

export function messageStatus(conversation: Conversation, message: Message, meId: string): string {
  const others = conversation.members.filter((m) => m.userId !== meId);
  const seen = others.filter((m) => m.readSeq >= message.seq).length;
  const delivered = others.filter((m) => Math.max(m.deliveredSeq, m.readSeq) >= message.seq).length;
  if (conversation.kind === 'group') {
    if (seen > 0) return `Seen by ${seen}`;
    return delivered > 0 ? 'Delivered' : 'Sent';
  }
  if (others.length > 0 && seen === others.length) return 'Seen';
  if (others.length > 0 && delivered === others.length) return 'Delivered';
  return 'Sent';
}

export function conversationName(conversation: Conversation, meId: string): string {
  if (conversation.kind === 'group')
    return conversation.title ?? conversation.members.map((m) => m.displayName).join(', ');
  const other = conversation.members.find((m) => m.userId !== meId);
  return other?.displayName ?? conversation.title ?? 'Just you';
}

export function otherMember(conversation: Conversation, meId: string) {
  return conversation.kind === 'direct' ? conversation.members.find((m) => m.userId !== meId) : undefined;
}

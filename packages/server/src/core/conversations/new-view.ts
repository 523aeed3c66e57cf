// A chat just created, as a member would read it back from the store: everything is known when it
// is created (its row, its members' rows, their users), so the creator's reply and the fan-out's
// events are built here instead of read again (two statements each, the costlier ones of a create).
import type { Conversation, User } from '@messenger/protocol';
import type { NewConversation } from './conversation-store.js';

/**
 * The view of `conv` for `viewerId`, equal to what the store's `conversation()` returns right after
 * the insert: members in the stores' order (joined seq and time are the same for all, then user id
 * by code point, as the columns' "C" collation sorts), no messages, nothing read or delivered.
 * `users` must hold every member.
 */
export function newConversationView(conv: NewConversation, users: User[], viewerId: string): Conversation {
  const byId = new Map(users.map((u) => [u.id, u]));
  const admins = new Set(conv.admins ?? []);
  const pending = new Set(conv.pending ?? []);
  const ids = [...conv.memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    id: conv.id,
    kind: conv.kind,
    title: conv.title,
    members: ids.map((userId) => {
      const user = byId.get(userId);
      if (!user) throw new Error(`a new chat's member ${userId} has no user`);
      return {
        userId,
        username: user.username,
        displayName: user.displayName,
        avatarUrl: user.avatarUrl,
        readSeq: 0,
        deliveredSeq: 0,
        role: admins.has(userId) ? 'admin' : 'member',
      };
    }),
    createdAt: conv.createdAt,
    lastSeq: 0,
    lastMessage: null,
    unreadCount: 0,
    muted: false,
    request: pending.has(viewerId),
    membersCanAdd: true,
    avatarUrl: null,
  };
}

// The chat list: one link per conversation with avatar, name, preview, time, unread badge and presence.
import { type Conversation, describeAttachments, type Message } from '@messenger/protocol';
import type { AppState } from '../store.js';
import { chatHref } from '../hooks.js';
import { conversationName, otherMember } from '../lib/receipts.js';
import { listTime } from '../lib/time.js';
import { Avatar } from './Avatar.js';
import { Icon } from './Icons.js';

export function preview(c: Conversation, meId: string): string {
  const m: Message | null = c.lastMessage;
  if (!m) return c.kind === 'group' ? 'Group created' : 'Say hello 👋';
  const text = m.deletedAt
    ? 'This message was deleted'
    : m.body.replace(/\s+/g, ' ').trim() || describeAttachments(m.attachments ?? []);
  if (m.senderId === meId) return `You: ${text}`;
  if (c.kind === 'group') {
    const sender = c.members.find((x) => x.userId === m.senderId);
    return `${sender?.displayName.split(' ')[0] ?? 'Someone'}: ${text}`;
  }
  return text;
}

export function ChatList({
  state,
  meId,
  activeId,
  onNewChat,
}: {
  state: AppState;
  meId: string;
  activeId: string | null;
  onNewChat(): void;
}) {
  // Message requests are listed apart (Requests.tsx) until accepted.
  const chats = state.conversations.filter((c) => !c.request);
  return (
    <nav aria-label="Chats" className="chat-list">
      {state.listLoaded && chats.length === 0 && (
        <div className="list-empty">
          <p>No chats yet.</p>
          <button type="button" className="secondary" onClick={onNewChat}>
            Start a chat
          </button>
        </div>
      )}
      <ul>
        {chats.map((c) => {
          const name = conversationName(c, meId);
          const other = otherMember(c, meId);
          const presence = other ? state.presence[other.userId]?.status : undefined;
          const typingUsers = Object.keys(state.typing[c.id] ?? {});
          return (
            <li key={c.id}>
              <a
                href={chatHref(c.id)}
                className={`chat-item${c.id === activeId ? ' active' : ''}${c.unreadCount > 0 ? ' unread' : ''}${c.muted ? ' muted' : ''}`}
                aria-current={c.id === activeId ? 'page' : undefined}
              >
                <Avatar
                  name={name}
                  seed={other?.userId ?? c.id}
                  presence={presence}
                  url={c.kind === 'group' ? c.avatarUrl : other?.avatarUrl}
                />
                <span className="chat-item-body">
                  <span className="chat-item-top">
                    <span className="chat-item-name">{name}</span>
                    {c.muted && (
                      <span className="chat-item-muted" title="Muted">
                        <Icon>
                          <path d="M6 16V11a6 6 0 0 1 9.2-5.1M18 11v5l1.5 2H8" />
                          <path d="M4 4l16 16" />
                        </Icon>
                        <span className="visually-hidden"> (muted)</span>
                      </span>
                    )}
                    {presence === 'online' && <span className="visually-hidden"> (online)</span>}
                    <span className="chat-item-time">{listTime(c.lastMessage?.createdAt ?? c.createdAt)}</span>
                  </span>
                  <span className="chat-item-bottom">
                    <span className="chat-item-preview">
                      {typingUsers.length > 0 && c.kind === 'direct' ? (
                        <em className="typing-text">typing…</em>
                      ) : (
                        preview(c, meId)
                      )}
                    </span>
                    {c.unreadCount > 0 && (
                      <span className="badge" role="img" aria-label={`${c.unreadCount} unread`}>
                        {c.unreadCount > 99 ? '99+' : c.unreadCount}
                      </span>
                    )}
                  </span>
                </span>
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

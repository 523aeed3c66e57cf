// The header of an open chat: who it is with, their presence or who is typing, and the chat's
// actions (mute, block, group info, add members, leave).
import { useState } from 'react';
import type { Conversation } from '@messenger/protocol';
import type { AppState, AppStore } from '../store.js';
import { navigate } from '../hooks.js';
import { otherMember } from '../lib/receipts.js';
import { lastSeen } from '../lib/time.js';
import { Avatar } from './Avatar.js';
import { AddPersonIcon, Icon, IconButton, LeaveIcon } from './Icons.js';

interface Props {
  store: AppStore;
  state: AppState;
  conversation: Conversation;
  name: string;
  typingNames: string[];
  onAddMembers(): void;
  onGroupInfo(): void;
  onError(message: string): void;
}

export function ChatHeader({
  store,
  state,
  conversation,
  name,
  typingNames,
  onAddMembers,
  onGroupInfo,
  onError,
}: Props) {
  const meId = store.session.userId;
  const id = conversation.id;
  const other = otherMember(conversation, meId);

  const presence = other ? state.presence[other.userId] : undefined;
  const subtitle =
    typingNames.length === 1
      ? `${typingNames[0]} is typing…`
      : typingNames.length === 2
        ? `${typingNames[0]} and ${typingNames[1]} are typing…`
        : typingNames.length > 2
          ? 'Several people are typing…'
          : conversation.kind === 'group'
            ? `${conversation.members.length} members`
            : presence?.status === 'online'
              ? 'Online'
              : presence?.status === 'away'
                ? 'Away'
                : presence
                  ? lastSeen(presence.lastSeenAt)
                  : '';

  const leave = async () => {
    try {
      await store.leave(id);
      navigate('');
    } catch {
      onError('Could not leave the group.');
    }
  };

  const [muting, setMuting] = useState(false);
  const toggleMute = async () => {
    setMuting(true);
    try {
      await store.setMuted(id, !conversation.muted);
    } catch {
      onError(conversation.muted ? 'Could not unmute the chat.' : 'Could not mute the chat.');
    } finally {
      setMuting(false);
    }
  };

  const blocked = other ? state.blocked.includes(other.userId) : false;
  const toggleBlock = () => {
    if (!other) return;
    (blocked ? store.safety.unblock(other.userId) : store.safety.block(other.userId)).catch(() =>
      onError(blocked ? 'Could not unblock.' : 'Could not block.'),
    );
  };

  return (
    <header className="chat-header">
      {/* biome-ignore lint/a11y/useValidAnchor: a real link to the chat list, named by its aria-label; the click only routes in-app */}
      <a
        href="#/"
        className="icon-button back-button"
        aria-label="Back to chats"
        onClick={(e) => {
          e.preventDefault();
          navigate('');
        }}
      >
        <Icon>
          <path d="M15 5l-7 7 7 7" />
        </Icon>
      </a>
      <Avatar
        name={name}
        seed={other?.userId ?? id}
        presence={presence?.status}
        url={conversation.kind === 'group' ? conversation.avatarUrl : other?.avatarUrl}
      />
      <div className="chat-title">
        <h2>{name}</h2>
        <p className={typingNames.length > 0 ? 'chat-subtitle typing-text' : 'chat-subtitle'} aria-live="polite">
          {subtitle}
        </p>
      </div>
      <div className="header-actions">
        <IconButton
          label={conversation.muted ? 'Unmute' : 'Mute'}
          title={conversation.muted ? 'Unmute: notify me about new messages' : 'Mute: no notifications from this chat'}
          disabled={muting}
          onClick={toggleMute}
        >
          <Icon>
            {conversation.muted ? (
              <>
                <path d="M6 16V11a6 6 0 0 1 9.2-5.1M18 11v5l1.5 2H8" />
                <path d="M10 20a2 2 0 0 0 4 0" />
                <path d="M4 4l16 16" />
              </>
            ) : (
              <>
                <path d="M6 16v-5a6 6 0 0 1 12 0v5l1.5 2h-15z" />
                <path d="M10 20a2 2 0 0 0 4 0" />
              </>
            )}
          </Icon>
        </IconButton>
        {conversation.kind === 'direct' && other && (
          <IconButton
            label={blocked ? `Unblock ${name}` : `Block ${name}`}
            title={blocked ? 'Unblock: let them message you again' : 'Block: they can no longer message you'}
            aria-pressed={blocked}
            onClick={toggleBlock}
          >
            <Icon>
              <circle cx="12" cy="12" r="8" />
              <path d="M6.5 6.5l11 11" />
            </Icon>
          </IconButton>
        )}
        {conversation.kind === 'group' && (
          <>
            <IconButton label="Group info" title="Group info" onClick={onGroupInfo}>
              <Icon>
                <circle cx="12" cy="12" r="8" />
                <path d="M12 11v5M12 8h.01" />
              </Icon>
            </IconButton>
            <IconButton label="Add members" title="Add members" onClick={onAddMembers}>
              <AddPersonIcon plus="M18 8v6M15 11h6" />
            </IconButton>
            <IconButton label="Leave group" title="Leave group" onClick={leave}>
              <LeaveIcon />
            </IconButton>
          </>
        )}
      </div>
    </header>
  );
}

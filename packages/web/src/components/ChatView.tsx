// One open chat: header with presence or typing, the scrolling history, and the composer.
import { Fragment, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Conversation, Message } from '@messenger/protocol';
import type { AppState, AppStore } from '../store.js';
import { navigate, useNow, usePageVisible } from '../hooks.js';
import { conversationName } from '../lib/receipts.js';
import { dayKey, dayLabel } from '../lib/time.js';
import { ChatHeader } from './ChatHeader.js';
import { Composer } from './Composer.js';
import { MessageItem, PendingItem } from './MessageItem.js';
import { RequestActions } from './Requests.js';

/** Within this distance of the bottom, the newest message counts as visible and new ones keep it in view. */
const BOTTOM_SLACK_PX = 80;
const OLDER_TRIGGER_PX = 150;

interface Props {
  store: AppStore;
  state: AppState;
  conversation: Conversation;
  focusMessageId: string | null;
  onAddMembers(): void;
  onGroupInfo(): void;
  onReport(message: Message): void;
}

export function ChatView({ store, state, conversation, focusMessageId, onAddMembers, onGroupInfo, onReport }: Props) {
  const meId = store.session.userId;
  const id = conversation.id;
  const chat = state.chats[id];
  const outgoing = useMemo(() => state.outgoing.filter((i) => i.conversationId === id), [state.outgoing, id]);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [flashId, setFlashId] = useState<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const olderAnchor = useRef<{ height: number; top: number } | null>(null);
  const visible = usePageVisible();
  const [bottomVisible, setBottomVisible] = useState(true);
  useNow(30_000);

  useEffect(() => {
    store.openChat(id).catch(() => setError('Could not load messages.'));
  }, [store, id]);

  // Auto-read: the newest message is on screen and the tab is visible.
  useEffect(() => {
    store.setReading(bottomVisible && visible && chat ? id : null);
  }, [store, id, bottomVisible, visible, chat]);
  useEffect(() => () => store.setReading(null), [store]);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
    atBottom.current = bottom;
    setBottomVisible(bottom);
    if (el.scrollTop < OLDER_TRIGGER_PX && chat?.hasOlder && !chat.loadingOlder) {
      olderAnchor.current = { height: el.scrollHeight, top: el.scrollTop };
      store.loadOlder(id).catch(() => setError('Could not load older messages.'));
    }
  }, [store, id, chat]);

  const messages = chat?.messages;
  const firstId = messages?.[0]?.id;
  const lastKey = `${messages?.[messages.length - 1]?.id}:${outgoing.length}`;

  // Older history was prepended: keep what the user was looking at in place.
  useLayoutEffect(() => {
    const el = scroller.current;
    const anchor = olderAnchor.current;
    if (!el || !anchor) return;
    olderAnchor.current = null;
    el.scrollTop = el.scrollHeight - anchor.height + anchor.top;
  }, [firstId]);

  // New messages at the bottom: follow them if the user was at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && atBottom.current && !focusMessageId) el.scrollTop = el.scrollHeight;
  }, [lastKey, focusMessageId]);

  // Short histories do not scroll, so no scroll event would ever ask for older pages.
  useEffect(() => {
    const el = scroller.current;
    if (el && chat?.hasOlder && !chat.loadingOlder && el.scrollHeight <= el.clientHeight + OLDER_TRIGGER_PX) onScroll();
  }, [chat, onScroll]);

  // A search hit: scroll it into the middle and flash it.
  useEffect(() => {
    if (!focusMessageId || !messages) return;
    const el = document.getElementById(`msg-${focusMessageId}`);
    if (!el) return;
    el.scrollIntoView({ block: 'center' });
    setFlashId(focusMessageId);
    atBottom.current = false;
    navigate(`#/c/${encodeURIComponent(id)}`);
    setTimeout(() => onScroll(), 0);
  }, [focusMessageId, messages, id, onScroll]);

  const name = conversationName(conversation, meId);
  const typingNames = Object.keys(state.typing[id] ?? {})
    .map((uid) => conversation.members.find((m) => m.userId === uid)?.displayName)
    .filter((n): n is string => !!n);

  const byId = useMemo(() => new Map((messages ?? []).map((m) => [m.id, m])), [messages]);
  const memberName = (userId: string) =>
    userId === meId ? 'You' : (conversation.members.find((m) => m.userId === userId)?.displayName ?? 'Former member');

  const jumpTo = (messageId: string) => {
    const el = document.getElementById(`msg-${messageId}`);
    if (!el) return;
    el.scrollIntoView({ block: 'center', behavior: 'smooth' });
    setFlashId(messageId);
  };

  return (
    <section className="chat" aria-label={name}>
      <ChatHeader
        store={store}
        state={state}
        conversation={conversation}
        name={name}
        typingNames={typingNames}
        onAddMembers={onAddMembers}
        onGroupInfo={onGroupInfo}
        onError={setError}
      />
      {error && (
        <p className="chat-error" role="alert">
          {error}{' '}
          <button type="button" className="link-button" onClick={() => setError(null)}>
            Dismiss
          </button>
        </p>
      )}
      <div
        className="messages"
        ref={scroller}
        onScroll={onScroll}
        role="log"
        aria-label={`Messages with ${name}`}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to scroll by keyboard
        tabIndex={0}
      >
        {!chat && <p className="messages-note">Loading…</p>}
        {chat?.loadingOlder && <p className="messages-note">Loading older messages…</p>}
        {chat && !chat.hasOlder && (
          <p className="messages-note">
            {chat.messages.length === 0 && outgoing.length === 0
              ? 'No messages yet. Say hello!'
              : 'This is the beginning of the chat.'}
          </p>
        )}
        {messages?.map((m, i) => {
          const prev = messages[i - 1];
          const next = messages[i + 1];
          const newDay = !prev || dayKey(prev.createdAt) !== dayKey(m.createdAt);
          const sameRunAsPrev = !!prev && !newDay && prev.senderId === m.senderId && gapMs(prev, m) < 5 * 60_000;
          const sameRunAsNext =
            !!next &&
            dayKey(next.createdAt) === dayKey(m.createdAt) &&
            next.senderId === m.senderId &&
            gapMs(m, next) < 5 * 60_000;
          return (
            <Fragment key={m.id}>
              {newDay && (
                <div className="day-separator" role="separator">
                  <span>{dayLabel(m.createdAt)}</span>
                </div>
              )}
              <MessageItem
                store={store}
                conversation={conversation}
                message={m}
                meId={meId}
                replied={m.replyToId ? (byId.get(m.replyToId) ?? null) : null}
                senderName={memberName(m.senderId)}
                memberName={memberName}
                showSender={conversation.kind === 'group' && m.senderId !== meId && !sameRunAsPrev}
                showAvatar={conversation.kind === 'group' && m.senderId !== meId && !sameRunAsNext}
                grouped={{ prev: sameRunAsPrev, next: sameRunAsNext }}
                flash={flashId === m.id}
                onReply={() => {
                  setEditing(null);
                  setReplyTo(m);
                }}
                onEdit={() => {
                  setReplyTo(null);
                  setEditing(m);
                }}
                onJump={jumpTo}
                onReport={() => onReport(m)}
                onError={setError}
              />
            </Fragment>
          );
        })}
        {outgoing.map((item) => (
          <PendingItem
            key={item.clientMsgId}
            item={item}
            replied={item.replyToId ? (byId.get(item.replyToId) ?? null) : null}
            memberName={memberName}
            onRetry={() => store.retry(item.clientMsgId)}
            onDiscard={() => store.discard(item.clientMsgId)}
          />
        ))}
        <TypingBubble names={typingNames} />
      </div>
      {conversation.request && (
        <div className="request-banner" role="region" aria-label="Message request">
          <p>
            {conversation.kind === 'group'
              ? `You were added to ${name}.`
              : `${name} wants to message you. They see no read receipts until you accept.`}
          </p>
          <RequestActions store={store} conversation={conversation} inChat />
        </div>
      )}
      <Composer
        key={id}
        store={store}
        conversationId={id}
        replyTo={replyTo}
        editing={editing}
        memberName={memberName}
        onCancel={() => {
          setReplyTo(null);
          setEditing(null);
        }}
        onSent={() => {
          atBottom.current = true;
          setReplyTo(null);
          setEditing(null);
        }}
        onError={setError}
      />
    </section>
  );
}

function gapMs(a: Message, b: Message): number {
  return new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime();
}

function TypingBubble({ names }: { names: string[] }) {
  if (names.length === 0) return null;
  return (
    <div className="typing-bubble" aria-hidden="true">
      <span />
      <span />
      <span />
    </div>
  );
}

// One message bubble: reply quote, text with safe links, reactions, time and status, and its actions.
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { LIMITS, type Conversation, type Message } from '@messenger/protocol';
import type { OutboxItem } from '@messenger/sdk';
import type { AppStore } from '../store.js';
import { messageStatus } from '../lib/receipts.js';
import { linkify } from '../lib/text.js';
import { clockTime } from '../lib/time.js';
import { Attachments, formatSize, LinkCard } from './Attachments.js';
import { Avatar } from './Avatar.js';
import { Icon, IconButton } from './Icons.js';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

export function MessageText({ body }: { body: string }) {
  return (
    <>
      {linkify(body).map((part, i) =>
        part.kind === 'link' ? (
          <a key={i} href={part.href} target="_blank" rel="noopener noreferrer">
            {part.text}
          </a>
        ) : (
          <Fragment key={i}>{part.text}</Fragment>
        ),
      )}
    </>
  );
}

function Fragment({ children }: { children: string }) {
  return <>{children}</>;
}

function ReplyQuote({
  replied,
  memberName,
  onJump,
}: {
  replied: Message | null;
  memberName(id: string): string;
  onJump?: (id: string) => void;
}) {
  if (!replied) return <div className="reply-quote missing">Original message not loaded</div>;
  const text = replied.deletedAt ? 'This message was deleted' : replied.body;
  return (
    <button
      type="button"
      className="reply-quote"
      onClick={() => onJump?.(replied.id)}
      aria-label={`Reply to ${memberName(replied.senderId)}: ${text}`}
    >
      <strong>{memberName(replied.senderId)}</strong>
      <span>{text}</span>
    </button>
  );
}

interface Props {
  store: AppStore;
  conversation: Conversation;
  message: Message;
  meId: string;
  replied: Message | null;
  senderName: string;
  memberName(id: string): string;
  showSender: boolean;
  showAvatar: boolean;
  grouped: { prev: boolean; next: boolean };
  flash: boolean;
  onReply(): void;
  onEdit(): void;
  onJump(id: string): void;
  onReport(): void;
  onError(text: string): void;
}

export function MessageItem(p: Props) {
  const { message: m, meId, conversation } = p;
  const own = m.senderId === meId;
  const deleted = m.deletedAt !== null;
  const [picker, setPicker] = useState(false);
  const [menu, setMenu] = useState(false);

  const counts = new Map<string, { n: number; mine: boolean; who: string[] }>();
  for (const r of m.reactions) {
    const c = counts.get(r.emoji) ?? { n: 0, mine: false, who: [] };
    c.n++;
    c.mine ||= r.userId === meId;
    c.who.push(p.memberName(r.userId));
    counts.set(r.emoji, c);
  }

  const react = (emoji: string) => {
    setPicker(false);
    p.store.toggleReaction(conversation.id, m, emoji).catch(() => p.onError('Could not update the reaction.'));
  };
  const remove = (scope: 'everyone' | 'me') => {
    p.store.deleteMessage(conversation.id, m.id, scope).catch(() => p.onError('Could not delete the message.'));
  };
  const canEdit = own && !deleted && Date.now() - new Date(m.createdAt).getTime() < LIMITS.editWindowMs;

  const classes = [
    'message',
    own ? 'own' : 'other',
    p.grouped.prev ? 'joined-prev' : '',
    p.grouped.next ? 'joined-next' : '',
    p.flash ? 'flash' : '',
    conversation.kind === 'group' && !own ? 'with-avatar' : '',
  ]
    .filter(Boolean)
    .join(' ');

  return (
    <article id={`msg-${m.id}`} className={classes} aria-label={own ? 'You' : p.senderName} data-seq={m.seq}>
      {conversation.kind === 'group' && !own && (
        <span className="message-avatar">
          {p.showAvatar && (
            <Avatar
              name={p.senderName}
              seed={m.senderId}
              size="sm"
              url={conversation.members.find((x) => x.userId === m.senderId)?.avatarUrl}
            />
          )}
        </span>
      )}
      <div className="message-column">
        {p.showSender && <div className="sender-name">{p.senderName}</div>}
        <div className="message-row">
          {/* Focusable by tap, so touch screens (no hover) can reveal the actions beside it. */}
          <div className={`bubble${deleted ? ' deleted' : ''}`} tabIndex={-1}>
            {!deleted && m.replyToId && <ReplyQuote replied={p.replied} memberName={p.memberName} onJump={p.onJump} />}
            {!deleted && <Attachments list={m.attachments ?? []} />}
            {(deleted || m.body !== '') && (
              <div className="message-text">{deleted ? 'This message was deleted' : <MessageText body={m.body} />}</div>
            )}
            {!deleted && m.linkPreview && <LinkCard preview={m.linkPreview} />}
            <div className="message-meta">
              {m.editedAt && !deleted && <span className="edited">edited · </span>}
              <time dateTime={m.createdAt}>{clockTime(m.createdAt)}</time>
              {own && !deleted && <span className="status">{messageStatus(conversation, m, meId)}</span>}
            </div>
          </div>
          <div className="message-actions">
            {!deleted && (
              <div className="popover-anchor">
                <IconButton
                  className="icon-button small"
                  label="React"
                  title="React"
                  aria-expanded={picker}
                  onClick={() => {
                    setMenu(false);
                    setPicker((v) => !v);
                  }}
                >
                  <Icon>
                    <circle cx="12" cy="12" r="8.5" />
                    <path d="M8.5 14a4 4 0 0 0 7 0" />
                    <path d="M9.5 10h.01M14.5 10h.01" />
                  </Icon>
                </IconButton>
                {picker && <ReactionPicker onPick={react} onClose={() => setPicker(false)} />}
              </div>
            )}
            <div className="popover-anchor">
              <IconButton
                className="icon-button small"
                label="More actions"
                title="More actions"
                aria-haspopup="menu"
                aria-expanded={menu}
                onClick={() => {
                  setPicker(false);
                  setMenu((v) => !v);
                }}
              >
                <Icon>
                  <path d="M6 12h.01M12 12h.01M18 12h.01" strokeWidth="3" />
                </Icon>
              </IconButton>
              {menu && (
                <ActionMenu onClose={() => setMenu(false)}>
                  {!deleted && (
                    <button type="button" role="menuitem" onClick={p.onReply}>
                      Reply
                    </button>
                  )}
                  {canEdit && (
                    <button type="button" role="menuitem" onClick={p.onEdit}>
                      Edit
                    </button>
                  )}
                  <button type="button" role="menuitem" onClick={() => remove('me')}>
                    Delete for me
                  </button>
                  {!own && !deleted && (
                    <button
                      type="button"
                      role="menuitem"
                      onClick={() => {
                        setMenu(false);
                        p.onReport();
                      }}
                    >
                      Report
                    </button>
                  )}
                  {own && !deleted && m.linkPreview && (
                    <button
                      type="button"
                      role="menuitem"
                      onClick={() => {
                        setMenu(false);
                        p.store
                          .removeLinkPreview(conversation.id, m)
                          .catch(() => p.onError('Could not remove the link preview.'));
                      }}
                    >
                      Remove link preview
                    </button>
                  )}
                  {own && !deleted && (
                    <button type="button" role="menuitem" className="danger" onClick={() => remove('everyone')}>
                      Delete for everyone
                    </button>
                  )}
                </ActionMenu>
              )}
            </div>
          </div>
        </div>
        {counts.size > 0 && (
          <div className="reactions">
            {[...counts].map(([emoji, c]) => (
              <button
                key={emoji}
                type="button"
                className={c.mine ? 'reaction mine' : 'reaction'}
                aria-pressed={c.mine}
                title={c.who.join(', ')}
                onClick={() => react(emoji)}
              >
                {emoji} {c.n}
              </button>
            ))}
          </div>
        )}
      </div>
    </article>
  );
}

/** Closes on Escape, on a click elsewhere, and after a choice; arrow keys move between items. */
function usePopover(onClose: () => void) {
  const ref = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const first = ref.current?.querySelector<HTMLElement>('button');
    first?.focus();
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.parentElement?.contains(e.target as Node)) close.current();
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    const items = [...(ref.current?.querySelectorAll<HTMLElement>('button') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      (ref.current?.parentElement?.querySelector('button') as HTMLElement | null)?.focus();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowRight') {
      e.preventDefault();
      items[(at + 1) % items.length]?.focus();
    } else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') {
      e.preventDefault();
      items[(at - 1 + items.length) % items.length]?.focus();
    }
  };
  return { ref, onKeyDown };
}

function ActionMenu({ children, onClose }: { children: React.ReactNode; onClose(): void }) {
  const { ref, onKeyDown } = usePopover(onClose);
  return (
    <div
      ref={ref}
      role="menu"
      aria-label="Message actions"
      className="popover menu"
      onKeyDown={onKeyDown}
      onClick={onClose}
    >
      {children}
    </div>
  );
}

function ReactionPicker({ onPick, onClose }: { onPick(emoji: string): void; onClose(): void }) {
  const { ref, onKeyDown } = usePopover(onClose);
  return (
    <div ref={ref} role="group" aria-label="Pick a reaction" className="popover picker" onKeyDown={onKeyDown}>
      {QUICK_REACTIONS.map((emoji) => (
        <button key={emoji} type="button" onClick={() => onPick(emoji)}>
          {emoji}
        </button>
      ))}
    </div>
  );
}

/** An own message still in the outbox: "Sending…", or failed with Retry. */
export function PendingItem({
  item,
  replied,
  memberName,
  onRetry,
  onDiscard,
}: {
  item: OutboxItem;
  replied: Message | null;
  memberName(id: string): string;
  onRetry(): void;
  onDiscard(): void;
}) {
  const failed = item.state === 'failed';
  return (
    <article className={`message own pending${failed ? ' failed' : ''}`}>
      <div className="message-column">
        <div className="message-row">
          <div className="bubble">
            {item.replyToId && <ReplyQuote replied={replied} memberName={memberName} />}
            {item.attachments?.map((a, i) => (
              <div key={i} className="pending-file">
                <span className="file-name">{a.name}</span>
                <span className="file-size">{formatSize(a.size)}</span>
                <progress aria-label={`Uploading ${a.name}`} max={1} value={a.progress} />
              </div>
            ))}
            {item.body !== '' && (
              <div className="message-text">
                <MessageText body={item.body} />
              </div>
            )}
            <div className="message-meta">
              <time dateTime={item.createdAt}>{clockTime(item.createdAt)}</time>
              <span className="status">{failed ? 'Not sent' : 'Sending…'}</span>
            </div>
          </div>
        </div>
        {!failed && item.attachments?.some((a) => a.uploadId === null) && (
          <div className="failed-actions">
            <button type="button" className="link-button" onClick={onDiscard}>
              Cancel
            </button>
          </div>
        )}
        {failed && (
          <div className="failed-actions">
            <span>
              {item.error?.code === 'message_too_big'
                ? item.attachments?.length
                  ? 'A file is too big to send.'
                  : 'Too long to send.'
                : 'Failed to send.'}
            </span>
            <button type="button" className="link-button" onClick={onRetry}>
              Retry
            </button>
            <button type="button" className="link-button" onClick={onDiscard}>
              Discard
            </button>
          </div>
        )}
      </div>
    </article>
  );
}

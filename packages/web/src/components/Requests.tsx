// Message requests: chats opened by people the user shares no accepted chat with, kept apart from
// the chat list until accepted (or declined).
import { useState } from 'react';
import type { Conversation } from '@messenger/protocol';
import type { AppStore } from '../store.js';
import { chatHref, navigate } from '../hooks.js';
import { conversationName, otherMember } from '../lib/receipts.js';
import { Avatar } from './Avatar.js';
import { preview } from './ChatList.js';
import { FormError } from './FormError.js';

/**
 * Accepting moves the chat into the chat list, unread messages and all, wherever the user is;
 * declining the chat that is open (`inChat`, the banner's buttons) closes it.
 */
export function RequestActions({
  store,
  conversation,
  inChat = false,
}: {
  store: AppStore;
  conversation: Conversation;
  inChat?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = (action: () => Promise<void>, after?: () => void) => {
    setBusy(true);
    setError(null);
    action().then(
      () => {
        setBusy(false);
        after?.();
      },
      () => {
        setBusy(false);
        setError('That did not work. Try again.');
      },
    );
  };
  const name = conversationName(conversation, store.session.userId);
  return (
    <div className="request-actions">
      <button
        type="button"
        className="primary small"
        aria-label={`Accept request from ${name}`}
        disabled={busy}
        onClick={() => run(() => store.safety.accept(conversation.id))}
      >
        Accept
      </button>
      <button
        type="button"
        className="secondary small"
        aria-label={`Decline request from ${name}`}
        disabled={busy}
        onClick={() => run(() => store.safety.decline(conversation.id), inChat ? () => navigate('') : undefined)}
      >
        Decline
      </button>
      <FormError error={error} />
    </div>
  );
}

export function RequestsSection({ store, requests }: { store: AppStore; requests: Conversation[] }) {
  if (requests.length === 0) return null;
  const meId = store.session.userId;
  return (
    <section className="requests" aria-labelledby="requests-heading">
      <h2 id="requests-heading" className="requests-heading">
        Requests <span className="badge">{requests.length}</span>
      </h2>
      <ul aria-label="Message requests">
        {requests.map((c) => {
          const name = conversationName(c, meId);
          return (
            <li key={c.id} className="request-item">
              <a href={chatHref(c.id)} className="chat-item">
                <Avatar
                  name={name}
                  seed={otherMember(c, meId)?.userId ?? c.id}
                  url={c.kind === 'group' ? c.avatarUrl : otherMember(c, meId)?.avatarUrl}
                />
                <span className="chat-item-body">
                  <span className="chat-item-name">{name}</span>
                  <span className="chat-item-preview">{preview(c, meId)}</span>
                </span>
              </a>
              <RequestActions store={store} conversation={c} />
            </li>
          );
        })}
      </ul>
    </section>
  );
}

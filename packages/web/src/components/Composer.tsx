// The message box: Enter sends, Shift+Enter adds a line; shows the message being replied to or edited.
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { LIMITS, utf8Length, type Message } from '@messenger/protocol';
import type { AppStore } from '../store.js';

interface Props {
  store: AppStore;
  conversationId: string;
  replyTo: Message | null;
  editing: Message | null;
  memberName(id: string): string;
  onCancel(): void;
  onSent(): void;
  onError(text: string): void;
}

export function Composer({ store, conversationId, replyTo, editing, memberName, onCancel, onSent, onError }: Props) {
  const [text, setText] = useState('');
  const draftBeforeEdit = useRef('');
  const input = useRef<HTMLTextAreaElement>(null);
  const lastTyping = useRef(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: only a new edit/reply target resets the text
  useEffect(() => {
    if (editing) {
      draftBeforeEdit.current = text;
      setText(editing.body);
    }
    if (editing || replyTo) input.current?.focus();
  }, [editing, replyTo]);

  useEffect(() => {
    if (window.matchMedia('(hover: hover)').matches) input.current?.focus();
  }, [conversationId]);

  // Grow with the text up to a few lines.
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [text]);

  const tooBig = utf8Length(text) > LIMITS.maxMessageBytes;

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if (!body || tooBig) return;
    if (editing) {
      if (body !== editing.body)
        store
          .edit(conversationId, editing.id, body)
          .catch(() => onError('Could not edit the message (edits are allowed for 15 minutes).'));
      setText(draftBeforeEdit.current);
    } else {
      store.send(conversationId, body, replyTo?.id);
      setText('');
    }
    onSent();
  };

  const cancel = () => {
    if (editing) setText(draftBeforeEdit.current);
    onCancel();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && (editing || replyTo)) {
      e.preventDefault();
      cancel();
    }
  };

  const onChange = (value: string) => {
    setText(value);
    // Typing events are throttled to one per interval; the server would drop the rest anyway.
    const now = Date.now();
    if (!editing && value.trim() && now - lastTyping.current >= LIMITS.typingIntervalMs) {
      lastTyping.current = now;
      store.typing(conversationId);
    }
  };

  const context = editing ?? replyTo;
  return (
    <form className="composer" onSubmit={submit}>
      {context && (
        <div className="composer-context">
          <div>
            <strong>{editing ? 'Editing message' : `Replying to ${memberName(context.senderId)}`}</strong>
            <span>{context.body}</span>
          </div>
          <button
            type="button"
            className="icon-button small"
            aria-label={editing ? 'Cancel edit' : 'Cancel reply'}
            onClick={cancel}
          >
            <svg viewBox="0 0 24 24" aria-hidden="true">
              <path d="M6 6l12 12M18 6L6 18" />
            </svg>
          </button>
        </div>
      )}
      <div className="composer-row">
        <textarea
          ref={input}
          aria-label="Message"
          placeholder="Message"
          rows={1}
          value={text}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={onKeyDown}
          aria-invalid={tooBig || undefined}
        />
        <button
          type="submit"
          className="send-button"
          aria-label={editing ? 'Save' : 'Send'}
          disabled={!text.trim() || tooBig}
        >
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M4 12l16-8-6 16-2.5-6.5z" />
          </svg>
        </button>
      </div>
      {tooBig && (
        <p className="composer-hint" role="alert">
          This message is too long ({utf8Length(text)} of {LIMITS.maxMessageBytes} bytes).
        </p>
      )}
    </form>
  );
}

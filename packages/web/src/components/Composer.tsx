// The message box: Enter sends, Shift+Enter adds a line; shows the message being replied to or edited.
// Files come by the attach button, a paste or a drop, and wait in a tray; the mic records a voice message.
import { useEffect, useRef, useState, type DragEvent, type FormEvent, type KeyboardEvent } from 'react';
import { LIMITS, utf8Length, type Message } from '@messenger/protocol';
import type { AppStore } from '../store.js';
import { AttachButton, FileTray, filesOf, useVoiceRecorder } from './ComposerFiles.js';
import { CloseIcon, Icon, IconButton, SendIcon } from './Icons.js';

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
  const [files, setFiles] = useState<File[]>([]);
  const [dragging, setDragging] = useState(false);
  const addFiles = (more: File[]) => {
    if (more.length > 0 && !editing) setFiles((f) => [...f, ...more]);
  };
  const voice = useVoiceRecorder(
    (file) => store.send(conversationId, '', replyTo?.id, [file]),
    (message) => onError(message),
  );
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

  const tooMany = files.length > LIMITS.maxAttachments;

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if ((!body && (editing || files.length === 0)) || tooBig || tooMany) return;
    if (editing) {
      if (body !== editing.body)
        store
          .edit(conversationId, editing.id, body)
          .catch(() => onError('Could not edit the message (edits are allowed for 15 minutes).'));
      setText(draftBeforeEdit.current);
    } else {
      store.send(conversationId, body, replyTo?.id, files);
      setText('');
      setFiles([]);
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

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    addFiles(filesOf(e.dataTransfer));
  };

  const context = editing ?? replyTo;
  const canSend = (text.trim() !== '' || (files.length > 0 && !editing)) && !tooBig && !tooMany;
  return (
    <form
      className={`composer${dragging ? ' dragging' : ''}`}
      onSubmit={submit}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      {context && (
        <div className="composer-context">
          <div>
            <strong>{editing ? 'Editing message' : `Replying to ${memberName(context.senderId)}`}</strong>
            <span>{context.body}</span>
          </div>
          <IconButton className="icon-button small" label={editing ? 'Cancel edit' : 'Cancel reply'} onClick={cancel}>
            <CloseIcon />
          </IconButton>
        </div>
      )}
      {!editing && <FileTray files={files} onRemove={(i) => setFiles((f) => f.filter((_, j) => j !== i))} />}
      <div className="composer-row">
        {!editing && <AttachButton onFiles={addFiles} />}
        <textarea
          ref={input}
          aria-label="Message"
          placeholder="Message"
          rows={1}
          value={text}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={(e) => {
            const pasted = filesOf(e.clipboardData);
            if (pasted.length > 0) {
              e.preventDefault();
              addFiles(pasted);
            }
          }}
          aria-invalid={tooBig || undefined}
        />
        {voice.recording ? (
          <>
            <span className="recording" role="status">
              Recording…
            </span>
            <button type="button" className="link-button" onClick={() => voice.stop(false)}>
              Cancel
            </button>
            <IconButton className="send-button" label="Send voice message" onClick={() => voice.stop(true)}>
              <SendIcon />
            </IconButton>
          </>
        ) : !editing && !canSend ? (
          <IconButton
            className="send-button"
            label="Record voice message"
            title="Record voice message"
            onClick={() => void voice.start()}
          >
            <Icon>
              <path d="M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z" />
              <path d="M5 11a7 7 0 0 0 14 0M12 18v3" />
            </Icon>
          </IconButton>
        ) : (
          <IconButton type="submit" className="send-button" label={editing ? 'Save' : 'Send'} disabled={!canSend}>
            <SendIcon />
          </IconButton>
        )}
      </div>
      {tooBig && (
        <p className="composer-hint" role="alert">
          This message is too long ({utf8Length(text)} of {LIMITS.maxMessageBytes} bytes).
        </p>
      )}
    </form>
  );
}

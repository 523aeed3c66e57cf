// Modal dialogs on the native <dialog>: new direct chat, new group, add members (the account's are in AccountDialog).
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { Conversation } from '@messenger/protocol';
import type { AppStore } from '../store.js';
import { chatHref, navigate, useAction } from '../hooks.js';
import { errorMessage } from '../lib/errors.js';
import { PeopleSuggestions } from './PeopleSuggestions.js';
import { FormSubmit } from './FormError.js';
import { CloseIcon, IconButton } from './Icons.js';
import { InlineField, UsernamesField } from './Field.js';

export function Modal({ title, onClose, children }: { title: string; onClose(): void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: Escape closes the dialog natively (onCancel); a backdrop click is the pointer's way
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={onClose}
      onClick={(e) => e.target === ref.current && onClose()}
    >
      <div className="modal-body">
        <header className="modal-header">
          <h2 id={titleId}>{title}</h2>
          <IconButton className="icon-button small" label="Close" onClick={onClose}>
            <CloseIcon />
          </IconButton>
        </header>
        {children}
      </div>
    </dialog>
  );
}

/** "ann, bob cat" -> ["ann", "bob", "cat"] */
function splitUsernames(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .map((u) => u.trim().replace(/^@/, '').toLowerCase())
        .filter(Boolean),
    ),
  ];
}

/** The name being typed: what follows the last separator. */
const lastName = (text: string): string => text.split(/[\s,;]+/).pop() ?? '';
const withoutLastName = (text: string): string => text.slice(0, text.length - lastName(text).length);

function explain(error: unknown, what: string): string {
  return errorMessage(
    error,
    {
      not_found: `${what}: no such user.`,
      invalid_request: `${what}: check the usernames.`,
      forbidden: `${what}: a block or the group's settings stop it.`,
    },
    `${what}: something went wrong. Try again.`,
  );
}

function useSubmit<T>(call: () => Promise<T>, done: (value: T) => void, what: string) {
  const { busy, error, run } = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(
      async () => done(await call()),
      (err) => explain(err, what),
    );
  };
  return { busy, error, submit };
}

/** A dialog that is one form: its fields, then the error of the last try and the button that sends it. */
function FormDialog({
  title,
  onClose,
  submit,
  error,
  disabled,
  action,
  children,
}: {
  title: string;
  onClose(): void;
  submit(e: FormEvent): void;
  error: string | null;
  disabled: boolean;
  action: string;
  children: ReactNode;
}) {
  return (
    <Modal title={title} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        {children}
        <FormSubmit error={error} disabled={disabled}>
          {action}
        </FormSubmit>
      </form>
    </Modal>
  );
}

export function NewChatDialog({ store, onClose }: { store: AppStore; onClose(): void }) {
  const [username, setUsername] = useState('');
  const { busy, error, submit } = useSubmit(
    () => store.startDirect(username),
    (c: Conversation) => {
      onClose();
      navigate(chatHref(c.id));
    },
    `Could not start a chat with “${username.trim()}”`,
  );
  return (
    <FormDialog
      title="New chat"
      onClose={onClose}
      submit={submit}
      error={error}
      disabled={busy || !username.trim()}
      action="Start chat"
    >
      <UsernamesField
        label="Username"
        autoFocus
        value={username}
        onValue={setUsername}
        placeholder="their username or name"
      />
      <PeopleSuggestions store={store} text={username} onPick={(u) => setUsername(u.username)} />
    </FormDialog>
  );
}

export function NewGroupDialog({ store, onClose }: { store: AppStore; onClose(): void }) {
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState('');
  const { busy, error, submit } = useSubmit(
    () => store.createGroup(title.trim(), splitUsernames(members)),
    (c: Conversation) => {
      onClose();
      navigate(chatHref(c.id));
    },
    'Could not create the group',
  );
  return (
    <FormDialog
      title="New group"
      onClose={onClose}
      submit={submit}
      error={error}
      disabled={busy || !title.trim() || splitUsernames(members).length === 0}
      action="Create group"
    >
      <InlineField
        label="Group name"
        autoFocus
        value={title}
        onValue={setTitle}
        required
        maxLength={128}
        placeholder="e.g. Weekend trip"
      />
      <UsernamesField label="Members" value={members} onValue={setMembers} />
      <PeopleSuggestions
        store={store}
        text={lastName(members)}
        onPick={(u) => setMembers(`${withoutLastName(members)}${u.username}, `)}
      />
    </FormDialog>
  );
}

/** The props of a dialog about one conversation. */
export interface ConversationDialogProps {
  store: AppStore;
  conversation: Conversation;
  onClose(): void;
}

export function AddMembersDialog({ store, conversation, onClose }: ConversationDialogProps) {
  const [members, setMembers] = useState('');
  const { busy, error, submit } = useSubmit(
    () => store.addMembers(conversation.id, splitUsernames(members)),
    onClose,
    'Could not add members',
  );
  return (
    <FormDialog
      title={`Add members to ${conversation.title ?? 'the group'}`}
      onClose={onClose}
      submit={submit}
      error={error}
      disabled={busy || splitUsernames(members).length === 0}
      action="Add"
    >
      <UsernamesField label="Usernames" autoFocus value={members} onValue={setMembers} />
      <p className="muted small">Now in the group: {conversation.members.map((m) => m.displayName).join(', ')}</p>
    </FormDialog>
  );
}

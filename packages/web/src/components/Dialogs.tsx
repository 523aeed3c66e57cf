// Modal dialogs on the native <dialog>: new direct chat, new group, add members, account.
import { useEffect, useId, useRef, useState, useSyncExternalStore, type FormEvent, type ReactNode } from 'react';
import type { Conversation, User } from '@messenger/protocol';
import type { AppStore } from '../store.js';
import { chatHref, navigate } from '../hooks.js';

function Modal({ title, onClose, children }: { title: string; onClose(): void; children: ReactNode }) {
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
          <button type="button" className="icon-button small" aria-label="Close" onClick={onClose}>
            <svg viewBox="0 0 24 24" aria-hidden="true">
              <path d="M6 6l12 12M18 6L6 18" />
            </svg>
          </button>
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

function explain(error: unknown, what: string): string {
  const code = (error as { code?: string })?.code;
  if (code === 'not_found') return `${what}: no such user.`;
  if (code === 'invalid_request') return `${what}: check the usernames.`;
  return `${what}: something went wrong. Try again.`;
}

function useSubmit<T>(run: () => Promise<T>, done: (value: T) => void, what: string) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      done(await run());
    } catch (err) {
      setError(explain(err, what));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submit };
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
    <Modal title="New chat" onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label className="field">
          <span>Username</span>
          <input
            autoFocus
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            placeholder="their username"
          />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !username.trim()}>
          Start chat
        </button>
      </form>
    </Modal>
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
    <Modal title="New group" onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label className="field">
          <span>Group name</span>
          <input
            autoFocus
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            required
            maxLength={128}
            placeholder="e.g. Weekend trip"
          />
        </label>
        <label className="field">
          <span>Members</span>
          <input
            autoCapitalize="none"
            spellCheck={false}
            value={members}
            onChange={(e) => setMembers(e.target.value)}
            required
            placeholder="usernames, separated by commas"
          />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button
          type="submit"
          className="primary"
          disabled={busy || !title.trim() || splitUsernames(members).length === 0}
        >
          Create group
        </button>
      </form>
    </Modal>
  );
}

export function AddMembersDialog({
  store,
  conversation,
  onClose,
}: {
  store: AppStore;
  conversation: Conversation;
  onClose(): void;
}) {
  const [members, setMembers] = useState('');
  const { busy, error, submit } = useSubmit(
    () => store.addMembers(conversation.id, splitUsernames(members)),
    onClose,
    'Could not add members',
  );
  return (
    <Modal title={`Add members to ${conversation.title ?? 'the group'}`} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label className="field">
          <span>Usernames</span>
          <input
            autoFocus
            autoCapitalize="none"
            spellCheck={false}
            value={members}
            onChange={(e) => setMembers(e.target.value)}
            required
            placeholder="usernames, separated by commas"
          />
        </label>
        <p className="muted small">Now in the group: {conversation.members.map((m) => m.displayName).join(', ')}</p>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || splitUsernames(members).length === 0}>
          Add
        </button>
      </form>
    </Modal>
  );
}

export function AccountDialog({
  store,
  me,
  onSignOut,
  onClose,
}: {
  store: AppStore;
  me: User | null;
  onSignOut(): void;
  onClose(): void;
}) {
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState(false);
  const key = store.session.apiKey;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(key);
      setCopied(true);
    } catch {
      setShown(true);
    }
  };
  return (
    <Modal title="Account" onClose={onClose}>
      <div className="stack">
        {me && (
          <p>
            <strong>{me.displayName}</strong> <span className="muted">@{me.username}</span>
          </p>
        )}
        <label className="field">
          <span>Your API key</span>
          <input readOnly type={shown ? 'text' : 'password'} value={key} onFocus={(e) => e.target.select()} />
        </label>
        <p className="muted small">The key is your password: keep it to sign in on another device.</p>
        <div className="row">
          <button type="button" className="secondary" onClick={() => setShown((v) => !v)}>
            {shown ? 'Hide key' : 'Show key'}
          </button>
          <button type="button" className="secondary" onClick={copy}>
            {copied ? 'Copied' : 'Copy key'}
          </button>
        </div>
        <Settings store={store} />
        <button type="button" className="danger-button" onClick={onSignOut}>
          Sign out of this browser
        </button>
      </div>
    </Modal>
  );
}

/** Notifications on this browser, and whether others see the user online. */
function Settings({ store }: { store: AppStore }) {
  const notify = useSyncExternalStore(store.notifications.subscribe, store.notifications.getSnapshot);
  const presenceVisible = useSyncExternalStore(store.subscribe, () => store.getSnapshot().presenceVisible);
  const [presenceError, setPresenceError] = useState<string | null>(null);
  const notifyHint = useId();
  const presenceHint = useId();
  const togglePresence = (visible: boolean) => {
    setPresenceError(null);
    store.setPresenceVisible(visible).catch(() => setPresenceError('Could not change this setting. Try again.'));
  };
  return (
    <section className="settings" aria-label="Settings">
      <label className="switch-row">
        <span>Notifications</span>
        <input
          type="checkbox"
          role="switch"
          checked={notify.enabled}
          aria-checked={notify.enabled}
          disabled={notify.busy}
          aria-describedby={notifyHint}
          onChange={(e) => void (e.target.checked ? store.notifications.enable() : store.notifications.disable())}
        />
      </label>
      <p id={notifyHint} className={`hint ${notify.message ? '' : 'muted'}`} role="status">
        {notify.busy
          ? 'Setting up notifications…'
          : (notify.message ??
            (notify.enabled
              ? 'On: new messages notify you, even with the app closed. Muted chats stay quiet.'
              : 'Off: no notifications on this browser.'))}
      </p>
      <label className="switch-row">
        <span>Show my online status</span>
        <input
          type="checkbox"
          role="switch"
          checked={presenceVisible}
          aria-checked={presenceVisible}
          aria-describedby={presenceHint}
          onChange={(e) => togglePresence(e.target.checked)}
        />
      </label>
      <p id={presenceHint} className="hint muted">
        {presenceVisible
          ? 'Others see when you are online and when you were last seen.'
          : 'Others see you as offline, with no last seen time.'}
      </p>
      {presenceError && (
        <p className="form-error" role="alert">
          {presenceError}
        </p>
      )}
    </section>
  );
}

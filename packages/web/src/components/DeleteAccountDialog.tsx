// Delete account, behind a confirmation: the password (or, for an account without one, the
// username typed out), and whether the messages sent go too. Afterwards the app signs out.
import type { User } from '@messenger/protocol';
import type { HttpApi } from '@messenger/sdk';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../lib/errors.js';
import { Field, PasswordField } from './Field.js';
import { FormSubmit } from './FormError.js';

export function DeleteAccountForm({
  api,
  me,
  hasPassword,
  onDeleted,
}: {
  api: HttpApi;
  me: User | null;
  /** False for an account that signed in with an API key: it may have no password. */
  hasPassword: boolean;
  onDeleted(): void;
}) {
  const [confirm, setConfirm] = useState('');
  const [deleteMessages, setDeleteMessages] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const username = me?.username ?? '';
  const ready = hasPassword ? confirm.length > 0 : confirm.trim() === username;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    try {
      await api.deleteAccount({ ...(hasPassword ? { password: confirm } : {}), deleteMessages });
      onDeleted();
    } catch (err) {
      setError(
        errorMessage(
          err,
          {
            forbidden: hasPassword
              ? 'The password is wrong.'
              : 'This account has a password: sign in with it to delete the account.',
            rate_limited: 'Too many attempts. Try again later.',
          },
          'Could not delete the account. Try again.',
        ),
      );
      setBusy(false);
    }
  };

  return (
    <form id="delete-account-form" onSubmit={submit} className="stack">
      <p>
        This deletes <strong>@{username}</strong> for good: every device is signed out, you leave every group, and
        others see you as “Deleted account”. Your username becomes free for anyone.
      </p>
      {hasPassword ? (
        <PasswordField
          id="delete-password"
          name="password"
          label="Password"
          autoComplete="current-password"
          value={confirm}
          onValue={setConfirm}
          required
        />
      ) : (
        <Field
          id="delete-username"
          name="confirm-username"
          label={`Type your username (${username}) to confirm`}
          autoComplete="off"
          value={confirm}
          onValue={setConfirm}
          required
        />
      )}
      <label className="switch-row">
        <span>Also delete every message I sent, for everyone</span>
        <input
          id="delete-messages"
          type="checkbox"
          checked={deleteMessages}
          onChange={(e) => setDeleteMessages(e.target.checked)}
        />
      </label>
      <FormSubmit error={error} disabled={busy || !ready} className="danger-button">
        {busy ? 'Deleting…' : 'Delete my account'}
      </FormSubmit>
    </form>
  );
}

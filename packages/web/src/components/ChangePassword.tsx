// Change the password (every other device is signed out), or set a first one for an account made with an API key.
import { ACCOUNT_LIMITS } from '@messenger/protocol';
import { useState, type FormEvent } from 'react';
import type { Account } from '../account.js';
import { useAction } from '../hooks.js';
import { errorMessage } from '../lib/errors.js';
import { PasswordField } from './Field.js';
import { FormSubmit } from './FormError.js';

export function ChangePassword({ account, username, onDone }: { account: Account; username: string; onDone(): void }) {
  const legacy = account.usesApiKey;
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const { busy, error, setError, run } = useAction();
  const [done, setDone] = useState(false);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (next.length < ACCOUNT_LIMITS.minPasswordChars) {
      setError(`Passwords are at least ${ACCOUNT_LIMITS.minPasswordChars} characters.`);
      return;
    }
    void run(
      async () => {
        await account.changePassword(current, next);
        setDone(true);
      },
      (err) =>
        errorMessage(
          err,
          { forbidden: 'The current password is wrong.', rate_limited: 'Too many attempts. Try again later.' },
          'Could not change the password. Try again.',
        ),
    );
  };

  if (done)
    return (
      <div className="stack">
        <p role="status">Password saved. Your other devices were signed out.</p>
        <button type="button" className="primary" onClick={onDone}>
          Done
        </button>
      </div>
    );
  return (
    <form id="password-form" method="post" onSubmit={submit} className="stack">
      {/* Password managers file the new password under this username. */}
      <input type="text" name="username" autoComplete="username" value={username} readOnly hidden />
      <PasswordField
        id="current-password"
        name="current-password"
        label={legacy ? 'Current password (if you have one)' : 'Current password'}
        autoComplete="current-password"
        value={current}
        onValue={setCurrent}
        required={!legacy}
      />
      <PasswordField
        id="new-password"
        name="new-password"
        label="New password"
        hint={`At least ${ACCOUNT_LIMITS.minPasswordChars} characters. Your other devices will be signed out.`}
        autoComplete="new-password"
        value={next}
        onValue={setNext}
        required
        minLength={ACCOUNT_LIMITS.minPasswordChars}
      />
      <FormSubmit error={error} disabled={busy}>
        Save password
      </FormSubmit>
    </form>
  );
}

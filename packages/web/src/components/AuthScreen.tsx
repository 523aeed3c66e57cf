// Signed out: create an account (username, display name, password) or sign in on this device.
// Real forms with autocomplete hints, so that the browser's password manager offers to save and fill.
import { LIMITS, ACCOUNT_LIMITS } from '@messenger/protocol';
import { useState, type FormEvent } from 'react';
import { signIn, signUp } from '../account.js';
import type { Session } from '../session.js';
import { useAction } from '../hooks.js';
import { errorMessage } from '../lib/errors.js';
import { Field, PasswordField } from './Field.js';
import { FormError } from './FormError.js';

type Mode = 'signup' | 'signin';

function explain(error: unknown, mode: Mode, username: string): string {
  const signingUp = mode === 'signup';
  return errorMessage(
    error,
    {
      conflict: `The username “${username}” is taken.`,
      unauthenticated: 'Wrong username or password.',
      rate_limited: signingUp
        ? 'Too many sign-ups from here. Try again in a minute.'
        : 'Too many attempts. Wait a few minutes and try again.',
      invalid_request: (error as Error | null)?.message || 'Check the fields and try again.',
    },
    signingUp ? 'Could not sign up. Try again.' : 'Could not sign in. Try again.',
  );
}

export function AuthScreen({
  onSignedIn,
  initialError,
}: {
  onSignedIn(s: Session): void;
  initialError: string | null;
}) {
  const [mode, setMode] = useState<Mode>('signup');
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAction(initialError);

  const switchTo = (next: Mode) => {
    setMode(next);
    setError(null);
    setPassword('');
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const name = username.trim().toLowerCase();
    if (mode === 'signup' && !LIMITS.usernamePattern.test(name)) {
      setError('Usernames are 3-32 characters: a-z, 0-9, _ and .');
      return;
    }
    if (mode === 'signup' && password.length < ACCOUNT_LIMITS.minPasswordChars) {
      setError(`Passwords are at least ${ACCOUNT_LIMITS.minPasswordChars} characters.`);
      return;
    }
    void run(
      async () =>
        onSignedIn(
          mode === 'signup'
            ? await signUp({
                username: name,
                password,
                ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
              })
            : await signIn({ username: name, password }),
        ),
      (err) => explain(err, mode, name),
    );
  };

  const signingUp = mode === 'signup';
  return (
    <main className="auth">
      <div className="auth-card">
        <div className="auth-logo" aria-hidden="true">
          <svg viewBox="0 0 32 32" width="56" height="56" aria-hidden="true">
            <circle cx="16" cy="16" r="15" fill="currentColor" />
            <path d="M9 20l5-7 4 4 5-5-5 7-4-4z" fill="#fff" />
          </svg>
        </div>
        <h1>Messenger</h1>
        <p className="muted">{signingUp ? 'Create an account to start chatting.' : 'Sign in to your account.'}</p>
        <FormError error={error} />
        <form
          key={mode}
          id={signingUp ? 'signup-form' : 'signin-form'}
          // If script ever failed to take over, a POST keeps the password out of the URL.
          method="post"
          onSubmit={submit}
          className="stack"
        >
          <Field
            id={`${mode}-username`}
            name="username"
            label="Username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            onValue={setUsername}
            required
            maxLength={32}
            placeholder="e.g. ann.lee"
          />
          {signingUp && (
            <Field
              id="signup-display-name"
              name="displayName"
              label="Display name"
              autoComplete="name"
              value={displayName}
              onValue={setDisplayName}
              maxLength={LIMITS.maxDisplayNameChars}
              placeholder="e.g. Ann Lee"
            />
          )}
          <PasswordField
            id={`${mode}-password`}
            name="password"
            label="Password"
            hint={signingUp ? `At least ${ACCOUNT_LIMITS.minPasswordChars} characters.` : undefined}
            autoComplete={signingUp ? 'new-password' : 'current-password'}
            value={password}
            onValue={setPassword}
            required
            minLength={signingUp ? ACCOUNT_LIMITS.minPasswordChars : 1}
          />
          <button type="submit" className="primary" disabled={busy}>
            {signingUp ? 'Sign up' : 'Sign in'}
          </button>
        </form>
        <div className="divider">
          <span>{signingUp ? 'already have an account?' : 'new here?'}</span>
        </div>
        <button type="button" className="secondary" onClick={() => switchTo(signingUp ? 'signin' : 'signup')}>
          {signingUp ? 'Sign in instead' : 'Create an account'}
        </button>
      </div>
    </main>
  );
}

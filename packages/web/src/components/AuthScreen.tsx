// Sign up with a username, or sign in with an API key kept from before.
import { useState, type FormEvent } from 'react';
import { HttpApi, MessengerClient } from '@messenger/sdk';
import { LIMITS } from '@messenger/protocol';
import type { Session } from '../store.js';

export function AuthScreen({
  onSignedIn,
  initialError,
}: {
  onSignedIn(s: Session): void;
  initialError: string | null;
}) {
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string | null>(initialError);
  const [busy, setBusy] = useState(false);

  const signUp = async (e: FormEvent) => {
    e.preventDefault();
    const name = username.trim().toLowerCase();
    if (!LIMITS.usernamePattern.test(name)) {
      setError('Usernames are 3-32 characters: a-z, 0-9, _ and .');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { user, apiKey: key } = await MessengerClient.createUser('', {
        username: name,
        ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
      });
      onSignedIn({ apiKey: key, userId: user.id });
    } catch (err) {
      const code = (err as { code?: string }).code;
      setError(
        code === 'conflict'
          ? `The username “${name}” is taken.`
          : code === 'rate_limited'
            ? 'Too many sign-ups from here. Try again in a minute.'
            : 'Could not sign up. Try again.',
      );
    } finally {
      setBusy(false);
    }
  };

  const signIn = async (e: FormEvent) => {
    e.preventDefault();
    const key = apiKey.trim();
    if (!key) return;
    setBusy(true);
    setError(null);
    try {
      const user = await new HttpApi({ baseUrl: '', apiKey: key }).me();
      onSignedIn({ apiKey: key, userId: user.id });
    } catch (err) {
      setError(
        (err as { code?: string }).code === 'unauthenticated'
          ? 'That API key was not accepted.'
          : 'Could not sign in. Try again.',
      );
    } finally {
      setBusy(false);
    }
  };

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
        <p className="muted">Pick a username to start chatting.</p>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <form onSubmit={signUp} className="stack">
          <label className="field">
            <span>Username</span>
            <input
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              required
              maxLength={32}
              placeholder="e.g. ann.lee"
            />
          </label>
          <label className="field">
            <span>Display name</span>
            <input
              name="displayName"
              autoComplete="name"
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
              maxLength={LIMITS.maxDisplayNameChars}
              placeholder="e.g. Ann Lee"
            />
          </label>
          <button type="submit" className="primary" disabled={busy}>
            Sign up
          </button>
        </form>
        <div className="divider">
          <span>or use an existing key</span>
        </div>
        <form onSubmit={signIn} className="stack">
          <label className="field">
            <span>API key</span>
            <input
              name="apiKey"
              autoComplete="off"
              spellCheck={false}
              value={apiKey}
              onChange={(e) => setApiKey(e.target.value)}
              required
            />
          </label>
          <button type="submit" className="secondary" disabled={busy}>
            Sign in
          </button>
        </form>
      </div>
    </main>
  );
}

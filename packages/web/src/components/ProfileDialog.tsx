// Edit profile: the display name everyone who shares a conversation sees (they hear of it live).
import { LIMITS, type User } from '@messenger/protocol';
import type { HttpApi } from '@messenger/sdk';
import { useState, type FormEvent } from 'react';

export function ProfileForm({ api, me, onDone }: { api: HttpApi; me: User | null; onDone(user: User): void }) {
  const [displayName, setDisplayName] = useState(me?.displayName ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const name = displayName.trim();
    if (!name) {
      setError('A display name cannot be empty.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onDone(await api.updateProfile({ displayName: name }));
    } catch {
      setError('Could not save the profile. Try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form id="profile-form" onSubmit={submit} className="stack">
      <div className="field">
        <label htmlFor="profile-display-name">Display name</label>
        <input
          id="profile-display-name"
          name="display-name"
          autoComplete="nickname"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          required
          maxLength={LIMITS.maxDisplayNameChars}
          aria-describedby="profile-display-name-hint"
        />
        <span id="profile-display-name-hint" className="hint muted">
          Shown to everyone you share a conversation with. Your username @{me?.username} stays.
        </span>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Saving…' : 'Save'}
      </button>
    </form>
  );
}

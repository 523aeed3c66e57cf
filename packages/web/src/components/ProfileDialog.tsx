// Edit profile: the display name and photo everyone who shares a conversation sees (they hear of it live).
import { LIMITS, type User } from '@messenger/protocol';
import type { HttpApi } from '@messenger/sdk';
import { useState, type FormEvent } from 'react';
import { useAction } from '../hooks.js';
import { AvatarEdit } from './AvatarEdit.js';
import { Field } from './Field.js';
import { FormSubmit } from './FormError.js';

export function ProfileForm({
  api,
  me,
  onDone,
  onChanged,
}: {
  api: HttpApi;
  me: User | null;
  onDone(user: User): void;
  /** A new photo was saved (the form stays open). */
  onChanged?(user: User): void;
}) {
  const [displayName, setDisplayName] = useState(me?.displayName ?? '');
  const { busy, error, setError, run } = useAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const name = displayName.trim();
    if (!name) {
      setError('A display name cannot be empty.');
      return;
    }
    void run(
      async () => onDone(await api.updateProfile({ displayName: name })),
      () => 'Could not save the profile. Try again.',
    );
  };

  const [avatarUrl, setAvatarUrl] = useState(me?.avatarUrl ?? null);
  const setPhoto = (file: File | null) =>
    run(
      async () => {
        const upload = file ? await api.upload(file) : null;
        const user = await api.updateProfile({ avatarUploadId: upload?.id ?? null });
        setAvatarUrl(user.avatarUrl);
        onChanged?.(user);
      },
      () => 'Could not save the photo: it must be a JPEG, PNG, WebP or GIF image.',
    );

  return (
    <form id="profile-form" onSubmit={submit} className="stack">
      <AvatarEdit
        name={displayName || '?'}
        seed={me?.id ?? ''}
        url={avatarUrl}
        what="photo"
        editable
        busy={busy}
        onChange={(file) => void setPhoto(file)}
      />
      <Field
        id="profile-display-name"
        name="display-name"
        label="Display name"
        hint={`Shown to everyone you share a conversation with. Your username @${me?.username ?? ''} stays.`}
        autoComplete="nickname"
        value={displayName}
        onValue={setDisplayName}
        required
        maxLength={LIMITS.maxDisplayNameChars}
      />
      <FormSubmit error={error} disabled={busy}>
        {busy ? 'Saving…' : 'Save'}
      </FormSubmit>
    </form>
  );
}

// The group's photo in Group info: admins add, change or remove it (the server refuses anyone
// else with 403, so members only see it).
import { useRef } from 'react';
import type { Conversation } from '@messenger/protocol';
import { Avatar } from './Avatar.js';

export function GroupAvatarEdit({
  conversation,
  admin,
  busy,
  onChange,
}: {
  conversation: Conversation;
  admin: boolean;
  busy: boolean;
  /** A new photo, or null to remove it. */
  onChange(file: File | null): void;
}) {
  const picker = useRef<HTMLInputElement>(null);
  const name = conversation.title ?? 'Group';
  return (
    <div className="avatar-edit">
      <Avatar name={name} seed={conversation.id} size="lg" url={conversation.avatarUrl} />
      {admin && (
        <>
          <button type="button" disabled={busy} onClick={() => picker.current?.click()}>
            {conversation.avatarUrl ? 'Change group photo' : 'Add group photo'}
          </button>
          {conversation.avatarUrl && (
            <button type="button" className="link-button" disabled={busy} onClick={() => onChange(null)}>
              Remove group photo
            </button>
          )}
          <input
            ref={picker}
            type="file"
            accept="image/jpeg,image/png,image/webp,image/gif"
            hidden
            aria-label="Choose a group photo"
            onChange={(e) => {
              const file = e.target.files?.[0] ?? null;
              e.target.value = '';
              if (file) onChange(file);
            }}
          />
        </>
      )}
    </div>
  );
}

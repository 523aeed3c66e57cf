// A photo (a user's or a group's) in a form: who may edit it adds, changes or removes it; anyone
// else only sees it (for a group, the server refuses anyone but an admin with 403).
import { useRef } from 'react';
import { Avatar } from './Avatar.js';

export function AvatarEdit({
  name,
  seed,
  url,
  what,
  editable,
  busy,
  onChange,
}: {
  name: string;
  seed: string;
  url: string | null;
  /** What the buttons call it: "photo", "group photo". */
  what: string;
  editable: boolean;
  busy: boolean;
  /** A new photo, or null to remove it. */
  onChange(file: File | null): void;
}) {
  const picker = useRef<HTMLInputElement>(null);
  return (
    <div className="avatar-edit">
      <Avatar name={name} seed={seed} size="lg" url={url} />
      {editable && (
        <>
          <button type="button" disabled={busy} onClick={() => picker.current?.click()}>
            {url ? `Change ${what}` : `Add ${what}`}
          </button>
          {url && (
            <button type="button" className="link-button" disabled={busy} onClick={() => onChange(null)}>
              {`Remove ${what}`}
            </button>
          )}
          <input
            ref={picker}
            type="file"
            accept="image/jpeg,image/png,image/webp,image/gif"
            hidden
            aria-label={`Choose a ${what}`}
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

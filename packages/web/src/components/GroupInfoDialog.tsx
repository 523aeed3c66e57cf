// Group info: the group's photo, members and their roles; admins rename the group, set or remove
// its photo, choose whether members may add others, promote or demote, and remove members.
import { type FormEvent, useState } from 'react';
import { useAction } from '../hooks.js';
import { errorMessage } from '../lib/errors.js';
import { type ConversationDialogProps, Modal } from './Dialogs.js';
import { InlineField, Switch } from './Field.js';
import { FormError } from './FormError.js';
import { AvatarEdit } from './AvatarEdit.js';

const explain = (error: unknown) =>
  errorMessage(
    error,
    { forbidden: 'Only admins can do that.', invalid_request: 'The photo must be a JPEG, PNG, WebP or GIF image.' },
    'That did not work. Try again.',
  );

export function GroupInfoDialog({ store, conversation, onClose }: ConversationDialogProps) {
  const meId = store.session.userId;
  const admin = conversation.members.find((m) => m.userId === meId)?.role === 'admin';
  const [title, setTitle] = useState(conversation.title ?? '');
  const { busy, error, run: call } = useAction();
  const run = (action: () => Promise<void>) => call(action, explain);
  const rename = (e: FormEvent) => {
    e.preventDefault();
    if (title.trim() && title.trim() !== conversation.title)
      void run(() => store.safety.updateGroup(conversation.id, { title: title.trim() }));
  };
  return (
    <Modal title="Group info" onClose={onClose}>
      <div className="stack">
        <AvatarEdit
          name={conversation.title ?? 'Group'}
          seed={conversation.id}
          url={conversation.avatarUrl}
          what="group photo"
          editable={admin}
          busy={busy}
          onChange={(file) => void run(() => store.safety.setGroupAvatar(conversation.id, file))}
        />
        {admin ? (
          <form onSubmit={rename} className="inline-form">
            <InlineField label="Group name" value={title} maxLength={128} required onValue={setTitle} />
            <button type="submit" className="secondary" disabled={busy || !title.trim()}>
              Rename
            </button>
          </form>
        ) : (
          <p>
            <strong>{conversation.title}</strong>
          </p>
        )}
        <Switch
          label="Members can add others"
          checked={conversation.membersCanAdd}
          disabled={!admin || busy}
          onChecked={(membersCanAdd) => void run(() => store.safety.updateGroup(conversation.id, { membersCanAdd }))}
        />
        <h3>Members ({conversation.members.length})</h3>
        <ul className="member-list" aria-label="Members">
          {conversation.members.map((m) => (
            <li key={m.userId} className="member-row">
              <span className="member-name">
                {m.displayName} <span className="muted">@{m.username}</span>
                {m.userId === meId && <span className="muted"> (you)</span>}
              </span>
              {m.role === 'admin' && <span className="role-tag">Admin</span>}
              {admin && m.userId !== meId && (
                <span className="member-actions">
                  <button
                    type="button"
                    className="link-button"
                    disabled={busy}
                    aria-label={`${m.role === 'admin' ? 'Remove admin role from' : 'Make admin:'} ${m.displayName}`}
                    onClick={() =>
                      void run(() =>
                        store.safety.setRole(conversation.id, m.userId, m.role === 'admin' ? 'member' : 'admin'),
                      )
                    }
                  >
                    {m.role === 'admin' ? 'Dismiss as admin' : 'Make admin'}
                  </button>
                  <button
                    type="button"
                    className="link-button danger"
                    disabled={busy}
                    aria-label={`Remove ${m.displayName} from the group`}
                    onClick={() => void run(() => store.safety.removeMember(conversation.id, m.userId))}
                  >
                    Remove
                  </button>
                </span>
              )}
            </li>
          ))}
        </ul>
        <FormError error={error} />
      </div>
    </Modal>
  );
}

// The account menu: who is signed in, this browser's settings, Devices, the password, and sign-out.
import type { User } from '@messenger/protocol';
import { type ReactNode, useId, useState, useSyncExternalStore } from 'react';
import type { AppStore } from '../store.js';
import { ChangePassword } from './ChangePassword.js';
import { DeleteAccountForm } from './DeleteAccountDialog.js';
import { Devices } from './Devices.js';
import { Modal } from './Dialogs.js';
import { ProfileForm } from './ProfileDialog.js';
import { BlockedUsers, OperatorPanel } from './SafetyDialogs.js';
import { Switch } from './Field.js';
import { FormError } from './FormError.js';

type View = 'menu' | 'devices' | 'password' | 'profile' | 'delete' | 'blocked' | 'operator';

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
  const [view, setView] = useState<View>('menu');
  const legacy = store.account.usesApiKey;
  const passwordTitle = legacy ? 'Set a password' : 'Change password';
  const back = (
    <button type="button" className="link-button" onClick={() => setView('menu')}>
      ← Account
    </button>
  );
  const page = ((): { title: string; body: ReactNode } | null => {
    switch (view) {
      case 'devices':
        return { title: 'Devices', body: <Devices account={store.account} /> };
      case 'password':
        return {
          title: passwordTitle,
          body: <ChangePassword account={store.account} username={me?.username ?? ''} onDone={() => setView('menu')} />,
        };
      case 'profile':
        return {
          title: 'Edit profile',
          body: (
            <ProfileForm
              api={store.client.api}
              me={me}
              onDone={(user) => {
                store.applyUser(user);
                setView('menu');
              }}
              onChanged={(user) => store.applyUser(user)}
            />
          ),
        };
      case 'blocked':
        return { title: 'Blocked users', body: <BlockedUsers store={store} /> };
      case 'operator':
        return { title: 'Operator', body: <OperatorPanel store={store} /> };
      case 'delete':
        return {
          title: 'Delete account',
          body: <DeleteAccountForm api={store.client.api} me={me} hasPassword={!legacy} onDeleted={onSignOut} />,
        };
      case 'menu':
        return null;
    }
  })();
  if (page)
    return (
      <Modal title={page.title} onClose={onClose}>
        {back}
        {page.body}
      </Modal>
    );
  return (
    <Modal title="Account" onClose={onClose}>
      <div className="stack">
        {me && (
          <p>
            <strong>{me.displayName}</strong> <span className="muted">@{me.username}</span>
          </p>
        )}
        {legacy && (
          <p className="hint muted">
            This browser signed in with an API key. Set a password to sign in on your other devices.
          </p>
        )}
        <nav aria-label="Account" className="account-menu">
          <button type="button" className="secondary" onClick={() => setView('profile')}>
            Edit profile
          </button>
          <button type="button" className="secondary" onClick={() => setView('devices')}>
            Devices
          </button>
          <button type="button" className="secondary" onClick={() => setView('password')}>
            {passwordTitle}
          </button>
          <button type="button" className="secondary" onClick={() => setView('blocked')}>
            Blocked users
          </button>
          {store.state.operator && (
            <button type="button" className="secondary" onClick={() => setView('operator')}>
              Operator: reports
            </button>
          )}
        </nav>
        <Settings store={store} />
        <button type="button" className="danger-button" onClick={onSignOut}>
          Sign out of this browser
        </button>
        <button type="button" className="link-button" onClick={() => setView('delete')}>
          Delete account…
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
      <Switch
        label="Notifications"
        checked={notify.enabled}
        disabled={notify.busy}
        aria-describedby={notifyHint}
        onChecked={(on) => void (on ? store.notifications.enable() : store.notifications.disable())}
      />
      <p id={notifyHint} className={`hint ${notify.message ? '' : 'muted'}`} role="status">
        {notify.busy
          ? 'Setting up notifications…'
          : (notify.message ??
            (notify.enabled
              ? 'On: new messages notify you, even with the app closed. Muted chats stay quiet.'
              : 'Off: no notifications on this browser.'))}
      </p>
      <Switch
        label="Show my online status"
        checked={presenceVisible}
        aria-describedby={presenceHint}
        onChecked={togglePresence}
      />
      <p id={presenceHint} className="hint muted">
        {presenceVisible
          ? 'Others see when you are online and when you were last seen.'
          : 'Others see you as offline, with no last seen time.'}
      </p>
      <FormError error={presenceError} />
    </section>
  );
}

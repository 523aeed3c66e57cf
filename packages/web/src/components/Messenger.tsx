// The signed-in screen: sidebar (list, search, new chat) and the open chat; one pane at a time on a phone.
import type { Message } from '@messenger/protocol';
import { useEffect, useState } from 'react';
import type { AppStore } from '../store.js';
import { navigate, usePageVisible, useAppState, useRoute } from '../hooks.js';
import { Avatar } from './Avatar.js';
import { AddPersonIcon, Icon, IconButton, LeaveIcon } from './Icons.js';
import { ChatList } from './ChatList.js';
import { ChatView } from './ChatView.js';
import { ConnectionBanner } from './ConnectionBanner.js';
import { AccountDialog } from './AccountDialog.js';
import { AddMembersDialog, NewChatDialog, NewGroupDialog } from './Dialogs.js';
import { GroupInfoDialog } from './GroupInfoDialog.js';
import { RequestsSection } from './Requests.js';
import { ReportDialog } from './SafetyDialogs.js';
import { SearchResults } from './SearchResults.js';

type OpenDialog = 'chat' | 'group' | 'account' | 'members' | 'info' | null;

export function Messenger({ store, onSignOut }: { store: AppStore; onSignOut(): void }) {
  const state = useAppState(store);
  const route = useRoute();
  const visible = usePageVisible();
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [query, setQuery] = useState('');
  const [reporting, setReporting] = useState<Message | null>(null);

  const unread = state.conversations.reduce((n, c) => n + (c.muted ? 0 : c.unreadCount), 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Messenger` : 'Messenger';
    // The installed app's icon badge; the service worker sets it from pushes while the app is closed.
    const nav = navigator as Navigator & { setAppBadge?(n: number): Promise<void>; clearAppBadge?(): Promise<void> };
    (unread > 0 ? nav.setAppBadge?.(unread) : nav.clearAppBadge?.())?.catch(() => {});
  }, [unread]);

  useEffect(() => store.setAway(!visible), [store, visible]);

  const active = route.chatId ? state.conversations.find((c) => c.id === route.chatId) : undefined;
  // A chat we left or never had: back to the list rather than an empty pane.
  useEffect(() => {
    if (route.chatId && state.listLoaded && !active) navigate('');
  }, [route.chatId, state.listLoaded, active]);

  const me = state.me;
  return (
    <div className={`app ${route.chatId ? 'has-chat' : 'no-chat'}`}>
      <aside className="sidebar">
        <header className="sidebar-header">
          <IconButton className="icon-button account-button" label="Account" onClick={() => setDialog('account')}>
            <Avatar name={me?.displayName ?? '?'} seed={me?.id ?? ''} size="sm" url={me?.avatarUrl} />
          </IconButton>
          <h1>Chats</h1>
          <div className="header-actions">
            <IconButton label="New chat" title="New chat" onClick={() => setDialog('chat')}>
              <Icon>
                <path d="M4 20l1.3-3.9A8 8 0 1 1 8 19z" />
                <path d="M12 8v6M9 11h6" />
              </Icon>
            </IconButton>
            <IconButton label="New group" title="New group" onClick={() => setDialog('group')}>
              <AddPersonIcon plus="M17 7v6M14 10h6" />
            </IconButton>
            <IconButton label="Sign out" title="Sign out" onClick={onSignOut}>
              <LeaveIcon />
            </IconButton>
          </div>
        </header>
        <div className="search">
          <input
            type="search"
            aria-label="Search messages"
            placeholder="Search messages"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => e.key === 'Escape' && setQuery('')}
          />
        </div>
        <ConnectionBanner state={state.connection} />
        {query.trim() ? (
          <SearchResults store={store} state={state} query={query.trim()} onOpen={() => setQuery('')} />
        ) : (
          <>
            <RequestsSection store={store} requests={state.conversations.filter((c) => c.request)} />
            <ChatList
              state={state}
              meId={store.session.userId}
              activeId={route.chatId}
              onNewChat={() => setDialog('chat')}
            />
          </>
        )}
      </aside>
      <main className="main-pane">
        {active ? (
          <ChatView
            key={active.id}
            store={store}
            state={state}
            conversation={active}
            focusMessageId={route.messageId}
            onAddMembers={() => setDialog('members')}
            onGroupInfo={() => setDialog('info')}
            onReport={setReporting}
          />
        ) : (
          <div className="empty-pane">
            <p>
              {state.conversations.length > 0
                ? 'Pick a chat to start messaging.'
                : 'No chats yet. Start one with a username.'}
            </p>
          </div>
        )}
      </main>
      {dialog === 'chat' && <NewChatDialog store={store} onClose={() => setDialog(null)} />}
      {dialog === 'group' && <NewGroupDialog store={store} onClose={() => setDialog(null)} />}
      {dialog === 'members' && active && (
        <AddMembersDialog store={store} conversation={active} onClose={() => setDialog(null)} />
      )}
      {dialog === 'info' && active && (
        <GroupInfoDialog store={store} conversation={active} onClose={() => setDialog(null)} />
      )}
      {reporting && active && (
        <ReportDialog store={store} conversationId={active.id} message={reporting} onClose={() => setReporting(null)} />
      )}
      {dialog === 'account' && (
        <AccountDialog store={store} me={me} onSignOut={onSignOut} onClose={() => setDialog(null)} />
      )}
    </div>
  );
}

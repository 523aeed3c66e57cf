// Signed out: the sign-up / sign-in screen. Signed in: one AppStore for the session and the messenger UI.
import { useEffect, useState } from 'react';
import { AuthScreen } from './components/AuthScreen.js';
import { Messenger } from './components/Messenger.js';
import { loadSession, saveSession } from './session.js';
import { AppStore, type Session } from './store.js';

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [store, setStore] = useState<AppStore | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!session) return;
    const s = new AppStore(session);
    setStore(s);
    s.start().catch((e: unknown) => {
      // A key the server refuses (deleted data, typo) signs out; anything else is retried by the SDK.
      if ((e as { code?: string })?.code === 'unauthenticated') {
        saveSession(null);
        setError('That API key was not accepted. Sign in again.');
        setSession(null);
      }
    });
    return () => {
      setStore(null);
      void s.stop();
    };
  }, [session]);

  const signIn = (next: Session) => {
    saveSession(next);
    setError(null);
    setSession(next);
  };

  const signOut = () => {
    // This browser must stop getting the user's pushes; the call outlives the store.
    void store?.notifications.signOut();
    saveSession(null);
    history.replaceState(null, '', location.pathname);
    setSession(null);
  };

  if (!session) return <AuthScreen onSignedIn={signIn} initialError={error} />;
  if (!store) return null;
  return <Messenger store={store} onSignOut={signOut} />;
}

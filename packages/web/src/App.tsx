// Signed out: the sign-up / sign-in screen. Signed in: one AppStore for the session and the messenger UI.
import { useEffect, useState } from 'react';
import { AuthScreen } from './components/AuthScreen.js';
import { Messenger } from './components/Messenger.js';
import { loadSession, saveSession, type Session } from './session.js';
import { AppStore } from './store.js';

const ENDED = 'You were signed out on this device. Sign in again.';

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [store, setStore] = useState<AppStore | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!session) return;
    // Signed out elsewhere, the password changed, or the session expired: back to sign-in, saying why.
    const ended = () => {
      saveSession(null);
      history.replaceState(null, '', location.pathname);
      setError(ENDED);
      setSession(null);
    };
    const s = new AppStore(session, { onSessionEnded: ended });
    setStore(s);
    // A refused credential is reported through onSessionEnded; anything else is retried by the SDK.
    s.start().catch(() => {});
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
    // The server session ends and this browser stops getting the user's pushes; the calls outlive the UI.
    void store?.signOut();
    saveSession(null);
    history.replaceState(null, '', location.pathname);
    setSession(null);
  };

  if (!session) return <AuthScreen onSignedIn={signIn} initialError={error} />;
  if (!store) return null;
  return <Messenger store={store} onSignOut={signOut} />;
}

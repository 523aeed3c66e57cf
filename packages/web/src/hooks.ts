// Small React bindings: the store's snapshot, the hash route, the clock, page visibility and a
// form's pending call.
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { AppState, AppStore } from './store.js';

export function useAppState(store: AppStore): AppState {
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}

export interface Route {
  chatId: string | null;
  /** A message to scroll to and flash, from a search result. */
  messageId: string | null;
}

function parseHash(): Route {
  const m = /^#\/c\/([^/]+)(?:\/m\/([^/]+))?$/.exec(location.hash);
  return { chatId: m?.[1] ? decodeURIComponent(m[1]) : null, messageId: m?.[2] ? decodeURIComponent(m[2]) : null };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const update = () => setRoute(parseHash());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

export function chatHref(chatId: string, messageId?: string): string {
  return `#/c/${encodeURIComponent(chatId)}${messageId ? `/m/${encodeURIComponent(messageId)}` : ''}`;
}

export function navigate(hash: string): void {
  if (location.hash !== hash) location.hash = hash;
}

/** Re-renders every `ms`, for relative times like "Last seen 5 min ago". */
export function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const update = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return visible;
}

/**
 * A form's calls to the server: `busy` while one runs, and `error`, what the last one's failure
 * means to the user (its `explain`). A call clears the error as it starts.
 */
export function useAction(initialError: string | null = null) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(initialError);
  const run = async (action: () => Promise<void>, explain: (error: unknown) => string): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

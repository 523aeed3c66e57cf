// Search across chats: results with highlighted snippets; a result opens its chat at that message.
import { useEffect, useState } from 'react';
import type { SearchResult } from '@messenger/protocol';
import type { AppState, AppStore } from '../store.js';
import { chatHref, navigate } from '../hooks.js';
import { conversationName } from '../lib/receipts.js';
import { highlight } from '../lib/text.js';
import { listTime } from '../lib/time.js';

const DEBOUNCE_MS = 250;

export function SearchResults({
  store,
  state,
  query,
  onOpen,
}: {
  store: AppStore;
  state: AppState;
  query: string;
  onOpen(): void;
}) {
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [error, setError] = useState(false);

  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      store.search(query).then(
        (r) => {
          if (live) {
            setResults(r);
            setError(false);
          }
        },
        () => {
          if (live) setError(true);
        },
      );
    }, DEBOUNCE_MS);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [store, query]);

  const open = async (r: SearchResult) => {
    try {
      await store.loadAround(r.conversationId, r.message.seq);
    } catch {
      // The chat still opens at its newest messages.
    }
    onOpen();
    navigate(chatHref(r.conversationId, r.message.id));
  };

  return (
    <section className="search-results" aria-label="Search results">
      {error && <p className="list-empty">Search failed. Try again.</p>}
      {results === null && !error && <p className="list-empty">Searching…</p>}
      {results?.length === 0 && <p className="list-empty">No messages match “{query}”.</p>}
      <ul>
        {results?.map((r) => {
          const c = state.conversations.find((x) => x.id === r.conversationId);
          const sender = c?.members.find((m) => m.userId === r.message.senderId);
          return (
            <li key={`${r.conversationId}:${r.message.id}`}>
              <button type="button" className="search-result" onClick={() => open(r)}>
                <span className="chat-item-top">
                  <span className="chat-item-name">{c ? conversationName(c, store.session.userId) : 'Chat'}</span>
                  <span className="chat-item-time">{listTime(r.message.createdAt)}</span>
                </span>
                <span className="search-snippet">
                  {sender && (
                    <span className="muted">
                      {sender.userId === store.session.userId ? 'You' : sender.displayName.split(' ')[0]}:{' '}
                    </span>
                  )}
                  {highlight(r.snippet, r.highlights).map((part, i) =>
                    part.marked ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>,
                  )}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

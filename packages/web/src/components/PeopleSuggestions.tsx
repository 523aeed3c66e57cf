// People search under a username field: as the user types, people whose username or display name
// starts with it; picking one fills in the username. Buttons, so Tab and Enter reach them.
import { useEffect, useState } from 'react';
import type { User } from '@messenger/protocol';
import type { AppStore } from '../store.js';

const DEBOUNCE_MS = 250;

export function PeopleSuggestions({
  store,
  text,
  onPick,
}: {
  store: AppStore;
  text: string;
  onPick(user: User): void;
}) {
  const [people, setPeople] = useState<User[]>([]);
  const q = text.trim().replace(/^@/, '');
  useEffect(() => {
    if (!q) {
      setPeople([]);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      store.safety.searchPeople(q).then(
        (found) => current && setPeople(found),
        () => current && setPeople([]),
      );
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [store, q]);
  if (people.length === 0 || (people.length === 1 && people[0]!.username === q)) return null;
  return (
    <ul className="people-suggestions" aria-label="People found">
      {people.map((u) => (
        <li key={u.id}>
          <button type="button" className="link-button" onClick={() => onPick(u)}>
            {u.displayName} <span className="muted">@{u.username}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

// Human times: list timestamps, day separators, "last seen".

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function startOfDay(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

export function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** Chat list: the time today, the weekday this week, else the date. */
export function listTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const days = Math.round((startOfDay(now) - startOfDay(d)) / DAY);
  if (days <= 0) return clockTime(iso);
  if (days === 1) return 'Yesterday';
  if (days < 7) return d.toLocaleDateString(undefined, { weekday: 'short' });
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const days = Math.round((startOfDay(now) - startOfDay(d)) / DAY);
  if (days <= 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const sameYear = d.getFullYear() === now.getFullYear();
  return d.toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

export function lastSeen(iso: string | null, now = Date.now()): string {
  if (!iso) return 'Offline';
  const ago = Math.max(0, now - new Date(iso).getTime());
  if (ago < MINUTE) return 'Last seen just now';
  if (ago < 60 * MINUTE) return `Last seen ${Math.floor(ago / MINUTE)} min ago`;
  if (ago < DAY) return `Last seen ${Math.floor(ago / (60 * MINUTE))} h ago`;
  return `Last seen ${new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short' })}`;
}

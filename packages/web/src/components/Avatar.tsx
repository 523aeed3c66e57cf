// A round avatar: the picture when there is one, else initials in a stable colour per name; an
// optional presence dot.
import type { PresenceStatus } from '@messenger/protocol';
import { initials } from '../lib/text.js';

const HUES = [211, 262, 330, 14, 36, 152, 188, 290];

function hue(seed: string): number {
  let h = 0;
  for (const ch of seed) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return HUES[h % HUES.length]!;
}

export function Avatar({
  name,
  seed,
  size = 'md',
  presence,
  url,
}: {
  name: string;
  seed: string;
  size?: 'sm' | 'md' | 'lg';
  presence?: PresenceStatus | undefined;
  /** The signed avatar URL (User, Member or Conversation avatarUrl). */
  url?: string | null | undefined;
}) {
  return (
    <span className={`avatar avatar-${size}`} style={{ '--hue': hue(seed) } as React.CSSProperties} aria-hidden="true">
      {url ? <img className="avatar-img" src={url} alt="" /> : initials(name)}
      {presence && presence !== 'offline' && <span className={`presence-dot ${presence}`} />}
    </span>
  );
}

// Plain-text message bodies split into text and safe links, and search snippets split into highlighted runs.
// Both return data, never HTML: React escapes every string it renders.

export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that usually ends the sentence rather than the link. */
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', "'", '"']);

export function linkify(body: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of body.matchAll(URL_PATTERN)) {
    const text = trimTrailing(match[0]);
    const href = safeHref(text);
    if (!href) continue;
    const start = match.index;
    if (start > last) parts.push({ kind: 'text', text: body.slice(last, start) });
    parts.push({ kind: 'link', text, href });
    last = start + text.length;
  }
  if (last < body.length) parts.push({ kind: 'text', text: body.slice(last) });
  return parts;
}

/** Drops sentence punctuation, but keeps a ")" that closes a "(" inside the link, as in Wikipedia URLs. */
function trimTrailing(text: string): string {
  let end = text.length;
  while (end > 0 && TRAILING.has(text[end - 1]!)) {
    const head = text.slice(0, end);
    if (text[end - 1] === ')' && count(head, '(') >= count(head, ')')) break;
    end--;
  }
  return text.slice(0, end);
}

function count(text: string, ch: string): number {
  return text.split(ch).length - 1;
}

/** Only http(s) URLs that parse become links; anything else stays text. */
export function safeHref(text: string): string | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export interface HighlightPart {
  text: string;
  marked: boolean;
}

/** `ranges` are [start, end) offsets into `snippet`; out-of-range, reversed or overlapping ones are tolerated. */
export function highlight(snippet: string, ranges: ReadonlyArray<readonly [number, number]> = []): HighlightPart[] {
  const clean = ranges
    .map(([s, e]) => [Math.max(0, Math.min(s, snippet.length)), Math.max(0, Math.min(e, snippet.length))] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  const parts: HighlightPart[] = [];
  let pos = 0;
  for (const [s, e] of clean) {
    if (e <= pos) continue;
    const start = Math.max(s, pos);
    if (start > pos) parts.push({ text: snippet.slice(pos, start), marked: false });
    parts.push({ text: snippet.slice(start, e), marked: true });
    pos = e;
  }
  if (pos < snippet.length) parts.push({ text: snippet.slice(pos), marked: false });
  return parts;
}

/** Up to two letters: "Ann Lee" -> "AL", "bob" -> "B". */
export function initials(name: string): string {
  // Emoji and punctuation make poor initials: only words that start with a letter or digit count.
  const words = name
    .trim()
    .split(/\s+/)
    .filter((w) => /^[\p{L}\p{N}]/u.test(w));
  const letters = words.length > 1 ? [words[0]!, words[words.length - 1]!] : words.slice(0, 1);
  return letters.map((w) => [...w][0]!.toUpperCase()).join('') || '?';
}

// Search text shaping shared by every Store: how a body is indexed, how a query is read, and how a
// snippet is cut. CJK has no spaces between words, so CJK runs are indexed as overlapping bigrams
// (the last character alone too); other scripts by word, accent- and case-insensitively.

const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;
const WORD = /[\p{L}\p{N}]+/gu;
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

function bigrams(run: string): string[] {
  const chars = [...run];
  if (chars.length === 1) return chars;
  const out: string[] = [];
  for (let i = 0; i < chars.length - 1; i++) out.push(chars[i]! + chars[i + 1]!);
  out.push(chars[chars.length - 1]!);
  return out;
}

/** The text given to a word index (FTS5 unicode61, PostgreSQL to_tsvector) for a message body. */
export function indexText(body: string): string {
  return body.replace(CJK_RUN, (run) => ` ${bigrams(run).join(' ')} `);
}

/** What search sees of a message: its text, then the names of its files (so a file is found by name). */
export function searchableText(body: string, attachments?: readonly { name: string }[] | null): string {
  if (!attachments || attachments.length === 0) return body;
  return [body, ...attachments.map((a) => a.name)].join('\n');
}

/** The one index token naming a conversation (ids lowercased to letters and digits). */
export function conversationToken(conversationId: string): string {
  return `cv${conversationId.replace(/[^A-Za-z0-9]/g, '').toLowerCase()}`;
}

/** A query term: `prefix` terms match any word starting with `text`; `phrase` terms are adjacent bigrams. */
export type QueryTerm = { kind: 'prefix'; text: string } | { kind: 'phrase'; tokens: string[] };

export function queryTerms(q: string): QueryTerm[] {
  const terms: QueryTerm[] = [];
  for (const match of q.matchAll(WORD)) {
    const word = match[0];
    if (CJK_CHAR.test(word)) {
      // A word may mix scripts ("東京tower"): split CJK runs from the rest.
      let rest = word;
      for (const run of word.match(CJK_RUN) ?? []) {
        const chars = [...run];
        terms.push(
          chars.length === 1 ? { kind: 'prefix', text: run } : { kind: 'phrase', tokens: bigrams(run).slice(0, -1) },
        );
        rest = rest.replace(run, ' ');
      }
      for (const other of rest.match(WORD) ?? []) terms.push({ kind: 'prefix', text: other });
    } else {
      terms.push({ kind: 'prefix', text: word });
    }
  }
  return terms.slice(0, 16);
}

/** Lowercase without diacritics, with a map from each folded UTF-16 index back into the original. */
function fold(text: string): { folded: string; origin: number[] } {
  let folded = '';
  const origin: number[] = [];
  let i = 0;
  for (const ch of text) {
    const f = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    for (let k = 0; k < f.length; k++) origin.push(i);
    folded += f;
    i += ch.length;
  }
  origin.push(text.length);
  return { folded, origin };
}

export interface Snippet {
  snippet: string;
  /** [start, end) UTF-16 offsets of the matched text within `snippet`. */
  highlights: [number, number][];
}

/** Cuts up to ~`width` characters of `body` around the first match and marks every match in it. */
export function makeSnippet(body: string, q: string, width = 80): Snippet {
  const needles = queryTerms(q)
    .map((t) => (t.kind === 'prefix' ? t.text : t.tokens.map((b, i) => (i === 0 ? b : b.slice(-1))).join('')))
    .map((n) => fold(n).folded)
    .filter((n) => n.length > 0);
  const { folded, origin } = fold(body);
  const hits: [number, number][] = [];
  for (const needle of needles) {
    let from = 0;
    for (;;) {
      const at = folded.indexOf(needle, from);
      if (at < 0) break;
      hits.push([origin[at]!, origin[at + needle.length] ?? body.length]);
      from = at + needle.length;
    }
  }
  hits.sort((a, b) => a[0] - b[0]);
  const first = hits[0]?.[0] ?? 0;
  let start = Math.max(0, first - Math.floor(width / 3));
  let end = Math.min(body.length, start + width);
  start = Math.max(0, Math.min(start, end - width));
  // Do not cut a surrogate pair in half.
  if (start > 0 && /[\uDC00-\uDFFF]/.test(body[start] ?? '')) start--;
  if (end < body.length && /[\uD800-\uDBFF]/.test(body[end - 1] ?? '')) end++;
  const prefix = start > 0 ? '…' : '';
  const suffix = end < body.length ? '…' : '';
  const highlights = hits
    .filter(([a, b]) => a >= start && b <= end)
    .map(([a, b]) => [a - start + prefix.length, b - start + prefix.length] as [number, number]);
  return { snippet: prefix + body.slice(start, end) + suffix, highlights };
}

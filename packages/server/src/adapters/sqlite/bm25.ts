// BM25 (Robertson/Sparck Jones, with FTS5's constants) computed in JS over a few hundred candidate
// texts, from word counts the index keeps (search_words.docs, search_stats): FTS5's own bm25()
// counts every match of every query word across the whole index on each query, which at 10M
// messages cost more than the rest of the search together.
import { indexText } from '../../core/search/text.js';

const K1 = 1.2;
const B = 0.75;
const WORD = /[\p{L}\p{N}]+/gu;

/** Case and diacritics folded like FTS5's unicode61 remove_diacritics (close enough to rank by). */
export function foldWord(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').normalize('NFC').toLowerCase();
}

/** The words an indexed body is made of, in order, folded. */
export function bodyWords(body: string): string[] {
  return foldWord(indexText(body)).match(WORD) ?? [];
}

/** One phrase of a query as BM25 weighs it: words in a row (or one prefix), and in how many texts it occurs. */
export interface Phrase {
  words: string[];
  prefix: boolean;
  docs: number;
}

export interface IndexStats {
  /** Texts in the index. */
  docs: number;
  /** Words in those texts, repeats counted. */
  words: number;
}

function occurrences(words: string[], phrase: Phrase): number {
  const [first, ...rest] = phrase.words;
  if (first === undefined) return 0;
  let n = 0;
  for (let i = 0; i + rest.length < words.length; i++) {
    const w = words[i]!;
    if (!(phrase.prefix ? w.startsWith(first) : w === first)) continue;
    if (rest.every((r, j) => words[i + 1 + j] === r)) n++;
  }
  return n;
}

/** Higher is better. */
export function bm25(words: string[], phrases: Phrase[], stats: IndexStats): number {
  const total = Math.max(stats.docs, 1);
  const avgLength = stats.docs > 0 && stats.words > 0 ? stats.words / stats.docs : Math.max(words.length, 1);
  const norm = K1 * (1 - B + (B * words.length) / avgLength);
  let score = 0;
  for (const phrase of phrases) {
    const tf = occurrences(words, phrase);
    if (tf === 0) continue;
    const docs = Math.min(Math.max(phrase.docs, 0), total);
    // FTS5 floors the IDF of a phrase in more than half the texts at 1e-6 the same way.
    const idf = Math.max(1e-6, Math.log((total - docs + 0.5) / (docs + 0.5)));
    score += (idf * tf * (K1 + 1)) / (tf + norm);
  }
  return score;
}

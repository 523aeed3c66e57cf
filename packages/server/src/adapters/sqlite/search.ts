// Full-text search in SQLite: one contentless FTS5 index (unicode61, diacritics removed) over
// indexText() (CJK as bigrams) plus a `conv` token per message, kept in the same transaction as
// the message it indexes, or, on the log's writer thread, in a later one (deferred-index.ts).
//
// Cost is bounded by what the viewer can see, not by the corpus: a viewer in a few conversations
// has the query limited to them inside the index; a viewer in many walks the matches newest first
// and stops after CANDIDATES visible ones. Those candidates are ranked by BM25, then by recency:
// "best match among the newest matches" (a chat search is mostly after recent messages). BM25 is
// computed here (bm25.ts) from the word counts kept in search_words / search_stats, not by FTS5's
// bm25(), which would count every match of every query word in the whole index first.
import type { Message, SearchResult } from '@messenger/protocol';
import { conversationToken, indexText, makeSnippet, queryTerms, searchableText } from '../../core/search/text.js';
import { bm25, bodyWords, foldWord, type IndexStats, type Phrase } from './bm25.js';
import type { MessageSearch, SearchQuery } from '../../core/messages/message-search.js';
import type { Db } from './db.js';
import type { MessageIndex } from './apply.js';
import type { MessageRow } from './rows.js';

/** Up to this many conversations are named in the index query itself. */
const CONVERSATION_FILTER_MAX = 300;
const CANDIDATES = 200;
/** A prefix under more words than this stays a prefix query. */
const PREFIX_WORDS_MAX = 256;
/** A prefix left as a prefix is counted as in at most the texts of this many words under it. */
const PREFIX_COUNT_WORDS = 5000;
const TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'";

type Hit = MessageRow & { rid: number };

/** Rows of the messages table as messages (with their reactions). */
export type Hydrate = (rows: MessageRow[]) => Message[];

export class SqliteSearch implements MessageIndex, MessageSearch {
  private readonly s;
  /** Absent where this is only the index kept by the log's commit, which never searches. */
  private readonly hydrate: Hydrate | undefined;
  /** Texts in the scratch table whose words are not in search_words yet (see flush). */
  private pending = 0;

  constructor(db: Db, hydrate?: Hydrate) {
    this.hydrate = hydrate;
    // The index's own tokenizer, on a one-row scratch table of this connection: the words it makes
    // of a text are exactly the words the index gets.
    db.exec(`
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_scratch_counted USING fts5(text, ${TOKENIZE}, content = '');
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_scratch_words USING fts5vocab(temp, search_scratch_counted, row);
    `);
    this.s = {
      scratchPut: db.prepare('INSERT INTO temp.search_scratch_counted (rowid, text) VALUES (?, ?)'),
      scratchWords: db.prepare<[], { term: string; doc: number; cnt: number }>(
        'SELECT term, doc, cnt FROM temp.search_scratch_words',
      ),
      scratchClear: db.prepare(
        "INSERT INTO temp.search_scratch_counted (search_scratch_counted) VALUES ('delete-all')",
      ),
      addWord: db.prepare(
        'INSERT INTO search_words (word, docs) VALUES (?, ?) ON CONFLICT (word) DO UPDATE SET docs = docs + excluded.docs',
      ),
      takeWord: db.prepare<[string], { docs: number }>(
        'UPDATE search_words SET docs = docs - 1 WHERE word = ? RETURNING docs',
      ),
      setWord: db.prepare('UPDATE search_words SET docs = ? WHERE word = ?'),
      dropWord: db.prepare('DELETE FROM search_words WHERE word = ?'),
      wordUsed: db.prepare<[string], { one: number }>(
        'SELECT 1 AS one FROM message_fts WHERE message_fts MATCH ? LIMIT 1',
      ),
      wordDocs: db.prepare<[string], { docs: number }>('SELECT docs FROM search_words WHERE word = ?'),
      wordsUnder: db.prepare<[string, string, number], { word: string; docs: number }>(
        'SELECT word, docs FROM search_words WHERE word >= ? AND word < ? ORDER BY word LIMIT ?',
      ),
      docsUnder: db.prepare<[string, string, number], { docs: number | null }>(
        'SELECT sum(docs) AS docs FROM (SELECT docs FROM search_words WHERE word >= ? AND word < ? LIMIT ?)',
      ),
      stats: db.prepare<[], IndexStats>('SELECT docs, words FROM search_stats WHERE id = 1'),
      addStats: db.prepare('UPDATE search_stats SET docs = max(docs + ?, 0), words = max(words + ?, 0) WHERE id = 1'),
      rowid: db.prepare<[string, number], { rowid: number }>(
        'SELECT rowid FROM messages WHERE conversation_id = ? AND seq = ?',
      ),
      remove: db.prepare('DELETE FROM message_fts WHERE rowid = ?'),
      insert: db.prepare('INSERT INTO message_fts (rowid, text, conv) VALUES (?, ?, ?)'),
      conversations: db.prepare<[string], { conversation_id: string }>(
        'SELECT conversation_id FROM members WHERE user_id = ?',
      ),
      // Matches newest first (FTS5 serves rowid DESC without sorting), visible ones only.
      search: db.prepare<[string, string, string, number], Hit>(
        `SELECT m.*, f.rowid AS rid
           FROM message_fts f
           JOIN messages m ON m.rowid = f.rowid
           JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?
          WHERE message_fts MATCH ?
            AND m.seq > mb.joined_seq AND m.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ? AND h.conversation_id = m.conversation_id AND h.seq = m.seq)
          ORDER BY f.rowid DESC
          LIMIT ?`,
      ),
    };
  }

  add(rowid: number, body: string, conversationId: string): void {
    if (body.length === 0) return;
    const text = indexText(body);
    this.s.insert.run(rowid, text, conversationToken(conversationId));
    this.s.scratchPut.run(++this.pending, text);
  }

  /** Counts the words of the texts indexed since the last call into search_words and search_stats, in the same transaction. */
  flush(): void {
    if (this.pending === 0) return;
    let words = 0;
    for (const { term, doc, cnt } of this.s.scratchWords.all()) {
      this.s.addWord.run(term, doc);
      words += cnt;
    }
    this.s.addStats.run(this.pending, words);
    this.s.scratchClear.run();
    this.pending = 0;
  }

  /** The words the index makes of `text`, each with how often it occurs there. */
  private words(text: string): { term: string; cnt: number }[] {
    this.flush();
    this.s.scratchPut.run(1, text);
    const words = this.s.scratchWords.all().map(({ term, cnt }) => ({ term, cnt }));
    this.s.scratchClear.run();
    return words;
  }

  /**
   * The FTS5 query for `q`, each prefix spelled out as the words under it ("proj"* becomes
   * ("project" OR "projet")): FTS5 walks those newest first and stops, where a prefix would first
   * merge every occurrence of every such word. Same matches: search_words holds every indexed word.
   * With it, the phrases BM25 weighs: one per word of an OR, one per CJK run, one per other prefix.
   */
  private plan(q: string): { match: string; phrases: Phrase[] } | null {
    const phrases: Phrase[] = [];
    const parts = queryTerms(q).map((t) => {
      if (t.kind === 'phrase') {
        const words = t.tokens.map(foldWord);
        const docs = Math.min(...words.map((w) => this.s.wordDocs.get(w)?.docs ?? 0));
        phrases.push({ words, prefix: false, docs });
        return `"${t.tokens.join(' ').replace(/"/g, '')}"`;
      }
      const folded = this.words(t.text).map((w) => w.term);
      const asPrefix = () => {
        const word = folded.length === 1 ? folded[0]! : foldWord(t.text);
        const docs = this.s.docsUnder.get(word, `${word}\u{10FFFF}`, PREFIX_COUNT_WORDS)?.docs ?? 0;
        phrases.push({ words: [word], prefix: true, docs });
        return `"${t.text.replace(/"/g, '')}"*`;
      };
      if (folded.length !== 1) return asPrefix();
      const under = this.s.wordsUnder.all(folded[0]!, `${folded[0]!}\u{10FFFF}`, PREFIX_WORDS_MAX + 1);
      if (under.length === 0 || under.length > PREFIX_WORDS_MAX || !under.every((w) => w.word.startsWith(folded[0]!)))
        return asPrefix();
      for (const w of under) phrases.push({ words: [w.word], prefix: false, docs: w.docs });
      return `(${under.map((w) => `"${w.word.replace(/"/g, '""')}"`).join(' OR ')})`;
    });
    return parts.length > 0 ? { match: `text : (${parts.join(' AND ')})`, phrases } : null;
  }

  put(message: { conversationId: string; seq: number; body: string }, oldBody?: string): void {
    const row = this.s.rowid.get(message.conversationId, message.seq);
    if (!row) return;
    this.s.remove.run(row.rowid);
    this.add(row.rowid, message.body, message.conversationId);
    if (oldBody) this.forget(oldBody);
  }

  remove(conversationId: string, seq: number, oldBody?: string): void {
    const row = this.s.rowid.get(conversationId, seq);
    if (row) this.s.remove.run(row.rowid);
    if (oldBody) this.forget(oldBody);
  }

  /**
   * A text left the index (deleted for everyone, or edited): its words leave search_words unless
   * another indexed message still has them, so no word of a deleted text stays in the file.
   */
  private forget(oldBody: string): void {
    const words = this.words(indexText(oldBody));
    for (const { term } of words) {
      const left = this.s.takeWord.get(term)?.docs;
      if (left === undefined || left > 0) continue;
      // The count says no text has it any more; the index has the last word (a count can only be
      // wrong high or low by a bug, and a word missing from the list would hide its matches).
      if (this.s.wordUsed.get(`text : "${term.replace(/"/g, '""')}"`)) this.s.setWord.run(1, term);
      else this.s.dropWord.run(term);
    }
    this.s.addStats.run(-1, -words.reduce((n, w) => n + w.cnt, 0));
  }

  async search(viewerId: string, query: SearchQuery): Promise<SearchResult[]> {
    const hydrate = this.hydrate;
    if (!hydrate) throw new Error('this SqliteSearch was built as an index only, without a way to read messages');
    const plan = this.plan(query.q);
    if (!plan) return [];
    const terms = plan.match;
    const conversations = query.conversationId
      ? [query.conversationId]
      : this.s.conversations.all(viewerId).map((r) => r.conversation_id);
    if (conversations.length === 0) return [];
    const match =
      conversations.length <= CONVERSATION_FILTER_MAX
        ? `${terms} AND conv : (${conversations.map(conversationToken).join(' OR ')})`
        : terms;
    const hits = this.s.search
      .all(viewerId, match, viewerId, Math.max(CANDIDATES, query.limit))
      .filter((h) => !query.conversationId || h.conversation_id === query.conversationId);
    const stats = this.s.stats.get() ?? { docs: 0, words: 0 };
    const ranked = hits
      .map((hit) => ({ hit, score: bm25(bodyWords(searchableText(hit.body, names(hit))), plan.phrases, stats) }))
      // Best match first; ties go to the newer message.
      .sort((a, b) => b.score - a.score || b.hit.rid - a.hit.rid);
    return hydrate(ranked.slice(0, query.limit).map((r) => r.hit)).map((message) => {
      const { snippet, highlights } = makeSnippet(searchableText(message.body, message.attachments), query.q);
      return { conversationId: message.conversationId, message, snippet, highlights };
    });
  }
}

/** The file names of a hit, for ranking (its attachments column holds JSON). */
function names(hit: MessageRow): { name: string }[] | null {
  return hit.attachments ? (JSON.parse(hit.attachments) as { name: string }[]) : null;
}

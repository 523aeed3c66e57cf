// Full-text search in SQLite: one contentless FTS5 index (unicode61, diacritics removed) over
// indexText() (CJK as bigrams) plus a `conv` token per message, kept in the same transaction as
// the message it indexes.
//
// Cost is bounded by what the viewer can see, not by the corpus: a viewer in a few conversations
// has the query limited to them inside the index; a viewer in many walks the matches newest first
// and stops after CANDIDATES visible ones. Those candidates are ranked by BM25, then by recency:
// "best match among the newest matches" (a chat search is mostly after recent messages).
import type { Message, SearchResult } from '@messenger/protocol';
import { conversationToken, indexText, makeSnippet, queryTerms } from '../../core/search/text.js';
import type { SearchQuery } from '../../core/store.js';
import type { Db } from './db.js';
import type { MessageIndex } from './messages.js';
import type { MessageRow } from './rows.js';

/** Up to this many conversations are named in the index query itself. */
const CONVERSATION_FILTER_MAX = 300;
const CANDIDATES = 200;
/** A prefix under more words than this stays a prefix query. */
const PREFIX_WORDS_MAX = 256;
const TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'";

type Hit = MessageRow & { score: number; rid: number };

export class SqliteSearch implements MessageIndex {
  private readonly s;
  /** Texts in the scratch table whose words are not in search_words yet (see flush). */
  private pending = 0;

  constructor(db: Db) {
    // The index's own tokenizer, on a one-row scratch table of this connection: the words it makes
    // of a text are exactly the words the index gets.
    db.exec(`
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_scratch USING fts5(text, ${TOKENIZE}, detail = none, content = '');
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_scratch_words USING fts5vocab(temp, search_scratch, row);
    `);
    this.s = {
      scratchPut: db.prepare('INSERT INTO temp.search_scratch (rowid, text) VALUES (?, ?)'),
      scratchWords: db.prepare<[], { term: string }>('SELECT term FROM temp.search_scratch_words'),
      scratchClear: db.prepare("INSERT INTO temp.search_scratch (search_scratch) VALUES ('delete-all')"),
      addWord: db.prepare('INSERT OR IGNORE INTO search_words (word) VALUES (?)'),
      dropWord: db.prepare('DELETE FROM search_words WHERE word = ?'),
      wordUsed: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM message_fts WHERE message_fts MATCH ? LIMIT 1'),
      wordsUnder: db.prepare<[string, string, number], { word: string }>('SELECT word FROM search_words WHERE word >= ? AND word < ? ORDER BY word LIMIT ?'),
      rowid: db.prepare<[string, number], { rowid: number }>('SELECT rowid FROM messages WHERE conversation_id = ? AND seq = ?'),
      remove: db.prepare('DELETE FROM message_fts WHERE rowid = ?'),
      insert: db.prepare('INSERT INTO message_fts (rowid, text, conv) VALUES (?, ?, ?)'),
      conversations: db.prepare<[string], { conversation_id: string }>('SELECT conversation_id FROM members WHERE user_id = ?'),
      // Matches newest first (FTS5 serves rowid DESC without sorting), visible ones only.
      search: db.prepare<[string, string, string, number], Hit>(
        `SELECT m.*, f.rowid AS rid, bm25(message_fts, 1.0, 0.0) AS score
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

  /** Adds the words of the texts indexed since the last call to search_words, in the same transaction. */
  flush(): void {
    if (this.pending === 0) return;
    for (const { term } of this.s.scratchWords.all()) this.s.addWord.run(term);
    this.s.scratchClear.run();
    this.pending = 0;
  }

  /** The words the index makes of `text`. */
  private words(text: string): string[] {
    this.flush();
    this.s.scratchPut.run(1, text);
    const words = this.s.scratchWords.all().map((r) => r.term);
    this.s.scratchClear.run();
    return words;
  }

  /**
   * The FTS5 query for `q`, each prefix spelled out as the words under it ("proj"* becomes
   * ("project" OR "projet")): FTS5 walks those newest first and stops, where a prefix would first
   * merge every occurrence of every such word. Same matches: search_words holds every indexed word.
   */
  private termsQuery(q: string): string | null {
    const parts = queryTerms(q).map((t) => {
      if (t.kind === 'phrase') return `"${t.tokens.join(' ').replace(/"/g, '')}"`;
      const prefix = `"${t.text.replace(/"/g, '')}"*`;
      const folded = this.words(t.text);
      if (folded.length !== 1) return prefix;
      const under = this.s.wordsUnder.all(folded[0]!, `${folded[0]!}\u{10FFFF}`, PREFIX_WORDS_MAX + 1).map((r) => r.word);
      if (under.length === 0 || under.length > PREFIX_WORDS_MAX || !under.every((w) => w.startsWith(folded[0]!))) return prefix;
      return `(${under.map((w) => `"${w.replace(/"/g, '""')}"`).join(' OR ')})`;
    });
    return parts.length > 0 ? `text : (${parts.join(' AND ')})` : null;
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
    for (const word of this.words(indexText(oldBody))) {
      if (!this.s.wordUsed.get(`text : "${word.replace(/"/g, '""')}"`)) this.s.dropWord.run(word);
    }
  }

  search(viewerId: string, query: SearchQuery, hydrate: (rows: MessageRow[]) => Message[]): SearchResult[] {
    const terms = this.termsQuery(query.q);
    if (!terms) return [];
    const conversations = query.conversationId ? [query.conversationId] : this.s.conversations.all(viewerId).map((r) => r.conversation_id);
    if (conversations.length === 0) return [];
    const match =
      conversations.length <= CONVERSATION_FILTER_MAX ? `${terms} AND conv : (${conversations.map(conversationToken).join(' OR ')})` : terms;
    const hits = this.s
      .search.all(viewerId, match, viewerId, Math.max(CANDIDATES, query.limit))
      .filter((h) => !query.conversationId || h.conversation_id === query.conversationId);
    // BM25 is lower-is-better in SQLite; ties go to the newer message.
    hits.sort((a, b) => a.score - b.score || b.rid - a.rid);
    return hydrate(hits.slice(0, query.limit)).map((message) => {
      const { snippet, highlights } = makeSnippet(message.body, query.q);
      return { conversationId: message.conversationId, message, snippet, highlights };
    });
  }
}

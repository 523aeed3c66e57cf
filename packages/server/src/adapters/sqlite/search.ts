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

function termsQuery(q: string): string | null {
  const parts = queryTerms(q).map((t) =>
    t.kind === 'prefix' ? `"${t.text.replace(/"/g, '')}"*` : `"${t.tokens.join(' ').replace(/"/g, '')}"`,
  );
  return parts.length > 0 ? `text : (${parts.join(' AND ')})` : null;
}

type Hit = MessageRow & { score: number; rid: number };

export class SqliteSearch implements MessageIndex {
  private readonly s;

  constructor(db: Db) {
    this.s = {
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
    if (body.length > 0) this.s.insert.run(rowid, indexText(body), conversationToken(conversationId));
  }

  put(message: { conversationId: string; seq: number; body: string }): void {
    const row = this.s.rowid.get(message.conversationId, message.seq);
    if (!row) return;
    this.s.remove.run(row.rowid);
    this.add(row.rowid, message.body, message.conversationId);
  }

  remove(conversationId: string, seq: number): void {
    const row = this.s.rowid.get(conversationId, seq);
    if (row) this.s.remove.run(row.rowid);
  }

  search(viewerId: string, query: SearchQuery, hydrate: (rows: MessageRow[]) => Message[]): SearchResult[] {
    const terms = termsQuery(query.q);
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

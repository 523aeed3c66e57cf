// Full-text search in SQLite: one contentless FTS5 index (unicode61, diacritics removed) over
// indexText() (CJK as bigrams), kept in the same transaction as the message it indexes.
import type { Message, SearchResult } from '@messenger/protocol';
import { indexText, makeSnippet, queryTerms } from '../../core/search/text.js';
import type { SearchQuery } from '../../core/store.js';
import type { Db } from './db.js';
import type { MessageIndex } from './messages.js';
import type { MessageRow } from './rows.js';

function ftsQuery(q: string): string | null {
  const parts = queryTerms(q).map((t) =>
    t.kind === 'prefix' ? `"${t.text.replace(/"/g, '')}"*` : `"${t.tokens.join(' ').replace(/"/g, '')}"`,
  );
  return parts.length > 0 ? parts.join(' AND ') : null;
}

export class SqliteSearch implements MessageIndex {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      rowid: db.prepare<[string, number], { rowid: number }>('SELECT rowid FROM messages WHERE conversation_id = ? AND seq = ?'),
      remove: db.prepare('DELETE FROM message_fts WHERE rowid = ?'),
      insert: db.prepare('INSERT INTO message_fts (rowid, text) VALUES (?, ?)'),
      search: db.prepare<[string, string, string, string | null, string | null, number], MessageRow & { score: number }>(
        `SELECT m.*, bm25(message_fts) AS score
           FROM message_fts f
           JOIN messages m ON m.rowid = f.rowid
           JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?
          WHERE message_fts MATCH ?
            AND m.seq > mb.joined_seq AND m.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ? AND h.conversation_id = m.conversation_id AND h.seq = m.seq)
            AND (? IS NULL OR m.conversation_id = ?)
          ORDER BY score ASC, m.created_at DESC
          LIMIT ?`,
      ),
    };
  }

  add(rowid: number, body: string): void {
    if (body.length > 0) this.s.insert.run(rowid, indexText(body));
  }

  put(message: { conversationId: string; seq: number; body: string }): void {
    const row = this.s.rowid.get(message.conversationId, message.seq);
    if (!row) return;
    this.s.remove.run(row.rowid);
    if (message.body.length > 0) this.s.insert.run(row.rowid, indexText(message.body));
  }

  remove(conversationId: string, seq: number): void {
    const row = this.s.rowid.get(conversationId, seq);
    if (row) this.s.remove.run(row.rowid);
  }

  search(viewerId: string, query: SearchQuery, hydrate: (rows: MessageRow[]) => Message[]): SearchResult[] {
    const match = ftsQuery(query.q);
    if (!match) return [];
    const conv = query.conversationId ?? null;
    const rows = this.s.search.all(viewerId, match, viewerId, conv, conv, query.limit);
    const messages = hydrate(rows);
    return messages.map((message) => {
      const { snippet, highlights } = makeSnippet(message.body, query.q);
      return { conversationId: message.conversationId, message, snippet, highlights } as SearchResult;
    });
  }
}

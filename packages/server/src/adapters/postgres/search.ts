// Full-text search in PostgreSQL: a tsvector per message, to_tsvector('simple', unaccent(lower(
// indexText(body)))), written with the body and GIN-indexed. Queries go through the same
// queryTerms() as SQLite: each word a prefix (:*), each CJK run a phrase of adjacent bigrams (<->).
import type { SearchResult } from '@messenger/protocol';
import { makeSnippet, queryTerms } from '../../core/search/text.js';
import type { SearchQuery } from '../../core/store.js';
import type { PgDb } from './pool.js';
import { MESSAGE_COLUMNS, notHiddenFor, toMessage, type MessageRow } from './rows.js';

/**
 * A SQL expression for a tsquery-syntax lexeme built from parameter `p`: folded like the index
 * (unaccent can yield quotes, e.g. ’ -> '), then quoted for to_tsquery.
 */
const lexeme = (p: string) => `'''' || replace(replace(messenger_unaccent(lower(${p}::text)), '\\', '\\\\'), '''', '''''') || ''''`;

/**
 * The to_tsquery('simple', ...) expression for `q` with its words as parameters numbered from
 * `first`, or null when `q` has no searchable words. Operators are fixed text; only words are data.
 */
export function tsQuery(q: string, first: number): { sql: string; params: string[] } | null {
  const params: string[] = [];
  const param = (word: string) => {
    params.push(word.toLowerCase());
    return lexeme(`$${first + params.length - 1}`);
  };
  const parts = queryTerms(q).map((t) =>
    t.kind === 'prefix' ? `${param(t.text)} || ':*'` : t.tokens.map(param).join(` || ' <-> ' || `),
  );
  if (parts.length === 0) return null;
  return { sql: `to_tsquery('simple', ${parts.map((p) => `'(' || ${p} || ')'`).join(` || ' & ' || `)})`, params };
}

export class PostgresSearch {
  private readonly db: PgDb;

  constructor(db: PgDb) {
    this.db = db;
  }

  /** Only what the viewer can see (member, after joining, not deleted, not hidden): best match, then newest. */
  async search(viewerId: string, query: SearchQuery): Promise<SearchResult[]> {
    const inConversation = query.conversationId !== undefined;
    const params: unknown[] = [viewerId, query.limit];
    if (inConversation) params.push(query.conversationId);
    const tsq = tsQuery(query.q, params.length + 1);
    if (!tsq) return [];
    params.push(...tsq.params);
    const rows = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS}
         FROM (SELECT ${tsq.sql} AS q) query
         JOIN messages m ON m.search @@ query.q
         JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = $1
        WHERE m.seq > mb.joined_seq AND m.deleted_at IS NULL AND ${notHiddenFor('$1')}
          ${inConversation ? 'AND m.conversation_id = $3' : ''}
        ORDER BY ts_rank(m.search, query.q) DESC, m.created_at DESC
        LIMIT $2`,
      params,
    );
    return rows.map((row) => {
      const message = toMessage(row);
      const { snippet, highlights } = makeSnippet(message.body, query.q);
      return { conversationId: message.conversationId, message, snippet, highlights };
    });
  }
}

// Full-text search in PostgreSQL: a tsvector per message, to_tsvector('simple', unaccent(lower(
// indexText(body)))), written with the body and GIN-indexed. Queries go through the same
// queryTerms() as SQLite: each word a prefix (:*), each CJK run a phrase of adjacent bigrams (<->).
import type { SearchResult } from '@messenger/protocol';
import { makeSnippet, queryTerms } from '../../core/search/text.js';
import type { SearchQuery } from '../../core/store.js';
import type { PoolClient } from 'pg';
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

/** At most this many of the newest visible matches are ranked (as in SQLite). */
const CANDIDATES = 200;
/** A viewer in up to this many conversations is searched conversation by conversation. */
const CONVERSATION_PROBE_MAX = 50;
/**
 * Otherwise matches are looked for in the last FIRST_WINDOW_DAYS days first, and the window widens
 * (by what the last one yielded, at most 8x) until it holds CANDIDATES visible ones. A window is
 * only a lower bound on the day (btree_gin would match an upper bound against every older day),
 * and it costs what the days in it hold, so a rare query (fewer than SPARSE matches a year, going
 * by the last window) or one that would need more than MAX_WINDOW_DAYS drops the bound instead:
 * then it costs what it matches.
 */
const FIRST_WINDOW_DAYS = 1;
const SPARSE = 20_000;
const YEAR_DAYS = 365;
/** A wider window costs more than fetching every match of all but the commonest words. */
const MAX_WINDOW_DAYS = 16;

/** A prefix under more words than this stays a prefix match. */
const PREFIX_WORDS_MAX = 256;
/** A prefix item in tsquery text: 'word':* (quotes doubled, backslashes escaped). */
const PREFIX_ITEM = /'((?:[^'\\]|''|\\.)*)':\*/g;
const unquote = (s: string) => s.replace(/''/g, "'").replace(/\\(.)/g, '$1');
const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

interface Candidate {
  conversation_id: string;
  seq: string;
  score: number;
  /** Matches in the window, visible or not. */
  hits: string;
}

// Fixed statement texts (the query arrives as a tsquery parameter), so each connection prepares
// them once and plans them once: planning over the partitions costs more than running them.

/** $1 viewer, $2 limit, $3 conversation or null, $4 tsquery: the viewer's chats one by one (LATERAL), newest matches of each. */
const BY_CONVERSATION = `
  SELECT c.conversation_id, c.seq, ts_rank(c.search, $4::tsquery) AS score FROM (
    SELECT m.conversation_id, m.seq, m.search, m.created_at
      FROM members mb
     CROSS JOIN LATERAL (
       SELECT m.conversation_id, m.seq, m.search, m.created_at FROM messages m
        WHERE m.conversation_id = mb.conversation_id AND m.search @@ $4::tsquery
          AND m.seq > mb.joined_seq AND m.deleted_at IS NULL AND ${notHiddenFor('$1')}
        ORDER BY m.created_at DESC LIMIT $2
     ) m
     WHERE mb.user_id = $1 AND ($3::text IS NULL OR mb.conversation_id = $3::text)
     ORDER BY m.created_at DESC LIMIT $2
  ) c`;

/** $1 viewer, $2 limit, $3 first day (messenger_day) or null, $4 tsquery: matches in the window first, then who may see them. */
const byWindow = (bounded: boolean) => `
  WITH hits AS MATERIALIZED (
    SELECT m.conversation_id, m.seq, m.search, m.created_at FROM messages m
     WHERE m.search @@ $4::tsquery AND m.deleted_at IS NULL
       AND ${bounded ? 'messenger_day(m.created_at) >= $3::integer' : '$3::integer IS NULL'}
  )
  SELECT c.conversation_id, c.seq, ts_rank(c.search, $4::tsquery) AS score, (SELECT count(*) FROM hits) AS hits FROM (
    SELECT m.conversation_id, m.seq, m.search, m.created_at
      FROM hits m JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = $1
     WHERE m.seq > mb.joined_seq AND ${notHiddenFor('$1')}
     ORDER BY m.created_at DESC LIMIT $2
  ) c`;
const BY_WINDOW = byWindow(true);
const BY_ALL = byWindow(false);

const ROWS = `
  SELECT ${MESSAGE_COLUMNS}
    FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS k(conversation_id, seq, ord)
    JOIN messages m ON m.conversation_id = k.conversation_id AND m.seq = k.seq
   ORDER BY k.ord`;

export class PostgresSearch {
  private readonly db: PgDb;

  constructor(db: PgDb) {
    this.db = db;
  }

  /**
   * Only what the viewer can see (member, after joining, not deleted, not hidden). The newest
   * CANDIDATES visible matches are ranked, best match first, then newest: "best match among the
   * newest matches", so the cost follows the viewer's chats and recent matches, not how often the
   * words occur in the whole corpus.
   */
  async search(viewerId: string, query: SearchQuery): Promise<SearchResult[]> {
    const tsq = tsQuery(query.q, 2);
    if (!tsq) return [];
    const want = Math.max(CANDIDATES, query.limit);
    const conversationId = query.conversationId ?? null;
    const rows = await this.db.tx(async (client) => {
      // Short indexed reads: JIT compilation and parallel workers cost more than they save here,
      // and a generic plan is right for every viewer of a statement shape.
      await client.query('SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL plan_cache_mode = force_generic_plan');
      const { rows: [head] } = await client.query<{ q: string; chats: string }>(
        `SELECT ${tsq.sql}::text AS q, (SELECT count(*) FROM members WHERE user_id = $1) AS chats`,
        [viewerId, ...tsq.params],
      );
      if (!head) return [];
      const tsquery = await expandPrefixes(client, head.q);
      let candidates: Candidate[] = [];
      if (conversationId !== null || Number(head.chats) <= CONVERSATION_PROBE_MAX) {
        ({ rows: candidates } = await client.query<Candidate>({ name: 'messenger.search.conversations', text: BY_CONVERSATION, values: [viewerId, want, conversationId, tsquery] }));
      } else {
        const today = Math.floor(Date.now() / 86_400_000);
        for (let days: number | null = FIRST_WINDOW_DAYS; ; ) {
          const [name, text] = days === null ? ['messenger.search.all', BY_ALL] : ['messenger.search.window', BY_WINDOW];
          ({ rows: candidates } = await client.query<Candidate>({ name, text, values: [viewerId, want, days === null ? null : today - days, tsquery] }));
          if (candidates.length >= want || days === null) break;
          const hits = Number(candidates[0]?.hits ?? 0);
          const next: number = Math.ceil(days * Math.min(8, Math.max(2, (1.5 * want) / Math.max(1, candidates.length))));
          days = next > MAX_WINDOW_DAYS || (hits * YEAR_DAYS) / days < SPARSE ? null : next;
        }
      }
      // Best rank first (higher is better in PostgreSQL); the sort is stable, so ties stay newest first.
      candidates.sort((a, b) => b.score - a.score);
      const top = candidates.slice(0, query.limit);
      if (top.length === 0) return [];
      const { rows: full } = await client.query<MessageRow>({
        name: 'messenger.search.rows',
        text: ROWS,
        values: [top.map((c) => c.conversation_id), top.map((c) => c.seq)],
      });
      return full;
    });
    return rows.map((row) => {
      const message = toMessage(row);
      const { snippet, highlights } = makeSnippet(message.body, query.q);
      return { conversationId: message.conversationId, message, snippet, highlights };
    });
  }
}

/**
 * The same query with each prefix item spelled out as the words under it ('cafe':* becomes
 * ( 'cafe' | 'cafes' )), which GIN intersects entry by entry instead of collecting every
 * occurrence of every such word first. Same matches: search_lexemes holds every indexed word.
 */
export async function expandPrefixes(client: PoolClient, q: string): Promise<string> {
  const prefixes = [...new Set([...q.matchAll(PREFIX_ITEM)].map((m) => unquote(m[1]!)))];
  if (prefixes.length === 0) return q;
  const { rows } = await client.query<{ prefix: string; words: string[] }>({
    name: 'messenger.search.prefixes',
    text: `SELECT p.prefix, ARRAY(SELECT lexeme FROM search_lexemes
                                    WHERE lexeme >= p.prefix AND lexeme < p.prefix || U&'\\+10FFFF' ORDER BY lexeme LIMIT $2) AS words
             FROM unnest($1::text[]) AS p(prefix)`,
    values: [prefixes, PREFIX_WORDS_MAX + 1],
  });
  const words = new Map(rows.map((r) => [r.prefix, r.words.filter((w) => w.startsWith(r.prefix))]));
  return q.replace(PREFIX_ITEM, (item, raw: string) => {
    const under = words.get(unquote(raw));
    if (!under || under.length === 0 || under.length > PREFIX_WORDS_MAX) return item;
    return `( ${under.map(quote).join(' | ')} )`;
  });
}

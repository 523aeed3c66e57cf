// Full-text search in PostgreSQL: a tsvector per message, to_tsvector('simple', unaccent(lower(
// indexText(body)))), written with the body and GIN-indexed. Queries go through the same
// queryTerms() as SQLite: each word a prefix (:*), each CJK run a phrase of adjacent bigrams (<->).
import type { SearchResult } from '@messenger/protocol';
import { makeSnippet, queryTerms, searchableText } from '../../core/search/text.js';
import type { MessageSearch, SearchQuery } from '../../core/messages/message-search.js';
import type { PoolClient } from 'pg';
import type { PgDb } from './pool.js';
import { MESSAGE_COLUMNS, notHiddenFor, toMessage, type MessageRow } from './rows.js';

/**
 * A SQL expression for a tsquery-syntax lexeme built from parameter `p`: folded like the index
 * (unaccent can yield quotes, e.g. ’ -> '), then quoted for to_tsquery.
 */
const lexeme = (p: string) =>
  `'''' || replace(replace(messenger_unaccent(lower(${p}::text)), '\\', '\\\\'), '''', '''''') || ''''`;

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
 * Otherwise matches are looked for newest first, in windows of whole days that do not overlap:
 * first the last FIRST_WINDOW_DAYS days and later ones, then older windows sized by the rate of
 * visible matches so far, until CANDIDATES visible ones are found.
 *
 * GIN intersects day entries with the words by walking every message of those days, and a lower
 * bound on the day (btree_gin collects every later day's entries) costs every day after it. So a
 * window of the last SHORT_WINDOW_DAYS days is still such a lower bound, the days since being
 * few; another one is spelled as whole spans of SPAN_DAYS days (messenger_span, in the index since
 * migration 5), probed one by one: a probe costs about as much as three days' walk but covers 16.
 * (Probes of single days cost a probe each, and one per word a prefix stands for.) The window's
 * exact bounds are a filter on created_at, which no index column serves, so the planner cannot
 * turn them into a range over every older day.
 *
 * A window holds at most WINDOW_SPANS_MAX spans, so a rate guessed from a few matches cannot make
 * it much wider than needed. A query with fewer than SPARSE matches a year (going by the windows
 * so far), or one that would need more than MAX_SPANS spans in all, takes the rest without a
 * window: it costs what it matches.
 */
const FIRST_WINDOW_DAYS = 1;
const SPAN_DAYS = 16;
const SHORT_WINDOW_DAYS = 6;
const MAX_SPANS = 12;
/** One window takes at most this many spans: the rate it was sized by may rest on a handful of matches. */
const WINDOW_SPANS_MAX = 3;
const SPARSE = 2_500;
const YEAR_DAYS = 365;
const DAY_MS = 86_400_000;
/** Windows are sized for this many times the visible matches still wanted, at the rate seen so far. */
const WINDOW_MARGIN = 1.3;

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
  created_at: Date;
  /** Matches in the window, visible or not (windowed statements only). */
  hits?: string;
}

// Fixed statement texts (the query arrives as a tsquery parameter), so each connection prepares
// them once and plans them once: planning over the partitions costs more than running them.

/** $1 viewer, $2 limit, $3 conversation or null, $4 tsquery: the viewer's chats one by one (LATERAL), newest matches of each. */
const BY_CONVERSATION = `
  SELECT c.conversation_id, c.seq, ts_rank(c.search, $4::tsquery) AS score, c.created_at FROM (
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

/**
 * The newest $2 visible matches among `hits` (conversation_id, seq, search, created_at), each with
 * the count of hits; one row with a null conversation_id when none is visible, for the count.
 */
const visibleOf = `
  SELECT c.conversation_id, c.seq, ts_rank(c.search, $4::tsquery) AS score, c.created_at, h.hits
    FROM (SELECT count(*) AS hits FROM hits) h
    LEFT JOIN LATERAL (
      SELECT m.conversation_id, m.seq, m.search, m.created_at
        FROM hits m JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = $1
       WHERE m.seq > mb.joined_seq AND ${notHiddenFor('$1')}
       ORDER BY m.created_at DESC LIMIT $2
    ) c ON true
   ORDER BY c.created_at DESC`;

/** $1 viewer, $2 limit, $3 first day (messenger_day), $4 tsquery: the newest window, day $3 and later. */
const BY_RECENT = `
  WITH hits AS MATERIALIZED (
    SELECT m.conversation_id, m.seq, m.search, m.created_at FROM messages m
     WHERE m.search @@ $4::tsquery AND m.deleted_at IS NULL AND messenger_day(m.created_at) >= $3::integer
  )${visibleOf}`;

/**
 * $1 viewer, $2 limit, $3 first day or null, $4 tsquery, $5 spans, $6 from, $7 until: an older
 * window [$6, $7), found through the days from $3 on, or through the spans $5 that cover it.
 */
const BY_PROBES = `
  WITH hits AS MATERIALIZED (
    SELECT m.conversation_id, m.seq, m.search, m.created_at FROM messages m
     WHERE m.search @@ $4::tsquery AND m.deleted_at IS NULL
       AND (messenger_day(m.created_at) >= $3::integer OR messenger_span(m.created_at) = ANY($5::integer[]))
       AND m.created_at >= $6::timestamptz AND m.created_at < $7::timestamptz
  )${visibleOf}`;

/** $1 viewer, $2 limit, $3 until, $4 tsquery: every match before $3, no window. */
const BY_REST = `
  WITH hits AS MATERIALIZED (
    SELECT m.conversation_id, m.seq, m.search, m.created_at FROM messages m
     WHERE m.search @@ $4::tsquery AND m.deleted_at IS NULL AND m.created_at < $3::timestamptz
  )${visibleOf}`;

/**
 * How to find the window of days [from, until): from its first day on when that is one of the last
 * SHORT_WINDOW_DAYS days before `today`, else through the spans that cover it. `from` is moved down
 * to where the spans start, so the window holds everything they find.
 */
export function windowProbes(
  from: number,
  until: number,
  today: number,
): { after: number | null; spans: number[]; from: number } {
  if (today - from <= SHORT_WINDOW_DAYS) return { after: from, spans: [], from };
  const spans: number[] = [];
  for (let span = Math.floor((until - 1) / SPAN_DAYS); ; span--) {
    spans.push(span);
    if (span * SPAN_DAYS <= from) return { after: null, spans, from: span * SPAN_DAYS };
  }
}

const ROWS = `
  SELECT ${MESSAGE_COLUMNS}
    FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS k(conversation_id, seq, ord)
    JOIN messages m ON m.conversation_id = k.conversation_id AND m.seq = k.seq
   ORDER BY k.ord`;

export class PostgresSearch implements MessageSearch {
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
      // and a generic plan is right for every viewer of a statement shape. Set for the rest of the
      // transaction (SET LOCAL) by the first statement, which saves a round trip.
      const {
        rows: [head],
      } = await client.query<{ q: string; chats: string }>(
        `SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true),
                set_config('plan_cache_mode', 'force_generic_plan', true),
                ${tsq.sql}::text AS q, (SELECT count(*) FROM members WHERE user_id = $1) AS chats`,
        [viewerId, ...tsq.params],
      );
      if (!head) return [];
      const tsquery = await expandPrefixes(client, head.q);
      let candidates: Candidate[];
      if (conversationId !== null || Number(head.chats) <= CONVERSATION_PROBE_MAX) {
        ({ rows: candidates } = await client.query<Candidate>({
          name: 'messenger.search.conversations',
          text: BY_CONVERSATION,
          values: [viewerId, want, conversationId, tsquery],
        }));
      } else {
        candidates = await newestVisible(client, viewerId, want, tsquery, Date.now());
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
      const { snippet, highlights } = makeSnippet(searchableText(message.body, message.attachments), query.q);
      return { conversationId: message.conversationId, message, snippet, highlights };
    });
  }
}

/**
 * The newest `want` visible matches of `tsquery` for a viewer in many chats, newest first: windows
 * of days going back from `now`, each after the last, until they hold `want` (see BY_PROBES).
 */
async function newestVisible(
  client: PoolClient,
  viewerId: string,
  want: number,
  tsquery: string,
  now: number,
): Promise<Candidate[]> {
  const today = Math.floor(now / DAY_MS);
  let until = today - FIRST_WINDOW_DAYS;
  const window = async (name: string, text: string, values: unknown[]) => {
    const { rows } = await client.query<Candidate>({ name, text, values });
    hits += Number(rows[0]?.hits ?? 0);
    found.push(...rows.filter((r) => r.conversation_id !== null));
  };
  const found: Candidate[] = [];
  let hits = 0;
  await window('messenger.search.recent', BY_RECENT, [viewerId, want, until, tsquery]);
  // What the windows so far covered, for the rates: days (today counts as the part that has passed), visible matches, all matches.
  let days = FIRST_WINDOW_DAYS + (now - today * DAY_MS) / DAY_MS;
  let spans = 0;
  while (found.length < want) {
    const missing = want - found.length;
    if ((hits * YEAR_DAYS) / days < SPARSE) break;
    // Visible matches a day so far; with none yet, assume one in ten of all matches is visible.
    const rate = Math.max(found.length, hits / 10) / days;
    const wanted = Math.min(WINDOW_SPANS_MAX * SPAN_DAYS, Math.max(1, Math.ceil((WINDOW_MARGIN * missing) / rate)));
    const probes = windowProbes(until - wanted, until, today);
    spans += probes.spans.length;
    if (spans > MAX_SPANS) break;
    await window('messenger.search.probes', BY_PROBES, [
      viewerId,
      missing,
      probes.after,
      tsquery,
      probes.spans,
      new Date(probes.from * DAY_MS),
      new Date(until * DAY_MS),
    ]);
    days += until - probes.from;
    until = probes.from;
  }
  if (found.length < want) {
    await window('messenger.search.rest', BY_REST, [viewerId, want - found.length, new Date(until * DAY_MS), tsquery]);
  }
  return found;
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

// Conversations as their viewers see them in PostgreSQL: one chat, one chat for each of its
// viewers, and the chat list (GetChats).
// A page of chats costs two queries whatever its size: the page with each chat's last visible message
// and unread count (LATERAL), then the members of all its chats. The page itself is a range of
// members_by_activity: each member row carries the minute of its chat's last activity (migration 7).
import type { Conversation, ConversationsResponse, Member } from '@messenger/protocol';
import { avatarPath } from '../../core/media/attachments.js';
import type { RequestState } from '../../core/conversations/member-standing.js';
import { unavailable } from '../../domain/errors.js';
import { decodeCursor, encodeCursor } from '../sql/cursor.js';
import { isUnavailable, type PgDb } from './pool.js';
import { MESSAGE_COLUMNS, notHiddenFor, toMessage, type MessageRow } from './rows.js';

type Nullable<T> = { [K in keyof T]: T[K] | null };

type ViewRow = Nullable<MessageRow> & {
  conv_viewer: string;
  conv_id: string;
  conv_kind: 'direct' | 'group';
  conv_title: string | null;
  conv_created_at: Date;
  conv_last_seq: string;
  /** last_activity_at to the microsecond, for the cursor. */
  conv_cursor_at: string;
  conv_muted: boolean;
  conv_request: RequestState;
  conv_members_can_add: boolean;
  conv_avatar_upload_id: string | null;
  unread: number;
};

interface MemberRow {
  conversation_id: string;
  user_id: string;
  username: string;
  display_name: string;
  avatar_upload_id: string | null;
  read_seq: string;
  delivered_seq: string;
  joined_seq: string;
  role: 'admin' | 'member';
  request_state: RequestState;
}

/**
 * Conversations as their viewers see them: `page` selects (conversation, viewer) rows with the
 * viewer's membership columns, `viewer` names the viewer in the rest of the statement.
 */
const viewSql = (o: { page: string; viewer: string; order: string }) => `
  WITH page AS (${o.page})
  SELECT p.viewer AS conv_viewer, p.id AS conv_id, p.kind AS conv_kind, p.title AS conv_title, p.created_at AS conv_created_at,
         p.last_seq AS conv_last_seq, p.muted AS conv_muted, p.request_state AS conv_request,
         p.members_can_add AS conv_members_can_add, p.avatar_upload_id AS conv_avatar_upload_id,
         to_char(p.last_activity_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS conv_cursor_at,
         lm.*, unread.n AS unread
    FROM page p
    LEFT JOIN LATERAL (
      SELECT ${MESSAGE_COLUMNS} FROM messages m
       WHERE m.conversation_id = p.id AND m.seq > p.joined_seq AND ${notHiddenFor(o.viewer)}
       ORDER BY m.seq DESC LIMIT 1
    ) lm ON true
    CROSS JOIN LATERAL (
      -- At most last_seq - read_seq messages can be unread (seqs are dense and never above last_seq);
      -- the LIMIT says so to the planner, whose guess would otherwise be a third of the chat for
      -- every row of the page (and a JIT compile of a query that runs in milliseconds).
      SELECT count(*)::int AS n FROM (
        SELECT 1 FROM messages m
         WHERE m.conversation_id = p.id AND m.seq > GREATEST(p.read_seq, p.joined_seq)
           AND m.sender_id <> ${o.viewer} AND m.deleted_at IS NULL AND ${notHiddenFor(o.viewer)}
         LIMIT GREATEST(p.last_seq - GREATEST(p.read_seq, p.joined_seq), 0)
      ) u
    ) unread
   ${o.order}`;

/** A viewer's chats, with the viewer's membership columns. */
const CHATS = `SELECT c.id, c.kind, c.title, c.created_at, c.last_seq, c.last_activity_at, c.members_can_add, c.avatar_upload_id,
                      me.user_id AS viewer, me.joined_seq, me.read_seq, me.muted, me.request_state
                 FROM members me JOIN conversations c ON c.id = me.conversation_id`;

/**
 * $1 viewer, $3 cursor time, $4 cursor id, $5 request state (accepted: the chat list, pending: the
 * requests): the viewer's chats after the cursor (no cursor: all),
 * through members_by_activity from the cursor's minute down. '' sorts below any id, so without a
 * cursor the bound is (t, id) < ('infinity', ''), true for every finite t.
 */
const AFTER_CURSOR = `me.user_id = $1 AND me.request_state = $5 AND me.active_minute <= COALESCE(messenger_minute($3::timestamptz), 2147483647)
   AND (c.last_activity_at, c.id) < (COALESCE($3::timestamptz, 'infinity'), COALESCE($4::text, ''))`;

// $1 viewer, $2 limit, $3 cursor time or null, $4 cursor id or null, $5 request state. The $2-th chat after the cursor
// in minute order gives the oldest minute the page can reach; the chats from there up are ordered by
// their exact activity. So a page reads about $2 chats twice, whatever the viewer's number of chats.
// The page is cut first, so the LATERALs run only for the chats shown.
const PAGE = viewSql({
  page: `${CHATS}
          WHERE ${AFTER_CURSOR}
            AND me.active_minute >= COALESCE((
                  SELECT me.active_minute FROM members me JOIN conversations c ON c.id = me.conversation_id
                   WHERE ${AFTER_CURSOR}
                   ORDER BY me.active_minute DESC OFFSET $2 - 1 LIMIT 1), -2147483648)
          ORDER BY c.last_activity_at DESC, c.id DESC
          LIMIT $2`,
  viewer: '$1',
  order: 'ORDER BY p.last_activity_at DESC, p.id DESC',
});

// $1 viewer, $2 limit (1), $3 conversation.
const ONE = viewSql({
  page: `${CHATS} WHERE me.user_id = $1 AND me.conversation_id = $3 LIMIT $2`,
  viewer: '$1',
  order: '',
});

// $1 conversation, $2 viewers: one conversation as each of them sees it, in one statement.
const FOR_VIEWERS = viewSql({
  page: `${CHATS} WHERE me.conversation_id = $1 AND me.user_id = ANY($2::text[])`,
  viewer: 'p.viewer',
  order: '',
});

export class PostgresChatViews {
  constructor(private readonly db: PgDb) {}

  async conversation(conversationId: string, viewerId: string): Promise<Conversation | null> {
    const rows = await this.db.query<ViewRow>(ONE, [viewerId, 1, conversationId], 'messenger.chats.one');
    const [view] = await this.toViews(rows);
    return view ?? null;
  }

  /** Two statements whatever the number of viewers (not one view, and one member list, per viewer). */
  async conversationViews(conversationId: string, viewerIds: string[]): Promise<Map<string, Conversation>> {
    if (viewerIds.length === 0) return new Map();
    // Named, so that each connection soon keeps a generic plan: planning the LATERALs over every
    // partition took 2-3 ms, against 0.5 ms for the whole statement with the plan kept.
    const rows = await this.db.query<ViewRow>(FOR_VIEWERS, [conversationId, viewerIds], 'messenger.chats.for-viewers');
    const views = await this.toViews(rows, { keepPlaces: true });
    const out = new Map<string, Conversation>();
    views.forEach((view, i) => {
      if (view) out.set(rows[i]!.conv_viewer, view);
    });
    return out;
  }

  async conversations(
    viewerId: string,
    limit: number,
    cursor: string | null,
    requests = false,
  ): Promise<ConversationsResponse> {
    let after: [string, string] | [null, null] = [null, null];
    if (cursor) {
      const parts = decodeCursor(cursor);
      if (parts && typeof parts[0] === 'string' && !Number.isNaN(Date.parse(parts[0])) && typeof parts[1] === 'string')
        after = [parts[0], parts[1]];
    }
    const rows = await this.pageRows(viewerId, limit + 1, after, requests ? 'pending' : 'accepted');
    const more = rows.length > limit;
    const shown = more ? rows.slice(0, limit) : rows;
    const last = shown[shown.length - 1];
    return {
      conversations: await this.toViews(shown),
      nextCursor: more && last ? encodeCursor([last.conv_cursor_at, last.conv_id]) : null,
    };
  }

  /**
   * The page query as a named statement: each connection plans it a few times, then keeps the
   * generic plan (planning the LATERALs over every partition costs more than running them).
   */
  private async pageRows(
    viewerId: string,
    limit: number,
    after: [string, string] | [null, null],
    state: RequestState,
  ): Promise<ViewRow[]> {
    try {
      return (
        await this.db.pool.query<ViewRow>({
          name: 'messenger.chats.page',
          text: PAGE,
          values: [viewerId, limit, after[0], after[1], state],
        })
      ).rows;
    } catch (err) {
      throw isUnavailable(err) ? unavailable() : err;
    }
  }

  /**
   * Adds the members of every chat in one query; a chat whose member list lacks the viewer is dropped.
   * Rows whose viewer is not a member (any more) are dropped, so the result can be shorter than
   * `rows`; with `keepPlaces` they are null instead, so the result lines up with `rows`.
   */
  private async toViews(rows: ViewRow[]): Promise<Conversation[]>;
  private async toViews(rows: ViewRow[], opts: { keepPlaces: true }): Promise<(Conversation | null)[]>;
  private async toViews(rows: ViewRow[], opts?: { keepPlaces: true }): Promise<(Conversation | null)[]> {
    if (rows.length === 0) return [];
    // Index probes per chat and per member (fenced LATERALs) whatever the statistics: without them
    // a join over = ANY was planned as a scan of every member and user row.
    const memberRows = await this.db.query<MemberRow>(
      `SELECT m.conversation_id, m.user_id, u.username, u.display_name, u.avatar_upload_id, m.read_seq, m.delivered_seq, m.joined_seq,
              m.role, m.request_state
         FROM unnest($1::text[]) AS q(id)
         CROSS JOIN LATERAL (SELECT * FROM members m WHERE m.conversation_id = q.id OFFSET 0) m
         CROSS JOIN LATERAL (SELECT u.username, u.display_name, u.avatar_upload_id FROM users u WHERE u.id = m.user_id OFFSET 0) u
        ORDER BY m.conversation_id, m.joined_seq, m.joined_at, m.user_id`,
      [[...new Set(rows.map((r) => r.conv_id))]],
      'messenger.chats.members',
    );
    const members = new Map<string, MemberRow[]>();
    for (const m of memberRows) {
      const list = members.get(m.conversation_id) ?? [];
      list.push(m);
      members.set(m.conversation_id, list);
    }
    const views = rows.map((row): Conversation | null => {
      const memberList = members.get(row.conv_id) ?? [];
      if (!memberList.some((m) => m.user_id === row.conv_viewer)) return null;
      const list = memberList.map((m): Member => {
        // The receipts of a member who has not accepted the chat stay theirs (the contract's requests).
        const shown = m.user_id === row.conv_viewer || m.request_state === 'accepted';
        return {
          userId: m.user_id,
          username: m.username,
          displayName: m.display_name,
          avatarUrl: avatarPath(m.avatar_upload_id),
          readSeq: Number(shown ? m.read_seq : m.joined_seq),
          deliveredSeq: Number(shown ? m.delivered_seq : m.joined_seq),
          role: m.role,
        };
      });
      return {
        id: row.conv_id,
        kind: row.conv_kind,
        title: row.conv_title,
        members: list,
        createdAt: row.conv_created_at.toISOString(),
        lastSeq: Number(row.conv_last_seq),
        lastMessage: row.id === null ? null : toMessage(row as MessageRow),
        unreadCount: row.unread,
        muted: row.conv_muted,
        request: row.conv_request !== 'accepted',
        membersCanAdd: row.conv_members_can_add,
        avatarUrl: avatarPath(row.conv_avatar_upload_id),
      };
    });
    return opts?.keepPlaces ? views : views.filter((v): v is Conversation => v !== null);
  }
}

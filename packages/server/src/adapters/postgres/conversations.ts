// Conversations and members in PostgreSQL: creation, membership, contacts and settings; how viewers
// see them (the chat list) is PostgresChatViews.
import type { Conversation, ConversationsResponse } from '@messenger/protocol';
import DataLoader from 'dataloader';
import { AppError } from '../../domain/errors.js';
import type { ConversationStore, Membership, NewConversation } from '../../core/conversations/conversation-store.js';
import type { MemberStanding, RequestState } from '../../core/conversations/member-standing.js';
import { PostgresChatViews } from './chat-views.js';
import { PostgresCreates } from './creates.js';
import { BATCHED_READS, type PgDb, WINDOWED_READS } from './pool.js';
import type { SendReads } from './send-reads.js';

/** How long a membership read may stand in for the database while it is unreachable. */
const LAST_KNOWN_MS = 10 * 60_000;
const LAST_KNOWN_MAX = 200_000;

export class PostgresConversations implements ConversationStore, MemberStanding {
  private readonly db: PgDb;
  private readonly reads: SendReads;

  private readonly creates: PostgresCreates;
  private readonly views: PostgresChatViews;

  constructor(db: PgDb, reads: SendReads) {
    this.db = db;
    this.reads = reads;
    this.creates = new PostgresCreates(db);
    this.views = new PostgresChatViews(db);
  }

  /** See PostgresCreates: the creates of a few milliseconds share one statement. */
  async createConversation(conv: NewConversation): Promise<{ id: string; created: boolean }> {
    return this.creates.create(conv);
  }

  /**
   * Each new member joins after the conversation's current last seq, with the minute of its current
   * activity; returns who was added, in the order asked. FOR SHARE waits for a message write that
   * holds the conversation and reads its result; one that comes meanwhile waits for this insert,
   * then sees the new rows (PostgresMessages locks the chats before it writes).
   */
  async addMembers(conversationId: string, userIds: string[], pending: string[] = []): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db.query<{ user_id: string }>(
      `WITH c AS (SELECT last_seq, messenger_minute(last_activity_at) AS active_minute FROM conversations WHERE id = $1 FOR SHARE)
       INSERT INTO members (conversation_id, user_id, joined_seq, read_seq, delivered_seq, active_minute, request_state)
       SELECT $1, u.id, s.last_seq, s.last_seq, s.last_seq, s.active_minute,
              CASE WHEN u.id = ANY($3::text[]) THEN 'pending' ELSE 'accepted' END
         FROM unnest($2::text[]) AS u(id),
              (SELECT COALESCE((SELECT last_seq FROM c), 0) AS last_seq,
                      COALESCE((SELECT active_minute FROM c), 0) AS active_minute) s
       ON CONFLICT DO NOTHING RETURNING user_id`,
      [conversationId, userIds, pending],
    );
    const added = new Set(rows.map((r) => r.user_id));
    return userIds.filter((id) => added.delete(id));
  }

  async removeMember(conversationId: string, userId: string): Promise<boolean> {
    this.lastKnown.delete(`${conversationId} ${userId}`);
    const rows = await this.db.query('DELETE FROM members WHERE conversation_id = $1 AND user_id = $2 RETURNING 1', [
      conversationId,
      userId,
    ]);
    return rows.length > 0;
  }

  /**
   * Memberships as last read, to answer while PostgreSQL is unreachable: sends keep being accepted
   * into the log (which the persister drains once the database is back) for members this process
   * saw recently. An entry is at most LAST_KNOWN_MS old and is dropped as soon as a read says "not a
   * member"; memberships cannot change while the database is down (that change needs it).
   */
  private readonly lastKnown = new Map<string, { membership: Membership; at: number }>();

  async membership(conversationId: string, userId: string): Promise<Membership | null> {
    const key = `${conversationId} ${userId}`;
    try {
      const found = await this.reads.membership(conversationId, userId);
      this.lastKnown.delete(key);
      if (found) {
        if (this.lastKnown.size >= LAST_KNOWN_MAX) this.lastKnown.delete(this.lastKnown.keys().next().value!);
        this.lastKnown.set(key, { membership: found, at: Date.now() });
      }
      return found;
    } catch (error) {
      const known = this.lastKnown.get(key);
      if (known && error instanceof AppError && error.code === 'unavailable' && Date.now() - known.at <= LAST_KNOWN_MS)
        return known.membership;
      throw error;
    }
  }

  /** The log's consumers ask this for many conversations at once when their caches are cold. */
  private readonly members = userIdLists(
    (ids) =>
      this.db.query(
        'SELECT conversation_id AS key, user_id FROM members WHERE conversation_id = ANY($1::text[])',
        [ids],
        'messenger.member-ids',
      ),
    BATCHED_READS,
  );

  async memberIds(conversationId: string): Promise<string[]> {
    return this.members.load(conversationId);
  }

  async conversationKind(conversationId: string): Promise<'direct' | 'group' | null> {
    const [row] = await this.db.query<{ kind: 'direct' | 'group' }>('SELECT kind FROM conversations WHERE id = $1', [
      conversationId,
    ]);
    return row?.kind ?? null;
  }

  async lastSeq(conversationId: string): Promise<number> {
    const [row] = await this.db.query<{ last_seq: string }>(
      'SELECT last_seq FROM conversations WHERE id = $1',
      [conversationId],
      'messenger.last-seq',
    );
    return row ? Number(row.last_seq) : 0;
  }

  async conversation(conversationId: string, viewerId: string): Promise<Conversation | null> {
    return this.views.conversation(conversationId, viewerId);
  }

  async conversationViews(conversationId: string, viewerIds: string[]): Promise<Map<string, Conversation>> {
    return this.views.conversationViews(conversationId, viewerIds);
  }

  async conversations(...page: Parameters<ConversationStore['conversations']>): Promise<ConversationsResponse> {
    return this.views.conversations(...page);
  }

  async setMuted(conversationId: string, userId: string, muted: boolean): Promise<void> {
    await this.db.query('UPDATE members SET muted = $1 WHERE conversation_id = $2 AND user_id = $3', [
      muted,
      conversationId,
      userId,
    ]);
  }

  /**
   * Asked for each socket that comes online (its presence announcement) and each new chat: one query
   * per few milliseconds (WINDOWED_READS). Index probes per user and per conversation (fenced LATERAL subqueries), whatever the
   * statistics: a join let a plan made on empty tables scan every member row on each call.
   */
  private readonly contactLists = userIdLists(
    (userIds) =>
      this.db.query(
        `SELECT DISTINCT v.viewer AS key, o.user_id
         FROM unnest($1::text[]) AS v(viewer)
         CROSS JOIN LATERAL (SELECT m.conversation_id FROM members m
                              WHERE m.user_id = v.viewer AND m.request_state = 'accepted' OFFSET 0) mc
         CROSS JOIN LATERAL (SELECT x.user_id FROM members x WHERE x.conversation_id = mc.conversation_id
                                AND x.user_id <> v.viewer AND x.request_state = 'accepted' OFFSET 0) o`,
        [userIds],
        'messenger.contacts',
      ),
    WINDOWED_READS,
  );

  async contacts(userId: string): Promise<string[]> {
    return this.contactLists.load(userId);
  }

  async setRequestState(conversationId: string, userId: string, state: RequestState): Promise<void> {
    this.lastKnown.delete(`${conversationId} ${userId}`);
    await this.db.query('UPDATE members SET request_state = $1 WHERE conversation_id = $2 AND user_id = $3', [
      state,
      conversationId,
      userId,
    ]);
  }

  async setRole(conversationId: string, userId: string, role: 'admin' | 'member'): Promise<void> {
    this.lastKnown.delete(`${conversationId} ${userId}`);
    await this.db.query('UPDATE members SET role = $1 WHERE conversation_id = $2 AND user_id = $3', [
      role,
      conversationId,
      userId,
    ]);
  }

  async updateGroup(
    conversationId: string,
    changes: { title?: string; membersCanAdd?: boolean; avatarUploadId?: string | null },
  ): Promise<void> {
    // $4 says whether the avatar changes at all, since null is a value for it (no avatar).
    await this.db.query(
      `UPDATE conversations SET title = COALESCE($2, title), members_can_add = COALESCE($3, members_can_add),
              avatar_upload_id = CASE WHEN $4::boolean THEN $5::text ELSE avatar_upload_id END
        WHERE id = $1`,
      [
        conversationId,
        changes.title ?? null,
        changes.membersCanAdd ?? null,
        changes.avatarUploadId !== undefined,
        changes.avatarUploadId ?? null,
      ],
    );
  }
}

/** Lists of user ids per key: `read` answers a batch of keys with rows of a key and a user id. */
function userIdLists(
  read: (keys: readonly string[]) => Promise<{ key: string; user_id: string }[]>,
  options: typeof BATCHED_READS | typeof WINDOWED_READS,
): DataLoader<string, string[]> {
  return new DataLoader<string, string[]>(async (keys) => {
    const rows = await read(keys);
    const found = new Map<string, string[]>(keys.map((key) => [key, []]));
    for (const row of rows) found.get(row.key)!.push(row.user_id);
    return keys.map((key) => found.get(key)!);
  }, options);
}

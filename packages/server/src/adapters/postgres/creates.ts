// Creating conversations in PostgreSQL: the conversation row and its members in one statement, and
// the creates of a burst in one statement for all of them.
import DataLoader from 'dataloader';
import type { NewConversation } from '../../core/conversations/conversation-store.js';
import { type PgDb, WINDOWED_READS } from './pool.js';

export class PostgresCreates {
  constructor(private readonly db: PgDb) {}

  /** Creates, or for a direct chat returns the existing one (unique per pair): `created` says which. */
  async create(conv: NewConversation): Promise<{ id: string; created: boolean }> {
    return this.creates.load(conv);
  }

  /**
   * The creates of WINDOWED_READS share one statement (and one commit): in a burst of new chats
   * each was a statement of its own. Should that statement fail, each create is tried alone, so
   * that one create's failure is only its own.
   */
  private readonly creates = new DataLoader<NewConversation, { id: string; created: boolean }>(async (convs) => {
    if (convs.length === 1) return [await this.createOne(convs[0]!)];
    try {
      return await this.createMany(convs);
    } catch {
      return Promise.all(convs.map((c) => this.createOne(c).catch((error: Error) => error)));
    }
  }, WINDOWED_READS);

  /**
   * createOne for many in one statement. Of creates of one direct chat, the first inserts it and the
   * others get its id; one that existed before is read from the statement's snapshot; one being
   * inserted meanwhile by another statement is not in that snapshot, and is read again after.
   */
  private async createMany(convs: readonly NewConversation[]): Promise<{ id: string; created: boolean }[]> {
    const members: [string[], string[], string[], string[]] = [[], [], [], []];
    for (const c of convs) {
      const admins = new Set(c.admins ?? []);
      const pending = new Set(c.pending ?? []);
      for (const userId of c.memberIds) {
        members[0].push(c.id);
        members[1].push(userId);
        members[2].push(admins.has(userId) ? 'admin' : 'member');
        members[3].push(pending.has(userId) ? 'pending' : 'accepted');
      }
    }
    const rows = await this.db.query<{ i: string; id: string | null; created: boolean }>(
      `WITH q AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
           WITH ORDINALITY AS q(id, kind, title, created_at, direct_key, i)
       ), c AS (
         INSERT INTO conversations (id, kind, title, created_at, direct_key, last_seq, last_activity_at)
         SELECT id, kind, title, created_at, direct_key, 0, created_at FROM q ORDER BY i
         ON CONFLICT (direct_key) DO NOTHING RETURNING id, direct_key
       ), m AS (
         INSERT INTO members (conversation_id, user_id, active_minute, role, request_state, joined_at)
         SELECT c.id, u.user_id, messenger_minute(q.created_at), u.role, u.request_state, q.created_at
           FROM c JOIN q ON q.id = c.id
           JOIN unnest($6::text[], $7::text[], $8::text[], $9::text[]) AS u(conversation_id, user_id, role, request_state)
             ON u.conversation_id = c.id
         ON CONFLICT DO NOTHING
       )
       SELECT q.i, COALESCE(c.id, w.id, e.id) AS id, c.id IS NOT NULL AS created
         FROM q
         LEFT JOIN c ON c.id = q.id
         LEFT JOIN c w ON c.id IS NULL AND w.direct_key = q.direct_key
         LEFT JOIN conversations e ON c.id IS NULL AND w.id IS NULL AND e.direct_key = q.direct_key
        ORDER BY q.i`,
      [
        convs.map((c) => c.id),
        convs.map((c) => c.kind),
        convs.map((c) => c.title),
        convs.map((c) => c.createdAt),
        convs.map((c) => c.directKey),
        ...members,
      ],
      'messenger.create-conversations',
    );
    return Promise.all(
      convs.map(async (conv, i) => {
        const row = rows[i];
        if (!row || Number(row.i) !== i + 1) throw new Error('a batch of creates lost its order');
        return row.id === null ? this.existingDirect(conv) : { id: row.id, created: row.created };
      }),
    );
  }

  /**
   * One statement (atomic on its own: no transaction's four round trips): the conversation, then
   * its members only when the conversation row was inserted, or the direct chat that already holds
   * the pair. A direct chat being created concurrently is waited for by ON CONFLICT but is not in
   * this statement's snapshot: then a second read, in a snapshot of its own, finds it.
   */
  private async createOne(conv: NewConversation): Promise<{ id: string; created: boolean }> {
    const [row] = await this.db.query<{ id: string; created: boolean }>(
      `WITH c AS (
         INSERT INTO conversations (id, kind, title, created_at, direct_key, last_seq, last_activity_at)
         VALUES ($1, $2, $3, $4, $5, 0, $4) ON CONFLICT (direct_key) DO NOTHING RETURNING id
       ), m AS (
         INSERT INTO members (conversation_id, user_id, active_minute, role, request_state, joined_at)
         SELECT c.id, u.id, messenger_minute($4),
                CASE WHEN u.id = ANY($7::text[]) THEN 'admin' ELSE 'member' END,
                CASE WHEN u.id = ANY($8::text[]) THEN 'pending' ELSE 'accepted' END, $4
           FROM c CROSS JOIN unnest($6::text[]) AS u(id)
         ON CONFLICT DO NOTHING
       )
       SELECT id, true AS created FROM c
       UNION ALL
       SELECT id, false FROM conversations WHERE direct_key = $5 AND NOT EXISTS (SELECT 1 FROM c)`,
      [
        conv.id,
        conv.kind,
        conv.title,
        conv.createdAt,
        conv.directKey,
        conv.memberIds,
        conv.admins ?? [],
        conv.pending ?? [],
      ],
      'messenger.create-conversation',
    );
    if (row) return { id: row.id, created: row.created };
    return this.existingDirect(conv);
  }

  private async existingDirect(conv: NewConversation): Promise<{ id: string; created: boolean }> {
    const [existing] = await this.db.query<{ id: string }>('SELECT id FROM conversations WHERE direct_key = $1', [
      conv.directKey,
    ]);
    if (!existing) throw new Error('a direct chat conflicted on its key, yet none holds it');
    return { id: existing.id, created: false };
  }
}

// Conversations and members in SQLite: creation, membership, the chat list (GetChats) and views.
import type { Conversation, ConversationsResponse, Member, Message } from '@messenger/protocol';
import { avatarPath } from '../../core/media/attachments.js';
import type { ConversationStore, Membership, NewConversation } from '../../core/conversations/conversation-store.js';
import type { MemberStanding, RequestState } from '../../core/conversations/member-standing.js';
import type { Db } from './db.js';
import type { SqliteMessages } from './messages.js';
import { decodeCursor, encodeCursor } from '../sql/cursor.js';
import type { MessageRow } from './rows.js';

interface ConversationRow {
  id: string;
  kind: 'direct' | 'group';
  title: string | null;
  created_at: string;
  last_seq: number;
  last_activity_at: string;
  members_can_add: number;
  avatar_upload_id: string | null;
}

interface MemberRow {
  user_id: string;
  joined_seq: number;
  read_seq: number;
  delivered_seq: number;
  muted: number;
  role: 'admin' | 'member';
  request_state: RequestState;
}

export class SqliteConversations implements ConversationStore, MemberStanding {
  private readonly db: Db;
  private readonly messages: SqliteMessages;
  private readonly s;

  constructor(db: Db, messages: SqliteMessages) {
    this.db = db;
    this.messages = messages;
    this.s = {
      insert: db.prepare(
        'INSERT INTO conversations (id, kind, title, created_at, direct_key, last_seq, last_activity_at) VALUES (?, ?, ?, ?, ?, 0, ?)',
      ),
      byDirectKey: db.prepare<[string], { id: string }>('SELECT id FROM conversations WHERE direct_key = ?'),
      addMember: db.prepare(
        `INSERT OR IGNORE INTO members (conversation_id, user_id, joined_seq, read_seq, delivered_seq, role, request_state, joined_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      removeMember: db.prepare('DELETE FROM members WHERE conversation_id = ? AND user_id = ?'),
      // Read on every send: only the columns a Membership has (no copies of the ids and dates it leaves out).
      membership: db.prepare<[string, string], MemberRow>(
        `SELECT user_id, joined_seq, read_seq, delivered_seq, muted, role, request_state
         FROM members WHERE conversation_id = ? AND user_id = ?`,
      ),
      memberIds: db.prepare<[string], { user_id: string }>('SELECT user_id FROM members WHERE conversation_id = ?'),
      row: db.prepare<[string], ConversationRow>('SELECT * FROM conversations WHERE id = ?'),
      members: db.prepare<
        [string],
        MemberRow & { conversation_id: string; username: string; display_name: string; avatar_upload_id: string | null }
      >(
        `SELECT m.*, u.username, u.display_name, u.avatar_upload_id FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id IN (SELECT value FROM json_each(?)) ORDER BY m.conversation_id, m.joined_seq, m.joined_at, m.user_id`,
      ),
      page: db.prepare<[string, string, string, string, number], ConversationRow>(
        `SELECT c.* FROM members m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.user_id = ? AND m.request_state = ? AND (c.last_activity_at, c.id) < (?, ?)
         ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?`,
      ),
      lastVisible: db.prepare<[string, number, string], MessageRow>(
        `SELECT m.* FROM messages m WHERE m.conversation_id = ? AND m.seq > ?
           AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ? AND h.conversation_id = m.conversation_id AND h.seq = m.seq)
         ORDER BY m.seq DESC LIMIT 1`,
      ),
      unread: db.prepare<[string, number, string, string], { n: number }>(
        `SELECT COUNT(*) AS n FROM messages m WHERE m.conversation_id = ? AND m.seq > ? AND m.sender_id != ? AND m.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ? AND h.conversation_id = m.conversation_id AND h.seq = m.seq)`,
      ),
      setMuted: db.prepare('UPDATE members SET muted = ? WHERE conversation_id = ? AND user_id = ?'),
      contacts: db.prepare<[string, string], { user_id: string }>(
        `SELECT DISTINCT o.user_id FROM members m JOIN members o ON o.conversation_id = m.conversation_id
         WHERE m.user_id = ? AND m.request_state = 'accepted' AND o.user_id != ? AND o.request_state = 'accepted'`,
      ),
      setRequestState: db.prepare('UPDATE members SET request_state = ? WHERE conversation_id = ? AND user_id = ?'),
      setRole: db.prepare('UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?'),
      setTitle: db.prepare('UPDATE conversations SET title = ? WHERE id = ?'),
      setMembersCanAdd: db.prepare('UPDATE conversations SET members_can_add = ? WHERE id = ?'),
      setAvatar: db.prepare('UPDATE conversations SET avatar_upload_id = ? WHERE id = ?'),
    };
  }

  async createConversation(conv: NewConversation): Promise<{ id: string; created: boolean }> {
    return this.db
      .transaction(() => {
        if (conv.directKey) {
          const existing = this.s.byDirectKey.get(conv.directKey);
          if (existing) return { id: existing.id, created: false };
        }
        this.s.insert.run(conv.id, conv.kind, conv.title, conv.createdAt, conv.directKey, conv.createdAt);
        const admins = new Set(conv.admins ?? []);
        const pending = new Set(conv.pending ?? []);
        for (const userId of conv.memberIds)
          this.s.addMember.run(
            conv.id,
            userId,
            0,
            0,
            0,
            admins.has(userId) ? 'admin' : 'member',
            pending.has(userId) ? 'pending' : 'accepted',
            conv.createdAt,
          );
        return { id: conv.id, created: true };
      })
      .immediate();
  }

  async addMembers(conversationId: string, userIds: string[], pending: string[] = []): Promise<string[]> {
    const requests = new Set(pending);
    const at = new Date().toISOString();
    return this.db
      .transaction(() => {
        const lastSeq = this.s.row.get(conversationId)?.last_seq ?? 0;
        return userIds.filter(
          (userId) =>
            this.s.addMember.run(
              conversationId,
              userId,
              lastSeq,
              lastSeq,
              lastSeq,
              'member',
              requests.has(userId) ? 'pending' : 'accepted',
              at,
            ).changes > 0,
        );
      })
      .immediate();
  }

  async removeMember(conversationId: string, userId: string): Promise<boolean> {
    return this.s.removeMember.run(conversationId, userId).changes > 0;
  }

  async membership(conversationId: string, userId: string): Promise<Membership | null> {
    const row = this.s.membership.get(conversationId, userId);
    return row
      ? {
          userId: row.user_id,
          joinedSeq: row.joined_seq,
          readSeq: row.read_seq,
          deliveredSeq: row.delivered_seq,
          muted: row.muted === 1,
          role: row.role,
          request: row.request_state,
        }
      : null;
  }

  async memberIds(conversationId: string): Promise<string[]> {
    return this.s.memberIds.all(conversationId).map((r) => r.user_id);
  }

  async conversationKind(conversationId: string): Promise<'direct' | 'group' | null> {
    return this.s.row.get(conversationId)?.kind ?? null;
  }

  async lastSeq(conversationId: string): Promise<number> {
    return this.s.row.get(conversationId)?.last_seq ?? 0;
  }

  async conversation(conversationId: string, viewerId: string): Promise<Conversation | null> {
    return this.view(conversationId, viewerId);
  }

  /** In-process SQLite: one view per viewer is cheap enough (no round trips). */
  async conversationViews(conversationId: string, viewerIds: string[]): Promise<Map<string, Conversation>> {
    const out = new Map<string, Conversation>();
    for (const viewerId of viewerIds) {
      const view = this.view(conversationId, viewerId);
      if (view) out.set(viewerId, view);
    }
    return out;
  }

  private view(conversationId: string, viewerId: string): Conversation | null {
    const row = this.s.row.get(conversationId);
    return row ? (this.toViews([row], viewerId)[0] ?? null) : null;
  }

  async conversations(
    viewerId: string,
    limit: number,
    cursor: string | null,
    requests = false,
  ): Promise<ConversationsResponse> {
    let after: [string, string] = ['\uffff', '\uffff'];
    if (cursor) {
      const parts = decodeCursor(cursor);
      if (parts && typeof parts[0] === 'string' && typeof parts[1] === 'string') after = [parts[0], parts[1]];
    }
    const rows = this.s.page.all(viewerId, requests ? 'pending' : 'accepted', after[0], after[1], limit + 1);
    const more = rows.length > limit;
    const shown = more ? rows.slice(0, limit) : rows;
    const last = shown[shown.length - 1];
    return {
      conversations: this.toViews(shown, viewerId),
      nextCursor: more && last ? encodeCursor([last.last_activity_at, last.id]) : null,
    };
  }

  async setMuted(conversationId: string, userId: string, muted: boolean): Promise<void> {
    this.s.setMuted.run(muted ? 1 : 0, conversationId, userId);
  }

  async contacts(userId: string): Promise<string[]> {
    return this.s.contacts.all(userId, userId).map((r) => r.user_id);
  }

  async setRequestState(conversationId: string, userId: string, state: RequestState): Promise<void> {
    this.s.setRequestState.run(state, conversationId, userId);
  }

  async setRole(conversationId: string, userId: string, role: 'admin' | 'member'): Promise<void> {
    this.s.setRole.run(role, conversationId, userId);
  }

  async updateGroup(
    conversationId: string,
    changes: { title?: string; membersCanAdd?: boolean; avatarUploadId?: string | null },
  ): Promise<void> {
    this.db
      .transaction(() => {
        if (changes.title !== undefined) this.s.setTitle.run(changes.title, conversationId);
        if (changes.avatarUploadId !== undefined) this.s.setAvatar.run(changes.avatarUploadId, conversationId);
        if (changes.membersCanAdd !== undefined)
          this.s.setMembersCanAdd.run(changes.membersCanAdd ? 1 : 0, conversationId);
      })
      .immediate();
  }

  /** Views of several conversations: one query for all their members, then two per conversation. */
  private toViews(rows: ConversationRow[], viewerId: string): Conversation[] {
    if (rows.length === 0) return [];
    const members = new Map<
      string,
      (MemberRow & { username: string; display_name: string; avatar_upload_id: string | null })[]
    >();
    for (const m of this.s.members.all(JSON.stringify(rows.map((r) => r.id)))) {
      let list = members.get(m.conversation_id);
      if (!list) members.set(m.conversation_id, (list = []));
      list.push(m);
    }
    return rows.flatMap((row) => this.toView(row, members.get(row.id) ?? [], viewerId) ?? []);
  }

  private toView(
    row: ConversationRow,
    memberRows: (MemberRow & { username: string; display_name: string; avatar_upload_id: string | null })[],
    viewerId: string,
  ): Conversation | null {
    const me = memberRows.find((m) => m.user_id === viewerId);
    if (!me) return null;
    const members: Member[] = memberRows.map((m) => {
      const shown = m.user_id === viewerId || m.request_state === 'accepted';
      return {
        userId: m.user_id,
        username: m.username,
        displayName: m.display_name,
        avatarUrl: avatarPath(m.avatar_upload_id),
        readSeq: shown ? m.read_seq : m.joined_seq,
        deliveredSeq: shown ? m.delivered_seq : m.joined_seq,
        role: m.role,
      };
    });
    const lastRow = this.s.lastVisible.get(row.id, me.joined_seq, viewerId);
    const lastMessage: Message | null = lastRow ? this.messages.withReactions([lastRow])[0]! : null;
    const unreadCount = this.s.unread.get(row.id, Math.max(me.read_seq, me.joined_seq), viewerId, viewerId)?.n ?? 0;
    return {
      id: row.id,
      kind: row.kind,
      title: row.title,
      members,
      createdAt: row.created_at,
      lastSeq: row.last_seq,
      lastMessage,
      unreadCount,
      muted: me.muted === 1,
      request: me.request_state !== 'accepted',
      membersCanAdd: row.members_can_add === 1,
      avatarUrl: avatarPath(row.avatar_upload_id),
    };
  }
}

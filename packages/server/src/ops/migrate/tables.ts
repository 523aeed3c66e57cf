// What `npm run migrate` copies from the embedded SQLite file into PostgreSQL, table by table: the
// columns, how each is typed on the way, and the statement that writes a batch. Every write is
// ON CONFLICT DO NOTHING on the table's key, so a run after an interruption skips what is there.
import { searchVector } from '../../adapters/postgres/rows.js';
import { searchText, storableText } from '../../adapters/postgres/apply.js';

/** How a value travels: SQLite's storage class on one side, PostgreSQL's array type on the other. */
export type ColumnType = 'text' | 'int' | 'bool' | 'ts' | 'json';

export interface Column {
  name: string;
  type: ColumnType;
  /** SQLite expression (over the `from` clause) when it is not the column of the same name. */
  from?: string;
  /** Written but not compared (derived on the way, e.g. the search text). */
  unchecked?: boolean;
}

export interface TableSpec {
  /**
   * The PostgreSQL table, and the SQLite one unless `from` says otherwise. A column only one side
   * has yet (a migration not shipped on both) is left out of the copy and of the checksum.
   */
  table: string;
  /** SQLite FROM clause (with joins); defaults to the table. Columns are qualified by `t.`. */
  from?: string;
  columns: Column[];
  /** The key both sides order by, for the checksum (text keys compared byte-wise: COLLATE "C"). */
  key: string[];
  /** Skipped when either side does not have the table (a feature newer than one of the schemas). */
  optional?: boolean;
  /** Turns a source row into what is written (after typing); defaults to the row itself. */
  prepare?: (row: Record<string, unknown>) => Record<string, unknown>;
  /** INSERT ... SELECT from the CTE `input` (the batch, unnested); default: the columns, DO NOTHING. */
  insert?: (names: string[]) => string;
}

const text = (name: string, from?: string): Column => ({ name, type: 'text', ...(from ? { from } : {}) });
const int = (name: string): Column => ({ name, type: 'int' });
const bool = (name: string): Column => ({ name, type: 'bool' });
const ts = (name: string, from?: string): Column => ({ name, type: 'ts', ...(from ? { from } : {}) });

/** In dependency order only for readability: PostgreSQL has no foreign keys between these. */
export const TABLES: TableSpec[] = [
  {
    table: 'users',
    columns: [
      text('id'),
      text('username'),
      text('display_name'),
      ts('created_at'),
      bool('presence_visible'),
      bool('discoverable'),
      text('avatar_upload_id'),
    ],
    key: ['id'],
  },
  {
    table: 'api_keys',
    columns: [text('key_hash'), text('user_id'), ts('created_at'), text('id'), text('name'), ts('last_used_at')],
    key: ['key_hash'],
  },
  {
    table: 'device_sessions',
    columns: [
      text('id'),
      text('user_id'),
      text('token_hash'),
      text('device_name'),
      ts('created_at'),
      ts('last_active_at'),
      ts('expires_at'),
    ],
    key: ['id'],
  },
  { table: 'passwords', columns: [text('user_id'), text('hash'), ts('updated_at')], key: ['user_id'] },
  {
    table: 'conversations',
    columns: [
      text('id'),
      text('kind'),
      text('title'),
      ts('created_at'),
      text('direct_key'),
      // A conversation's position is at least its newest message's, whatever the row says.
      {
        name: 'last_seq',
        type: 'int',
        from: 'max(t.last_seq, coalesce((SELECT max(seq) FROM messages m WHERE m.conversation_id = t.id), 0))',
      },
      ts('last_activity_at'),
      bool('members_can_add'),
      text('avatar_upload_id'),
    ],
    key: ['id'],
  },
  {
    table: 'members',
    from: 'members t JOIN conversations c ON c.id = t.conversation_id',
    columns: [
      text('conversation_id'),
      text('user_id'),
      int('joined_seq'),
      int('read_seq'),
      int('delivered_seq'),
      bool('muted'),
      text('role'),
      text('request_state'),
      // Members from before join times were recorded have '': their chat's creation is the best guess.
      ts('joined_at', "CASE WHEN t.joined_at = '' THEN c.created_at ELSE t.joined_at END"),
      { name: 'activity', type: 'ts', from: 'c.last_activity_at', unchecked: true },
    ],
    key: ['conversation_id', 'user_id'],
    insert: (names) => {
      const cols = names.filter((n) => n !== 'activity');
      return `INSERT INTO members (${cols.join(', ')}, active_minute)
        SELECT ${cols.join(', ')}, messenger_minute(activity) FROM input ON CONFLICT DO NOTHING`;
    },
  },
  {
    table: 'messages',
    columns: [
      text('conversation_id'),
      int('seq'),
      text('id'),
      text('sender_id'),
      text('client_msg_id'),
      text('body'),
      ts('created_at'),
      ts('edited_at'),
      ts('deleted_at'),
      text('reply_to_id'),
      { name: 'attachments', type: 'json' },
      { name: 'search_text', type: 'text', from: "''", unchecked: true },
    ],
    key: ['conversation_id', 'seq'],
    // As the persister writes them: the text PostgreSQL can hold, its search vector (none once
    // deleted), and the (sender, clientMsgId) key that makes a retried send a duplicate.
    prepare: (row) => {
      const body = storableText(row.body as string);
      return {
        ...row,
        body,
        client_msg_id: storableText(row.client_msg_id as string),
        search_text: row.deleted_at === null ? searchText(body) : null,
      };
    },
    insert: (names) => {
      const cols = names.filter((n) => n !== 'search_text');
      return `, k AS (
          INSERT INTO message_keys (sender_id, client_msg_id, conversation_id, seq, message_id)
          SELECT sender_id, client_msg_id, conversation_id, seq, id FROM input ON CONFLICT DO NOTHING
        )
        INSERT INTO messages (${cols.join(', ')}, search)
        SELECT ${cols.join(', ')}, CASE WHEN search_text IS NULL THEN NULL ELSE ${searchVector('search_text')} END
          FROM input ON CONFLICT DO NOTHING`;
    },
  },
  {
    table: 'reactions',
    from: 'reactions t JOIN messages m ON m.id = t.message_id',
    columns: [text('conversation_id', 'm.conversation_id'), text('message_id'), text('user_id'), text('emoji')],
    key: ['conversation_id', 'message_id', 'user_id'],
    prepare: (row) => ({ ...row, emoji: storableText(row.emoji as string) }),
  },
  {
    table: 'hidden',
    columns: [text('user_id'), text('conversation_id'), int('seq'), text('message_id')],
    key: ['user_id', 'conversation_id', 'seq'],
  },
  {
    table: 'push_subscriptions',
    columns: [text('endpoint'), text('user_id'), text('p256dh'), text('auth'), ts('created_at')],
    key: ['endpoint'],
  },
  {
    table: 'blocks',
    columns: [text('blocker_id'), text('blocked_id'), ts('created_at')],
    key: ['blocker_id', 'blocked_id'],
  },
  {
    table: 'reports',
    columns: [
      text('id'),
      text('reporter_id'),
      text('conversation_id'),
      text('message_id'),
      text('user_id'),
      text('reason'),
      { name: 'message', type: 'json' },
      ts('created_at'),
    ],
    key: ['id'],
  },
  { table: 'suspensions', columns: [text('user_id'), text('reason'), ts('created_at')], key: ['user_id'] },
  {
    table: 'uploads',
    optional: true,
    columns: [
      text('id'),
      text('owner_id'),
      text('name'),
      text('content_type'),
      int('size'),
      text('sha256'),
      int('width'),
      int('height'),
      int('duration_ms'),
      text('blob_key'),
      text('thumbnail_key'),
      ts('created_at'),
      ts('attached_at'),
      text('conversation_id'),
      text('message_id'),
    ],
    key: ['id'],
  },
];

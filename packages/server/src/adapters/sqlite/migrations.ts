// SQLite schema, one entry per version (PRAGMA user_version). Never edit a shipped entry; append.
// Messages are keyed (conversation_id, seq) like the cluster's partitioned store.

import type { Database } from 'better-sqlite3';
import { conversationToken, indexText } from '../../core/search/text.js';

/** SQL, or a step that needs code (e.g. re-indexing with indexText). Each runs in one transaction. */
export type Migration = string | ((db: Database) => void);

export const MIGRATIONS: Migration[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    presence_visible INTEGER NOT NULL DEFAULT 1
  );
  CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT,
    created_at TEXT NOT NULL,
    direct_key TEXT UNIQUE,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_activity_at TEXT NOT NULL
  );
  CREATE TABLE members (
    conversation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    joined_seq INTEGER NOT NULL DEFAULT 0,
    read_seq INTEGER NOT NULL DEFAULT 0,
    delivered_seq INTEGER NOT NULL DEFAULT 0,
    muted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX members_by_user ON members (user_id, conversation_id);
  CREATE TABLE messages (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE,
    sender_id TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    edited_at TEXT,
    deleted_at TEXT,
    reply_to_id TEXT,
    PRIMARY KEY (conversation_id, seq)
  );
  CREATE UNIQUE INDEX messages_by_client_id ON messages (sender_id, client_msg_id);
  CREATE TABLE reactions (
    message_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    emoji TEXT NOT NULL,
    PRIMARY KEY (message_id, user_id)
  ) WITHOUT ROWID;
  CREATE TABLE hidden (
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE log (
    pos INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    type TEXT NOT NULL,
    seq INTEGER,
    message_id TEXT,
    dedup_key TEXT UNIQUE,
    payload TEXT NOT NULL
  );
  CREATE INDEX log_seq ON log (conversation_id, seq) WHERE seq IS NOT NULL;
  CREATE INDEX log_message ON log (message_id) WHERE message_id IS NOT NULL;
  CREATE TABLE log_offsets (
    consumer TEXT PRIMARY KEY,
    pos INTEGER NOT NULL
  );
  `,
  `
  CREATE VIRTUAL TABLE message_fts USING fts5(
    text,
    tokenize = 'unicode61 remove_diacritics 2',
    content = '',
    contentless_delete = 1
  );
  `,
  `
  CREATE TABLE push_subscriptions (
    endpoint TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);
  `,
  // The search index gains a `conv` column (one token per conversation), so a query can be limited
  // to the viewer's conversations inside the index instead of filtering every match afterwards.
  (db) => {
    db.exec(`
      DROP TABLE message_fts;
      CREATE VIRTUAL TABLE message_fts USING fts5(
        text, conv,
        tokenize = 'unicode61 remove_diacritics 2',
        content = '',
        contentless_delete = 1
      );
    `);
    const insert = db.prepare('INSERT INTO message_fts (rowid, text, conv) VALUES (?, ?, ?)');
    // In pages: better-sqlite3 cannot write while a read is still iterating.
    const page = db.prepare<[number], { rowid: number; conversation_id: string; body: string }>(
      "SELECT rowid, conversation_id, body FROM messages WHERE rowid > ? AND deleted_at IS NULL AND body != '' ORDER BY rowid LIMIT 5000",
    );
    for (let after = 0, rows = page.all(after); rows.length > 0; rows = page.all(after)) {
      for (const row of rows) insert.run(row.rowid, indexText(row.body), conversationToken(row.conversation_id));
      after = rows[rows.length - 1]!.rowid;
    }
  },
  // The chat list's unread count reads only this index (no table lookups).
  `CREATE INDEX messages_unread ON messages (conversation_id, seq, sender_id) WHERE deleted_at IS NULL;`,
  // Every word of the search index's text column, so a prefix query can name the words it means:
  // FTS5 answers "word"* by merging the whole doclist of every word under it first. Kept by
  // SqliteSearch as it indexes; filled here once from the index itself.
  (db) => {
    db.exec(`
      CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
      CREATE VIRTUAL TABLE temp.migrate_search_words USING fts5vocab(main, message_fts, col);
      INSERT OR IGNORE INTO search_words (word) SELECT term FROM temp.migrate_search_words WHERE col = 'text';
      DROP TABLE temp.migrate_search_words;
    `);
  },
  // Search ranks with BM25 computed from these counts (how many indexed texts hold each word, how
  // many texts and words the index holds) instead of FTS5's bm25(), which counts every match of
  // every query word across the whole index on each query. Kept by SqliteSearch; filled here once.
  (db) => {
    db.exec(`
      DROP TABLE search_words;
      CREATE TABLE search_words (word TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE search_stats (id INTEGER PRIMARY KEY CHECK (id = 1), docs INTEGER NOT NULL, words INTEGER NOT NULL);
      CREATE VIRTUAL TABLE temp.migrate_search_words USING fts5vocab(main, message_fts, col);
      INSERT INTO search_words (word, docs) SELECT term, doc FROM temp.migrate_search_words WHERE col = 'text' AND doc > 0;
      -- Every message not deleted has a body (the API refuses empty ones), so it is in the index; the
      -- partial index messages_unread counts them without reading the table (1 s, not 60 s, at 10M).
      INSERT INTO search_stats (id, docs, words)
        SELECT 1, (SELECT count(*) FROM messages WHERE deleted_at IS NULL), coalesce(sum(cnt), 0)
          FROM temp.migrate_search_words WHERE col = 'text';
      DROP TABLE temp.migrate_search_words;
    `);
  },
  // Log records the store refused for good (see RecordRefused), kept aside so the persister goes on.
  (db) => {
    db.exec(`
      CREATE TABLE quarantined_records (
        conversation_id TEXT NOT NULL,
        pos INTEGER NOT NULL,
        type TEXT NOT NULL,
        record TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, pos)
      ) WITHOUT ROWID;
    `);
  },
  // Accounts and devices: API keys gain an id, a name and a last use (the key made at sign-up keeps
  // working and is listed as "sign-up key"); device sessions and password hashes get tables.
  `
  CREATE TABLE api_keys_named (
    key_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE DEFAULT ('k_' || lower(hex(randomblob(12)))),
    name TEXT NOT NULL DEFAULT 'sign-up key',
    last_used_at TEXT
  ) WITHOUT ROWID;
  INSERT INTO api_keys_named (key_hash, user_id, created_at) SELECT key_hash, user_id, created_at FROM api_keys;
  DROP TABLE api_keys;
  ALTER TABLE api_keys_named RENAME TO api_keys;
  CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at);
  CREATE TABLE device_sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    device_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_active_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  CREATE INDEX device_sessions_by_user ON device_sessions (user_id, created_at);
  CREATE TABLE passwords (
    user_id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // Safety: members gain a role and whether they accepted the chat (a message request until then),
  // groups whether members may add others; blocks, reports and suspensions get tables. The creator
  // of an existing group was never recorded, so its founding members become its admins.
  `
  ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
  ALTER TABLE members ADD COLUMN request_state TEXT NOT NULL DEFAULT 'accepted';
  ALTER TABLE members ADD COLUMN joined_at TEXT NOT NULL DEFAULT '';
  ALTER TABLE conversations ADD COLUMN members_can_add INTEGER NOT NULL DEFAULT 1;
  UPDATE members SET role = 'admin'
   WHERE joined_seq = 0 AND conversation_id IN (SELECT id FROM conversations WHERE kind = 'group');
  CREATE TABLE blocks (
    blocker_id TEXT NOT NULL,
    blocked_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
  ) WITHOUT ROWID;
  CREATE INDEX blocks_by_blocked ON blocks (blocked_id, blocker_id);
  CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    reporter_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id TEXT,
    user_id TEXT,
    reason TEXT NOT NULL,
    message TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX reports_by_time ON reports (created_at, id);
  CREATE TABLE suspensions (
    user_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // Media: what is known about each uploaded file; its bytes are in the blob store, by key.
  `
  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    duration_ms INTEGER,
    blob_key TEXT NOT NULL,
    thumbnail_key TEXT,
    created_at TEXT NOT NULL,
    attached_at TEXT,
    conversation_id TEXT,
    message_id TEXT
  );
  CREATE INDEX uploads_by_owner ON uploads (owner_id, created_at);
  CREATE INDEX uploads_unattached ON uploads (created_at) WHERE attached_at IS NULL;
  CREATE INDEX uploads_by_message ON uploads (message_id) WHERE message_id IS NOT NULL;
  `,
  // People search: whether a user can be found by others, and the indexes its prefix ranges walk.
  `
  ALTER TABLE users ADD COLUMN discoverable INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX users_by_lower_username ON users (lower(username));
  CREATE INDEX users_by_lower_display_name ON users (lower(display_name));
  `,
  // Media: a message's attachments (JSON, with unsigned paths; NULL for none), users' and groups' avatars.
  `
  ALTER TABLE messages ADD COLUMN attachments TEXT;
  ALTER TABLE users ADD COLUMN avatar_upload_id TEXT;
  ALTER TABLE conversations ADD COLUMN avatar_upload_id TEXT;
  `,
  // Link previews: what the server read of the page a message's first link points to (JSON).
  `
  ALTER TABLE messages ADD COLUMN link_preview TEXT;
  `,
  // Search indexed after the commit (deferred-index.ts): the last message rowid the index covers.
  // Until now every message was indexed in its own commit.
  `
  CREATE TABLE search_progress (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_rowid INTEGER NOT NULL);
  INSERT INTO search_progress (id, indexed_rowid) SELECT 1, coalesce(max(rowid), 0) FROM messages;
  `,
  // Content-addressed blobs: uploads of the same bytes share a key, and deleting one counts the
  // others that refer to it (as file or thumbnail) before its object may go.
  `
  CREATE INDEX uploads_by_blob_key ON uploads (blob_key);
  CREATE INDEX uploads_by_thumbnail_key ON uploads (thumbnail_key) WHERE thumbnail_key IS NOT NULL;
  `,
  // Credentials that ended (deleted, however: sign-out, revocation, account closing, a direct
  // DELETE; or their user suspended), journaled by triggers: the gateway reads the last seconds of
  // it every round instead of re-checking every open socket's credential.
  `
  CREATE TABLE credential_ends (credential_id TEXT NOT NULL, ended_at TEXT NOT NULL);
  CREATE INDEX credential_ends_by_time ON credential_ends (ended_at);
  CREATE TRIGGER device_sessions_ended AFTER DELETE ON device_sessions BEGIN
    INSERT INTO credential_ends VALUES (OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  END;
  CREATE TRIGGER api_keys_ended AFTER DELETE ON api_keys BEGIN
    INSERT INTO credential_ends VALUES (OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  END;
  CREATE TRIGGER suspensions_end_credentials AFTER INSERT ON suspensions BEGIN
    INSERT INTO credential_ends
      SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM device_sessions WHERE user_id = NEW.user_id
      UNION ALL SELECT id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM api_keys WHERE user_id = NEW.user_id;
  END;
  `,
];

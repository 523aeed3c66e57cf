// PostgreSQL schema, one entry per version in schema_migrations (migrate.ts applies them).
// Never edit a shipped entry; append.
// Users and conversations are relational; message data is Cassandra-shaped: keyed (conversation_id,
// seq) and hash-partitioned by conversation_id, so Citus or a wide-column store can take the same keys.

/** Hash partitions of the message tables. Changing it means re-partitioning: a new migration. */
export const MESSAGE_PARTITIONS = 8;

const partitions = (table: string) =>
  Array.from(
    { length: MESSAGE_PARTITIONS },
    (_, i) =>
      `CREATE TABLE ${table}_p${i} PARTITION OF ${table} FOR VALUES WITH (MODULUS ${MESSAGE_PARTITIONS}, REMAINDER ${i});`,
  ).join('\n');

export const MIGRATIONS: string[] = [
  `
  CREATE TABLE users (
    id text COLLATE "C" PRIMARY KEY,
    username text NOT NULL UNIQUE,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL,
    presence_visible boolean NOT NULL DEFAULT true
  );
  CREATE TABLE api_keys (
    key_hash text COLLATE "C" PRIMARY KEY,
    user_id text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL
  );
  CREATE TABLE conversations (
    id text COLLATE "C" PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('direct', 'group')),
    title text,
    created_at timestamptz NOT NULL,
    direct_key text COLLATE "C" UNIQUE,
    last_seq bigint NOT NULL DEFAULT 0,
    last_activity_at timestamptz NOT NULL
  );
  CREATE TABLE members (
    conversation_id text COLLATE "C" NOT NULL,
    user_id text COLLATE "C" NOT NULL,
    joined_seq bigint NOT NULL DEFAULT 0,
    read_seq bigint NOT NULL DEFAULT 0,
    delivered_seq bigint NOT NULL DEFAULT 0,
    muted boolean NOT NULL DEFAULT false,
    PRIMARY KEY (conversation_id, user_id)
  );
  CREATE INDEX members_by_user ON members (user_id, conversation_id);

  CREATE TABLE messages (
    conversation_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    id text COLLATE "C" NOT NULL,
    sender_id text COLLATE "C" NOT NULL,
    client_msg_id text COLLATE "C" NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL,
    edited_at timestamptz,
    deleted_at timestamptz,
    reply_to_id text COLLATE "C",
    -- to_tsvector('simple', unaccent(lower(indexText(body)))), written with the body; NULL once deleted.
    search tsvector,
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (conversation_id, id)
  ) PARTITION BY HASH (conversation_id);
  ${partitions('messages')}
  CREATE INDEX messages_search ON messages USING gin (search);

  -- The lasting idempotency authority for sends: a unique index on the partitioned table would
  -- have to include conversation_id, so (sender, clientMsgId) lives here, unpartitioned.
  CREATE TABLE message_keys (
    sender_id text COLLATE "C" NOT NULL,
    client_msg_id text COLLATE "C" NOT NULL,
    conversation_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (sender_id, client_msg_id)
  );

  CREATE TABLE reactions (
    conversation_id text COLLATE "C" NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    user_id text COLLATE "C" NOT NULL,
    emoji text NOT NULL,
    PRIMARY KEY (conversation_id, message_id, user_id)
  ) PARTITION BY HASH (conversation_id);
  ${partitions('reactions')}

  -- Deleted-for-me: per user, so keyed by user rather than partitioned with the messages.
  CREATE TABLE hidden (
    user_id text COLLATE "C" NOT NULL,
    conversation_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, conversation_id, seq)
  );

  -- unaccent lives once per database (in public unless it was installed elsewhere); each schema gets
  -- an IMMUTABLE wrapper naming it explicitly, so results never depend on the caller's search_path.
  CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
  DO $do$
  DECLARE ns text := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent');
  BEGIN
    EXECUTE format(
      'CREATE FUNCTION messenger_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %L',
      format('SELECT %I.unaccent(%L::regdictionary, $1)', ns, quote_ident(ns) || '.unaccent'));
  END
  $do$;
  `,
  `
  CREATE TABLE push_subscriptions (
    endpoint text COLLATE "C" PRIMARY KEY,
    user_id text COLLATE "C" NOT NULL,
    p256dh text NOT NULL,
    auth text NOT NULL,
    created_at timestamptz NOT NULL
  );
  CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);
  -- Settings every process of a deployment must share (the VAPID key pair).
  CREATE TABLE server_settings (
    key text COLLATE "C" PRIMARY KEY,
    value jsonb NOT NULL
  );
  `,
  // Search bounded by what a query needs, not by the corpus: one GIN index over (conversation,
  // day, words) replaces the words-only one, so a query can be narrowed to a conversation or to
  // the most recent days inside the index (btree_gin) instead of fetching every match.
  `
  CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public;
  CREATE FUNCTION messenger_day(timestamptz) RETURNS integer LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT floor(extract(epoch FROM $1) / 86400)::integer $$;
  CREATE INDEX messages_search_scoped ON messages USING gin (conversation_id, messenger_day(created_at), search);
  DROP INDEX messages_search;
  `,
  // Every word the search index holds, so a prefix query can name the words it means: GIN matches
  // a prefix by collecting every entry of every word under it, which costs all their occurrences.
  // Kept by statement triggers (one insert per write statement, in a fixed order).
  `
  CREATE TABLE search_lexemes (lexeme text COLLATE "C" PRIMARY KEY);
  INSERT INTO search_lexemes (lexeme) SELECT word FROM ts_stat('SELECT search FROM messages') ORDER BY 1 ON CONFLICT DO NOTHING;
  CREATE FUNCTION messenger_note_lexemes() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  BEGIN
    INSERT INTO search_lexemes (lexeme)
    SELECT DISTINCT l FROM new_rows, unnest(tsvector_to_array(new_rows.search)) AS l
     WHERE new_rows.search IS NOT NULL
     ORDER BY l
    ON CONFLICT DO NOTHING;
    RETURN NULL;
  END
  $$;
  CREATE TRIGGER messages_lexemes_insert AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messenger_note_lexemes();
  CREATE TRIGGER messages_lexemes_update AFTER UPDATE ON messages REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION messenger_note_lexemes();
  `,
  // Search windows of many days at the price of a few: GIN intersects the day entries of a window
  // with the words by walking every message of every day in it, so a 48-day window cost 48 days of
  // messages. A 16-day span per message (one more entry per row) lets an older window be a few
  // spans instead. Replaces migration 3's index, which had the same columns but the span.
  `
  SET LOCAL maintenance_work_mem = '256MB';
  CREATE FUNCTION messenger_span(timestamptz) RETURNS integer LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT floor(extract(epoch FROM $1) / (86400 * 16))::integer $$;
  CREATE INDEX messages_search_spans ON messages USING gin (conversation_id, messenger_day(created_at), messenger_span(created_at), search);
  DROP INDEX messages_search_scoped;
  `,
  // The lexeme trigger looks up each word of a write statement before inserting (an anti-join),
  // so only new words are sorted and inserted: about 2.6 us less per inserted message, which pays
  // back most of migration 5's span entry. Same words in the table; same lock order for new ones.
  `
  CREATE OR REPLACE FUNCTION messenger_note_lexemes() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  BEGIN
    INSERT INTO search_lexemes (lexeme)
    SELECT w.l FROM (SELECT DISTINCT l FROM new_rows, unnest(tsvector_to_array(new_rows.search)) AS l WHERE new_rows.search IS NOT NULL) w
     WHERE NOT EXISTS (SELECT 1 FROM search_lexemes s WHERE s.lexeme = w.l)
     ORDER BY w.l
    ON CONFLICT DO NOTHING;
    RETURN NULL;
  END
  $$;
  `,
  // The chat list as an index range: each member row carries the minute of its chat's last activity
  // (messenger_minute), so a page of a user's chats, newest activity first, reads the next minutes
  // of members_by_activity and orders those few chats by their exact activity. (It was a join of
  // every chat the user has, sorted: 1,000 rows a page for a user in 1,000 chats, whose generic plan
  // read the whole conversations table.) A minute, not the exact time: a member row is rewritten only
  // when its chat's activity enters a new minute, not on every message of a busy chat. The message
  // write keeps it (messages.ts); the new index leads with user_id, so it replaces members_by_user.
  `
  CREATE FUNCTION messenger_minute(timestamptz) RETURNS integer LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT floor(extract(epoch FROM $1) / 60)::integer $$;
  ALTER TABLE members ADD COLUMN active_minute integer NOT NULL DEFAULT 0;
  ALTER TABLE members ALTER COLUMN active_minute DROP DEFAULT;
  UPDATE members m SET active_minute = messenger_minute(c.last_activity_at) FROM conversations c WHERE c.id = m.conversation_id;
  CREATE INDEX members_by_activity ON members (user_id, active_minute, conversation_id);
  DROP INDEX members_by_user;
  `,
  // Log records the store refused for good (messages.ts: data PostgreSQL cannot hold), kept aside so
  // the persister goes on with the rest of its partition. The record is JSON text, which can hold
  // anything the log could.
  `
  CREATE TABLE quarantined_records (
    conversation_id text NOT NULL,
    pos bigint NOT NULL,
    type text NOT NULL,
    record text NOT NULL,
    reason text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, pos)
  );
  `,
  // Accounts and devices: API keys gain an id, a name and a last use (the key made at sign-up keeps
  // working and is listed as "sign-up key"); device sessions and password hashes get tables.
  `
  ALTER TABLE api_keys ADD COLUMN id text COLLATE "C" NOT NULL DEFAULT ('k_' || replace(gen_random_uuid()::text, '-', ''));
  ALTER TABLE api_keys ADD CONSTRAINT api_keys_id UNIQUE (id);
  ALTER TABLE api_keys ADD COLUMN name text NOT NULL DEFAULT 'sign-up key';
  ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
  CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at);
  CREATE TABLE device_sessions (
    id text COLLATE "C" PRIMARY KEY,
    user_id text COLLATE "C" NOT NULL,
    token_hash text COLLATE "C" NOT NULL UNIQUE,
    device_name text NOT NULL,
    created_at timestamptz NOT NULL,
    last_active_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
  );
  CREATE INDEX device_sessions_by_user ON device_sessions (user_id, created_at);
  CREATE TABLE passwords (
    user_id text COLLATE "C" PRIMARY KEY,
    hash text NOT NULL,
    updated_at timestamptz NOT NULL
  );
  `,
  // Safety: members gain a role and whether they accepted the chat (a message request until then),
  // groups whether members may add others; blocks, reports and suspensions get tables. The creator
  // of an existing group was never recorded, so its founding members become its admins.
  `
  ALTER TABLE members ADD COLUMN role text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member'));
  ALTER TABLE members ADD COLUMN request_state text NOT NULL DEFAULT 'accepted'
    CHECK (request_state IN ('accepted', 'pending', 'declined'));
  ALTER TABLE members ADD COLUMN joined_at timestamptz NOT NULL DEFAULT now();
  ALTER TABLE conversations ADD COLUMN members_can_add boolean NOT NULL DEFAULT true;
  UPDATE members SET role = 'admin'
   WHERE joined_seq = 0 AND conversation_id IN (SELECT id FROM conversations WHERE kind = 'group');
  CREATE TABLE blocks (
    blocker_id text COLLATE "C" NOT NULL,
    blocked_id text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
  );
  CREATE INDEX blocks_by_blocked ON blocks (blocked_id, blocker_id);
  CREATE TABLE reports (
    id text COLLATE "C" PRIMARY KEY,
    reporter_id text COLLATE "C" NOT NULL,
    conversation_id text COLLATE "C" NOT NULL,
    message_id text COLLATE "C",
    user_id text COLLATE "C",
    reason text NOT NULL,
    message jsonb,
    created_at timestamptz NOT NULL
  );
  CREATE INDEX reports_by_time ON reports (created_at, id);
  CREATE TABLE suspensions (
    user_id text COLLATE "C" PRIMARY KEY,
    reason text NOT NULL,
    created_at timestamptz NOT NULL
  );
  `,
  // Media: what is known about each uploaded file; its bytes are in object storage, by key.
  `
  CREATE TABLE uploads (
    id text COLLATE "C" PRIMARY KEY,
    owner_id text COLLATE "C" NOT NULL,
    name text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    width integer,
    height integer,
    duration_ms integer,
    blob_key text NOT NULL,
    thumbnail_key text,
    created_at timestamptz NOT NULL,
    attached_at timestamptz,
    conversation_id text COLLATE "C",
    message_id text COLLATE "C"
  );
  CREATE INDEX uploads_by_owner ON uploads (owner_id, created_at);
  CREATE INDEX uploads_unattached ON uploads (created_at) WHERE attached_at IS NULL;
  CREATE INDEX uploads_by_message ON uploads (message_id) WHERE message_id IS NOT NULL;
  `,
  // People search: whether a user can be found by others, and the indexes its prefix ranges walk
  // (code-point order, so a range is one index scan whatever the database's collation).
  `
  ALTER TABLE users ADD COLUMN discoverable boolean NOT NULL DEFAULT true;
  CREATE INDEX users_by_lower_username ON users ((lower(username) COLLATE "C"));
  CREATE INDEX users_by_lower_display_name ON users ((lower(display_name) COLLATE "C"));
  `,
  // Media: a message's attachments (with unsigned paths; NULL for none), users' and groups' avatars.
  `
  ALTER TABLE messages ADD COLUMN attachments jsonb;
  ALTER TABLE users ADD COLUMN avatar_upload_id text COLLATE "C";
  ALTER TABLE conversations ADD COLUMN avatar_upload_id text COLLATE "C";
  `,
  // Link previews: what the server read of the page a message's first link points to.
  `
  ALTER TABLE messages ADD COLUMN link_preview jsonb;
  `,
  // Content-addressed blobs: uploads of the same bytes share a key, and deleting one counts the
  // others that refer to it (as file or thumbnail) before its object may go.
  `
  CREATE INDEX uploads_by_blob_key ON uploads (blob_key);
  CREATE INDEX uploads_by_thumbnail_key ON uploads (thumbnail_key) WHERE thumbnail_key IS NOT NULL;
  `,
  // Credentials that ended (deleted, however: sign-out, revocation, account closing, a direct
  // DELETE; or their user suspended), journaled by triggers: each gateway reads the last seconds
  // of it every round instead of re-checking every open socket's credential.
  `
  CREATE TABLE credential_ends (
    credential_id text COLLATE "C" NOT NULL,
    ended_at timestamptz NOT NULL DEFAULT clock_timestamp()
  );
  CREATE INDEX credential_ends_by_time ON credential_ends (ended_at);
  CREATE FUNCTION credentials_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  BEGIN
    INSERT INTO credential_ends (credential_id) SELECT id FROM gone;
    RETURN NULL;
  END $$;
  CREATE TRIGGER device_sessions_ended AFTER DELETE ON device_sessions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION credentials_deleted();
  CREATE TRIGGER api_keys_ended AFTER DELETE ON api_keys
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION credentials_deleted();
  CREATE FUNCTION users_suspended() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  BEGIN
    INSERT INTO credential_ends (credential_id)
      SELECT id FROM device_sessions WHERE user_id IN (SELECT user_id FROM fresh)
      UNION ALL SELECT id FROM api_keys WHERE user_id IN (SELECT user_id FROM fresh);
    RETURN NULL;
  END $$;
  CREATE TRIGGER suspensions_end_credentials AFTER INSERT ON suspensions
    REFERENCING NEW TABLE AS fresh FOR EACH STATEMENT EXECUTE FUNCTION users_suspended();
  `,
];

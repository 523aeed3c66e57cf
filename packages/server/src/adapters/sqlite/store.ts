// SqliteStore: the embedded store's parts over one SQLite file shared with the event log (one
// writer), each the adapter of its own port; this only builds them over the same connection.
import type { RecordSink } from '../../core/messages/record-sink.js';
import { SqliteConversations } from './conversations.js';
import type { Db } from './db.js';
import { SqliteMessages } from './messages.js';
import { SqlitePeople } from './people.js';
import { SqliteBlocks, SqliteReports, SqliteSuspensions } from './safety.js';
import { SqliteSearch } from './search.js';
import { SqliteUploads } from './uploads.js';
import { SqliteUsers } from './users.js';

export class SqliteStore {
  readonly users: SqliteUsers;
  readonly conversations: SqliteConversations;
  readonly messages: SqliteMessages;
  readonly search: SqliteSearch;
  readonly uploads: SqliteUploads;
  readonly people: SqlitePeople;
  readonly blocks: SqliteBlocks;
  readonly suspensions: SqliteSuspensions;
  readonly reports: SqliteReports;
  /**
   * The persister's write. Embedded mode has no persister (the log's commit writes the store), so
   * this serves tests and tools; its records land as the log's commit would write them.
   */
  readonly records: RecordSink;
  private readonly db: Db;

  constructor(deps: { db: Db }) {
    this.db = deps.db;
    this.users = new SqliteUsers(this.db);
    this.people = new SqlitePeople({ db: this.db });
    this.blocks = new SqliteBlocks({ db: this.db });
    this.suspensions = new SqliteSuspensions({ db: this.db });
    this.reports = new SqliteReports({ db: this.db });
    // One search object is both the index the message writes keep and the reader of it.
    this.search = new SqliteSearch(this.db, (rows) => this.messages.withReactions(rows));
    const messages = new SqliteMessages(this.db, this.search);
    this.messages = messages;
    this.conversations = new SqliteConversations(this.db, this.messages);
    this.uploads = new SqliteUploads({ db: this.db });
    this.records = {
      apply: async (records) => messages.apply(records),
      quarantine: async (record, reason) => messages.quarantine(record, reason),
      quarantined: async (limit) => messages.quarantined(limit),
    };
  }

  /** Throws when the database cannot answer (readiness). */
  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

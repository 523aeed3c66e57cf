// PostgresStore: the cluster's store parts over one pool, each the adapter of its own port; this
// builds them, migrates, and answers readiness. Users and conversations are relational; messages
// are Cassandra-shaped (keyed by conversation and seq, hash-partitioned by conversation). Written by
// the persister through `records`, read by every gateway; reads may lag the log.
import type { RecordSink } from '../../core/messages/record-sink.js';
import { PostgresConversations } from './conversations.js';
import { PostgresMessages } from './messages.js';
import { migrate } from './migrate.js';
import { PostgresPeople } from './people.js';
import { openPool, PgDb, type PostgresConnection } from './pool.js';
import { PostgresBlocks, PostgresReports, PostgresSuspensions } from './safety.js';
import { PostgresSearch } from './search.js';
import { SendReads } from './send-reads.js';
import { PostgresUploads } from './uploads.js';
import { PostgresUsers } from './users.js';

export type PostgresStoreDeps = PostgresConnection;

export class PostgresStore {
  readonly users: PostgresUsers;
  readonly conversations: PostgresConversations;
  /** Also the log's lasting dedup (messageKey). */
  readonly messages: PostgresMessages;
  readonly search: PostgresSearch;
  readonly uploads: PostgresUploads;
  readonly people: PostgresPeople;
  readonly blocks: PostgresBlocks;
  readonly suspensions: PostgresSuspensions;
  readonly reports: PostgresReports;
  /** The persister's write: the message adapter, which writes every table a record touches. */
  readonly records: RecordSink;
  private readonly db: PgDb;
  private readonly owned: boolean;
  private readonly schema: string | null;
  private closed = false;

  constructor(deps: PostgresStoreDeps) {
    const { pool, owned, schema } = openPool(deps);
    this.db = new PgDb(pool);
    this.owned = owned;
    this.schema = schema;
    this.users = new PostgresUsers(this.db);
    this.people = new PostgresPeople(this.db);
    const reads = new SendReads(this.db);
    this.blocks = new PostgresBlocks({ pool, reads });
    this.suspensions = new PostgresSuspensions({ pool });
    this.reports = new PostgresReports({ pool });
    this.conversations = new PostgresConversations(this.db, reads);
    this.messages = new PostgresMessages(this.db, reads);
    this.search = new PostgresSearch(this.db);
    this.uploads = new PostgresUploads({ pool });
    this.records = this.messages;
  }

  /** Constructs and migrates: what a process calls at startup. */
  static async open(deps: PostgresStoreDeps): Promise<PostgresStore> {
    const store = new PostgresStore(deps);
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** Applies pending migrations (creating the schema if one was named); safe from many processes at once. */
  async migrate(): Promise<void> {
    await migrate(this.db.pool, this.schema);
  }

  /** Throws when the database cannot answer (readiness). */
  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  /** Ends the pool if this store opened it; a pool passed in belongs to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) await this.db.pool.end();
  }
}

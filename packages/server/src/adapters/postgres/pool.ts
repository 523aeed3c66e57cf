// The PostgreSQL connection: one pool, reads straight on it, writes in explicit transactions, and
// connection failures turned into AppError('unavailable') so use cases answer 503 instead of crashing.
import os from 'node:os';
import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { AppError, unavailable } from '../../domain/errors.js';

export type PostgresConnection =
  /** A pool the caller owns (and ends); its search_path decides the schema. */
  | { pool: Pool }
  /** The store opens (and ends) its own pool; `schema` (created by migrate) becomes its search_path. */
  | { connectionString: string; schema?: string; maxConnections?: number; pooler?: Pooler };

/**
 * A pooler between the server and PostgreSQL that hands each transaction (or autocommit statement)
 * to whichever server connection is free: PgBouncer in transaction mode. Nothing may then outlive a
 * transaction on the connection: no named prepared statements (PgBouncer before 1.21 does not track
 * them, and the next transaction may run on a connection that never prepared the name), no startup
 * options (PgBouncer refuses `options`). The schema and jit=off come from the role's settings
 * instead (docs/scaling.md), which PostgreSQL applies whenever the pooler opens a connection.
 */
export type Pooler = 'pgbouncer';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  return schema;
}

/**
 * No JIT compilation on the store's connections: every statement here touches a handful of rows,
 * and once a planner estimate crosses jit_above_cost (a 10M-message table was enough) each execution
 * compiles first: 865-1,229 ms measured for the send path's 0.1 ms dedup lookup. (Forcing generic
 * plans, to save that lookup's re-planning, was tried and dropped: a generic plan made while the
 * tables were empty seq-scanned them for the connection's life.)
 */
const SESSION_SETTINGS = ['-c jit=off'];

export function openPool(conn: PostgresConnection): { pool: Pool; owned: boolean; schema: string | null } {
  if ('pool' in conn) return { pool: conn.pool, owned: false, schema: null };
  const schema = conn.schema === undefined ? null : checkSchemaName(conn.schema);
  const pool = new pg.Pool({
    connectionString: withDefaultUser(conn.connectionString),
    max: conn.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
    ...(conn.pooler
      ? { Client: UnnamedStatementClient }
      : { options: [...(schema ? [`-c search_path=${schema}`] : []), ...SESSION_SETTINGS].join(' ') }),
  });
  // An idle client dying (server restart, network blip) is not fatal: the next query reconnects or
  // fails with 'unavailable'. Without a listener the pool's 'error' event would crash the process.
  pool.on('error', () => undefined);
  return { pool, owned: true, schema };
}

const clientQuery = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;

/**
 * A client that sends every statement unnamed, so the adapters keep naming the statements that are
 * worth preparing without a pooler and run unchanged behind one: an unnamed statement is parsed,
 * bound and executed in one round trip and forgotten, on whichever connection ran it.
 */
class UnnamedStatementClient extends pg.Client {
  override query(config: unknown, ...rest: unknown[]): never {
    return clientQuery.call(this, withoutName(config), ...rest) as never;
  }
}

function withoutName(config: unknown): unknown {
  if (typeof config !== 'object' || config === null || !('name' in config)) return config;
  if (typeof (config as { submit?: unknown }).submit === 'function') return config;
  const { name: _unused, ...rest } = config as Record<string, unknown>;
  return rest;
}

/**
 * Throws unless the pool's connections resolve tables in `schema` (once it exists): their startup
 * options say so without a pooler; behind one, only the role's (or database's) search_path can.
 */
export async function checkSearchPath(pool: Pool, schema: string): Promise<void> {
  let found: string | null;
  let role: string;
  try {
    const { rows } = await pool.query<{ found: string | null; role: string }>(
      'SELECT current_schema() AS found, current_user AS role',
    );
    ({ found, role } = rows[0]!);
  } catch (err) {
    throw toAppError(err);
  }
  if (found !== schema)
    throw new Error(
      `the database connections find tables in schema ${found ?? '(none)'}, not ${schema}: behind a pooler, set it for the role (ALTER ROLE ${role} SET search_path = ${schema})`,
    );
}

/** A URL without a user means the OS user, as psql does (pg itself reads only $USER, often unset). */
function withDefaultUser(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.username || !/^postgres(ql)?:$/.test(url.protocol)) return connectionString;
    url.username = process.env.PGUSER ?? os.userInfo().username;
    return url.toString();
  } catch {
    return connectionString;
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
// SQLSTATE: 08 connection exception, 57P01-57P03 shutdown / cannot connect now, 53300 too many connections.
const UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection ended/i;

/** True when the error means "the database cannot be reached", not "this query is wrong". */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.test(code))) return true;
  if (err instanceof AggregateError && err.errors.some(isUnavailable)) return true;
  return UNAVAILABLE_MESSAGES.test(err.message);
}

function toAppError(err: unknown): unknown {
  return err instanceof AppError || !isUnavailable(err) ? err : unavailable();
}

export class PgDb {
  readonly pool: Pool;

  constructor(pool: Pool) {
    this.pool = pool;
  }

  /**
   * `name` makes it a prepared statement (parsed and planned once per connection): for the
   * statements every send or delivery runs. Behind a pooler the name is dropped (UnnamedStatementClient).
   */
  async query<R extends QueryResultRow>(sql: string, params: unknown[] = [], name?: string): Promise<R[]> {
    try {
      return (await (name ? this.pool.query<R>({ name, text: sql, values: params }) : this.pool.query<R>(sql, params)))
        .rows;
    } catch (err) {
      throw toAppError(err);
    }
  }

  /** Runs `fn` in one transaction (READ COMMITTED); rolls back on any error. */
  async tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw toAppError(err);
    }
    let broken: Error | undefined;
    // The pool listens for errors only on idle clients. A connection that dies between two statements
    // of this transaction (server restart) would otherwise be an unhandled 'error' event: a crash.
    // The next statement then fails, and the client is destroyed on release.
    const onError = (err: Error) => {
      broken ??= err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw toAppError(err);
    } finally {
      // Releasing with an error destroys the client instead of returning a bad connection to the pool.
      client.removeListener('error', onError);
      client.release(broken);
    }
  }
}

/** A store over the backend's pool, which it shares with the other stores: the backend ends it. */
export abstract class PgStore {
  protected readonly db: PgDb;

  constructor(deps: { pool: Pool }) {
    this.db = new PgDb(deps.pool);
  }
}

/**
 * Options for the DataLoaders that merge concurrent single-row reads into one query. The batch is
 * sent in the event loop's check phase, after every socket read of the current iteration has been
 * handled: at low load a read goes out alone and at once; under load one query carries every read
 * that arrived meanwhile. Nothing is cached.
 */
export const BATCHED_READS = {
  cache: false,
  maxBatchSize: 500,
  batchScheduleFn: (run: () => void) => setImmediate(run),
} as const;

/** How long a windowed read waits for others to share its query. */
const READ_WINDOW_MS = 5;

/**
 * BATCHED_READS for the reads of a request that a burst repeats once per request (a new chat's
 * users, blocks and contacts): requests a few milliseconds apart each run in their own event-loop
 * turn, so the reads of READ_WINDOW_MS share one query instead, for that much more latency.
 */
export const WINDOWED_READS = {
  ...BATCHED_READS,
  batchScheduleFn: (run: () => void) => void setTimeout(run, READ_WINDOW_MS),
} as const;

// The table copier of `npm run migrate`: reads a TableSpec's rows from SQLite in key order, writes
// them to PostgreSQL in multi-row statements (unnest of one array per column), and checksums both
// sides the same way (sha256 over every compared column of every row, in key order).
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Pool } from 'pg';
import type { Column, ColumnType, TableSpec } from './tables.js';

const PG_ARRAY: Record<ColumnType, string> = {
  text: 'text[]',
  int: 'bigint[]',
  bool: 'boolean[]',
  ts: 'timestamptz[]',
  json: 'jsonb[]',
};

/** A spec narrowed to the columns both schemas have (a column newer than one side is left to its default). */
export interface ResolvedTable {
  spec: TableSpec;
  columns: Column[];
  /** Why the table is skipped, when it is. */
  skipped: string | null;
}

export interface TableResult {
  table: string;
  source: number;
  written: number;
  target: number;
  sourceSum: string;
  targetSum: string;
}

export async function resolveTable(db: Database.Database, pool: Pool, spec: TableSpec): Promise<ResolvedTable> {
  const source = new Set(
    (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(spec.table) as { name: string }[]).map((r) => r.name),
  );
  const { rows } = await pool.query<{ column_name: string }>(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
    [spec.table],
  );
  const target = new Set(rows.map((r) => r.column_name));
  if (source.size === 0 || target.size === 0) {
    const missing = source.size === 0 ? 'the embedded database' : 'PostgreSQL';
    if (!spec.optional) throw new Error(`${missing} has no table ${spec.table}: are both on this version?`);
    return { spec, columns: [], skipped: `not in ${missing}` };
  }
  const columns = spec.columns.filter(
    (c) => (c.from !== undefined || source.has(c.name)) && (c.unchecked === true || target.has(c.name)),
  );
  return { spec, columns, skipped: null };
}

function toPg(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'bool':
      return value !== 0 && value !== false;
    case 'ts':
      return value === '' ? null : new Date(value as string).toISOString();
    case 'int':
      return Number(value);
    default:
      return String(value);
  }
}

/** JSON with object keys sorted, so SQLite's text and jsonb's reordering compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function normalize(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'ts':
      return new Date(value as string | Date).toISOString();
    case 'int':
      return String(value);
    case 'bool':
      return Boolean(value);
    case 'json':
      return canonical(typeof value === 'string' ? JSON.parse(value) : value);
    default:
      return value;
  }
}

/** The source rows of a table, typed and prepared as they are written, in key order. */
function* sourceRows(db: Database.Database, t: ResolvedTable): Generator<Record<string, unknown>> {
  const select = t.columns.map((c) => `${c.from ?? `t.${c.name}`} AS ${c.name}`).join(', ');
  const from = t.spec.from ?? `${t.spec.table} t`;
  const stmt = db.prepare(`SELECT ${select} FROM ${from} ORDER BY ${t.spec.key.join(', ')}`);
  for (const raw of stmt.iterate() as Iterable<Record<string, unknown>>) {
    const typed: Record<string, unknown> = {};
    for (const c of t.columns) typed[c.name] = toPg(c.type, raw[c.name]);
    yield t.spec.prepare ? t.spec.prepare(typed) : typed;
  }
}

class Checksum {
  private readonly hash = createHash('sha256');
  count = 0;
  constructor(private readonly columns: Column[]) {}
  add(row: Record<string, unknown>): void {
    this.count++;
    this.hash.update(`${JSON.stringify(this.columns.map((c) => normalize(c.type, row[c.name])))}\n`);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Copies the table in batches of `batch` rows; what is already there (same key) stays as it is. */
export async function copyTable(
  db: Database.Database,
  pool: Pool,
  t: ResolvedTable,
  batch: number,
): Promise<{ source: number; written: number; sourceSum: string }> {
  const names = t.columns.map((c) => c.name);
  const input = `WITH input AS (SELECT * FROM unnest(${t.columns
    .map((c, i) => `$${i + 1}::${PG_ARRAY[c.type]}`)
    .join(', ')}) AS u(${names.join(', ')}))`;
  const insert = t.spec.insert
    ? t.spec.insert(names)
    : `INSERT INTO ${t.spec.table} (${names.join(', ')}) SELECT ${names.join(', ')} FROM input ON CONFLICT DO NOTHING`;
  const sql = `${input} ${insert}`;
  const sum = new Checksum(t.columns.filter((c) => !c.unchecked));
  let rows: Record<string, unknown>[] = [];
  let written = 0;
  const flush = async () => {
    if (rows.length === 0) return;
    const values = t.columns.map((c) => rows.map((r) => r[c.name]));
    written += (await pool.query(sql, values)).rowCount ?? 0;
    rows = [];
  };
  // The iterator stays open across the awaits: better-sqlite3 refuses other statements on the
  // connection meanwhile, and none runs (stages go one after the other).
  for (const row of sourceRows(db, t)) {
    sum.add(row);
    rows.push(row);
    if (rows.length >= batch) await flush();
  }
  await flush();
  return { source: sum.count, written, sourceSum: sum.digest() };
}

/** The target table's count and checksum over the same columns, read in key order in pages. */
export async function checksumTarget(
  pool: Pool,
  t: ResolvedTable,
  page: number,
): Promise<{ count: number; sum: string }> {
  const checked = t.columns.filter((c) => !c.unchecked);
  const key = t.spec.key;
  const keyType = (k: string) => PG_ARRAY[t.columns.find((c) => c.name === k)?.type ?? 'text'].slice(0, -2);
  const after = `(${key.join(', ')}) > (${key.map((k, i) => `$${i + 1}::${keyType(k)}`).join(', ')})`;
  const select = (where: string) =>
    `SELECT ${checked.map((c) => c.name).join(', ')} FROM ${t.spec.table} ${where} ORDER BY ${key.join(', ')} LIMIT ${page}`;
  const sum = new Checksum(checked);
  let last: unknown[] | null = null;
  for (;;) {
    const params: unknown[] = last ?? [];
    const { rows }: { rows: Record<string, unknown>[] } = await pool.query(
      last ? select(`WHERE ${after}`) : select(''),
      params,
    );
    for (const row of rows) sum.add(row);
    if (rows.length < page) break;
    const end: Record<string, unknown> = rows[rows.length - 1]!;
    last = key.map((k) => end[k]);
  }
  return { count: sum.count, sum: sum.digest() };
}

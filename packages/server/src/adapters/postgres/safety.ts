// Blocks, reports and suspensions in PostgreSQL.
import type { Message, Report } from '@messenger/protocol';
import type { Pool } from 'pg';
import type { BlockStore } from '../../core/safety/block-store.js';
import type { ReportStore } from '../../core/safety/report-store.js';
import type { SuspensionStore } from '../../core/safety/suspension-store.js';
import { REPORT_COLUMNS, type ReportRow, reportFromRow, reportValues } from '../sql/report-rows.js';
import DataLoader from 'dataloader';
import { PgDb, PgStore, WINDOWED_READS } from './pool.js';
import type { SendReads } from './send-reads.js';

export class PostgresBlocks implements BlockStore {
  private readonly db: PgDb;
  /** The send path's batched reads, when this store shares them (PostgresStore's does). */
  private readonly reads: SendReads | null;

  constructor(deps: { pool: Pool; reads?: SendReads }) {
    this.db = new PgDb(deps.pool);
    this.reads = deps.reads ?? null;
  }

  async block(blockerId: string, blockedId: string, at: string): Promise<void> {
    await this.db.query(
      'INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [blockerId, blockedId, at],
    );
  }

  async unblock(blockerId: string, blockedId: string): Promise<void> {
    await this.db.query('DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2', [blockerId, blockedId]);
  }

  async blockedBy(blockerId: string): Promise<string[]> {
    const rows = await this.db.query<{ blocked_id: string }>(
      'SELECT blocked_id FROM blocks WHERE blocker_id = $1 ORDER BY created_at DESC, blocked_id',
      [blockerId],
    );
    return rows.map((r) => r.blocked_id);
  }

  async blockedInDirectChat(conversationId: string, senderId: string): Promise<boolean> {
    if (this.reads) return this.reads.blocked(conversationId, senderId);
    const rows = await this.db.query(
      `SELECT 1 FROM conversations c JOIN members o ON o.conversation_id = c.id AND o.user_id <> $2
         JOIN blocks b ON b.blocker_id = o.user_id AND b.blocked_id = $2
        WHERE c.id = $1 AND c.kind = 'direct'`,
      [conversationId, senderId],
      'messenger.blocked-in-direct',
    );
    return rows.length > 0;
  }

  /**
   * Every new chat, add and typing frame asks this: the asks of a few milliseconds share one query,
   * each (user, other) pair two primary-key probes (one per direction).
   */
  private readonly blockedPairs = new DataLoader<{ userId: string; others: string[] }, Set<string>>(async (asks) => {
    const ask: number[] = [];
    const users: string[] = [];
    const others: string[] = [];
    asks.forEach((a, i) => {
      for (const other of a.others) {
        ask.push(i);
        users.push(a.userId);
        others.push(other);
      }
    });
    const rows = await this.db.query<{ i: number; other: string }>(
      `SELECT q.i, q.o AS other FROM unnest($1::int[], $2::text[], $3::text[]) AS q(i, u, o)
        WHERE EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = q.u AND b.blocked_id = q.o)
           OR EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = q.o AND b.blocked_id = q.u)`,
      [ask, users, others],
      'messenger.blocked-pairs',
    );
    const found = asks.map(() => new Set<string>());
    for (const row of rows) found[row.i]!.add(row.other);
    return found;
  }, WINDOWED_READS);

  async blockedEither(userId: string, others: string[]): Promise<Set<string>> {
    if (others.length === 0) return new Set();
    return this.blockedPairs.load({ userId, others });
  }
}

export class PostgresReports extends PgStore implements ReportStore {
  async createReport(r: Report): Promise<void> {
    await this.db.query(
      `INSERT INTO reports (${REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      reportValues(r),
    );
  }

  async reports(limit: number): Promise<Report[]> {
    const rows = await this.db.query<ReportRow<Message, Date>>(
      'SELECT * FROM reports ORDER BY created_at DESC, id DESC LIMIT $1',
      [limit],
    );
    return rows.map((row) => reportFromRow(row, { message: (m) => m, iso: (d) => d.toISOString() }));
  }
}

export class PostgresSuspensions extends PgStore implements SuspensionStore {
  async suspend(userId: string, reason: string, at: string): Promise<void> {
    await this.db.query(
      'INSERT INTO suspensions (user_id, reason, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [userId, reason, at],
    );
  }

  async unsuspend(userId: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM suspensions WHERE user_id = $1 RETURNING 1', [userId]);
    return rows.length > 0;
  }

  async isSuspended(userId: string): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 FROM suspensions WHERE user_id = $1', [userId]);
    return rows.length > 0;
  }
}

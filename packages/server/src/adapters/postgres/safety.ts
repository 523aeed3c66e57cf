// Blocks, reports and suspensions in PostgreSQL.
import type { Message, Report } from '@messenger/protocol';
import type { Pool } from 'pg';
import type { BlockStore } from '../../core/safety/block-store.js';
import type { ReportStore } from '../../core/safety/report-store.js';
import type { SuspensionStore } from '../../core/safety/suspension-store.js';
import { REPORT_COLUMNS, type ReportRow, reportFromRow, reportValues } from '../sql/report-rows.js';
import { PgDb } from './pool.js';

export class PostgresBlocks implements BlockStore {
  private readonly db: PgDb;

  constructor(deps: { pool: Pool }) {
    this.db = new PgDb(deps.pool);
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
    const rows = await this.db.query(
      `SELECT 1 FROM conversations c JOIN members o ON o.conversation_id = c.id AND o.user_id <> $2
         JOIN blocks b ON b.blocker_id = o.user_id AND b.blocked_id = $2
        WHERE c.id = $1 AND c.kind = 'direct'`,
      [conversationId, senderId],
      'messenger.blocked-in-direct',
    );
    return rows.length > 0;
  }

  async blockedEither(userId: string, others: string[]): Promise<Set<string>> {
    if (others.length === 0) return new Set();
    const rows = await this.db.query<{ id: string }>(
      `SELECT blocked_id AS id FROM blocks WHERE blocker_id = $1 AND blocked_id = ANY($2::text[])
       UNION SELECT blocker_id FROM blocks WHERE blocked_id = $1 AND blocker_id = ANY($2::text[])`,
      [userId, others],
      'messenger.blocked-either',
    );
    return new Set(rows.map((r) => r.id));
  }
}

export class PostgresReports implements ReportStore {
  private readonly db: PgDb;

  constructor(deps: { pool: Pool }) {
    this.db = new PgDb(deps.pool);
  }

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

export class PostgresSuspensions implements SuspensionStore {
  private readonly db: PgDb;

  constructor(deps: { pool: Pool }) {
    this.db = new PgDb(deps.pool);
  }

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

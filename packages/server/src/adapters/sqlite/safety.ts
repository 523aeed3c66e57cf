// Blocks, reports and suspensions in SQLite.
import type { Report } from '@messenger/protocol';
import type { BlockStore } from '../../core/safety/block-store.js';
import type { ReportStore } from '../../core/safety/report-store.js';
import type { SuspensionStore } from '../../core/safety/suspension-store.js';
import { REPORT_COLUMNS, type ReportRow, reportFromRow, reportValues } from '../sql/report-rows.js';
import type { Db } from './db.js';

export class SqliteBlocks implements BlockStore {
  private readonly s;

  constructor(deps: { db: Db }) {
    const db = deps.db;
    this.s = {
      block: db.prepare('INSERT OR IGNORE INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?)'),
      unblock: db.prepare('DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?'),
      blockedBy: db.prepare<[string], { blocked_id: string }>(
        'SELECT blocked_id FROM blocks WHERE blocker_id = ? ORDER BY created_at DESC, blocked_id',
      ),
      either: db.prepare<[string, string, string, string], { id: string }>(
        `SELECT blocked_id AS id FROM blocks WHERE blocker_id = ? AND blocked_id IN (SELECT value FROM json_each(?))
         UNION SELECT blocker_id FROM blocks WHERE blocked_id = ? AND blocker_id IN (SELECT value FROM json_each(?))`,
      ),
      inDirect: db.prepare<[string, string, string], { n: number }>(
        `SELECT 1 AS n FROM conversations c JOIN members o ON o.conversation_id = c.id AND o.user_id != ?
           JOIN blocks b ON b.blocker_id = o.user_id AND b.blocked_id = ?
          WHERE c.id = ? AND c.kind = 'direct'`,
      ),
    };
  }

  async blockedInDirectChat(conversationId: string, senderId: string): Promise<boolean> {
    return this.s.inDirect.get(senderId, senderId, conversationId) !== undefined;
  }

  async block(blockerId: string, blockedId: string, at: string): Promise<void> {
    this.s.block.run(blockerId, blockedId, at);
  }

  async unblock(blockerId: string, blockedId: string): Promise<void> {
    this.s.unblock.run(blockerId, blockedId);
  }

  async blockedBy(blockerId: string): Promise<string[]> {
    return this.s.blockedBy.all(blockerId).map((r) => r.blocked_id);
  }

  async blockedEither(userId: string, others: string[]): Promise<Set<string>> {
    if (others.length === 0) return new Set();
    const list = JSON.stringify(others);
    return new Set(this.s.either.all(userId, list, userId, list).map((r) => r.id));
  }
}

export class SqliteReports implements ReportStore {
  private readonly s;

  constructor(deps: { db: Db }) {
    const db = deps.db;
    this.s = {
      insert: db.prepare(`INSERT INTO reports (${REPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      page: db.prepare<[number], ReportRow<string, string>>(
        'SELECT * FROM reports ORDER BY created_at DESC, id DESC LIMIT ?',
      ),
    };
  }

  async createReport(r: Report): Promise<void> {
    this.s.insert.run(...reportValues(r));
  }

  async reports(limit: number): Promise<Report[]> {
    return this.s.page.all(limit).map((row) => reportFromRow(row, { message: (m) => JSON.parse(m), iso: (t) => t }));
  }
}

export class SqliteSuspensions implements SuspensionStore {
  private readonly s;

  constructor(deps: { db: Db }) {
    const db = deps.db;
    this.s = {
      suspend: db.prepare('INSERT OR IGNORE INTO suspensions (user_id, reason, created_at) VALUES (?, ?, ?)'),
      unsuspend: db.prepare('DELETE FROM suspensions WHERE user_id = ?'),
      one: db.prepare<[string], { user_id: string }>('SELECT user_id FROM suspensions WHERE user_id = ?'),
    };
  }

  async suspend(userId: string, reason: string, at: string): Promise<void> {
    this.s.suspend.run(userId, reason, at);
  }

  async unsuspend(userId: string): Promise<boolean> {
    return this.s.unsuspend.run(userId).changes > 0;
  }

  async isSuspended(userId: string): Promise<boolean> {
    return this.s.one.get(userId) !== undefined;
  }
}

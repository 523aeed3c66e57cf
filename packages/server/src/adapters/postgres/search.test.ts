// PostgresSearch for a viewer in many chats (more than are probed one by one): the windowed path,
// against a reference that reads every visible match. Same results whatever windows it took.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LogRecord } from '../../core/log-entries.js';
import { tsQuery, windowProbes } from './search.js';
import { PostgresStore } from './store.js';
import { admin, nextPos, onPostgres, sent, URL } from './test-db.js';

describe('windowProbes', () => {
  it('finds a window of the last days from its first day on, another through the spans that cover it', () => {
    const today = 20_040;
    for (let until = 20_000; until < today; until++) {
      for (const length of [1, 3, 6, 7, 10, 16, 17, 40, 48]) {
        const { after, spans, from } = windowProbes(until - length, until, today);
        if (today - (until - length) <= 6) {
          expect({ after, spans, from }).toEqual({ after: until - length, spans: [], from: until - length });
          continue;
        }
        expect(after).toBeNull();
        // Whole spans, newest first, from the one holding the window's last day down to `from`.
        expect(from).toBeLessThanOrEqual(until - length);
        expect(from).toBeGreaterThan(until - length - 16);
        expect(spans[0]).toBe(Math.floor((until - 1) / 16));
        expect(spans.at(-1)! * 16).toBe(from);
        spans.forEach((s, i) => {
          expect(s).toBe(spans[0]! - i);
        });
      }
    }
  });
});

const DAY = 86_400_000;
const created = (conversationId: string, senderId: string, seq: number, body: string, createdAt: number): LogRecord =>
  sent(conversationId, senderId, seq, { body, clientMsgId: `c_${conversationId}_${seq}`, createdAt });

onPostgres('PostgresSearch', () => {
  describe('PostgresSearch for a viewer in many chats', () => {
    const schema = `s_${randomBytes(6).toString('hex')}`;
    let store: PostgresStore;
    let ref: pg.Pool;
    const viewer = 'u_viewer';
    // Which windows a search takes depends on the time of day and on where today falls in the 16-day
    // spans, so the clock is fixed: the same paths every run, whatever the date.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-11-28T12:00:00Z') });
    afterAll(() => {
      vi.useRealTimers();
    });
    const now = Date.now();

    beforeAll(async () => {
      store = await PostgresStore.open({ connectionString: URL, schema, maxConnections: 4 });
      ref = new pg.Pool({ connectionString: URL, max: 1, options: `-c search_path=${schema}` });
      const at = new Date(now - 400 * DAY).toISOString();
      for (const id of [viewer, 'u_other', 'u_late'])
        await store.users.createUser({ id, username: id, displayName: id, createdAt: at, apiKeyHash: `h_${id}` });
      // 70 chats of the viewer (more than are probed one by one), 10 without the viewer.
      const convs = Array.from({ length: 80 }, (_, i) => `c_${i}`);
      for (const [i, id] of convs.entries()) {
        const members = i < 70 ? [viewer, 'u_other'] : ['u_other', 'u_late'];
        await store.conversations.createConversation({
          id,
          kind: 'group',
          title: id,
          createdAt: at,
          memberIds: members,
          directKey: null,
        });
      }
      // 20,000 messages over 300 days, denser lately. Every message has "alpha"; "beta" one in 7,
      // "gamma delta" one in 60, "zeta" one in 400; some accents, prefixes and CJK; "omega" is in
      // every message the viewer cannot see but one in 97 of the others (many matches, few visible).
      const seqs = new Map<string, number>();
      const records: LogRecord[] = [];
      const n = 20_000;
      for (let k = 0; k < n; k++) {
        const c = (k * 37) % convs.length;
        const conv = convs[c]!;
        const seq = (seqs.get(conv) ?? 0) + 1;
        seqs.set(conv, seq);
        const age = 300 * DAY * (1 - Math.sqrt(k / n)); // newest last
        const words = ['alpha'];
        if (k % 7 === 0) words.push('beta');
        if (k % 60 === 0) words.push('gamma', 'delta');
        if (k % 400 === 0) words.push('zeta');
        if (k % 11 === 0) words.push('café');
        if (k % 13 === 0) words.push('東京の会議');
        if (c >= 70 || k % 97 === 0) words.push('omega');
        records.push(created(conv, k % 2 ? viewer : 'u_other', seq, `${words.join(' ')} #${k}`, now - age - 1000 + k));
      }
      for (let i = 0; i < records.length; i += 1000) await store.records.apply(records.slice(i, i + 1000));
      // Visibility: deleted for everyone, hidden for the viewer, and a chat the viewer joined late.
      const edits: LogRecord[] = [];
      for (const r of records.filter((_, k) => k % 150 === 3 || k % 150 === 10)) {
        if (r.type !== 'message.created') continue;
        const m = r.message;
        const k = Number(m.body.split('#')[1]);
        edits.push({
          type: 'message.deleted',
          conversationId: m.conversationId,
          messageId: m.id,
          for: k % 150 === 3 ? 'everyone' : 'me',
          userId: viewer,
          at: new Date(now).toISOString(),
          pos: nextPos(),
        });
      }
      await store.records.apply(edits);
      await admin.query(`UPDATE ${schema}.members SET joined_seq = 40 WHERE conversation_id = 'c_5' AND user_id = $1`, [
        viewer,
      ]);
    });
    afterAll(async () => {
      await ref?.end();
      await store?.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    });

    /** Every visible match, newest first; the newest 200 ranked best first, ties newest first. */
    async function reference(q: string, limit: number): Promise<string[]> {
      const tsq = tsQuery(q, 2)!;
      const { rows } = await ref.query<{ id: string; score: number }>(
        `SELECT m.id, ts_rank(m.search, ${tsq.sql}) AS score FROM messages m
           JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = $1
          WHERE m.search @@ ${tsq.sql} AND m.deleted_at IS NULL AND m.seq > mb.joined_seq
            AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = $1 AND h.conversation_id = m.conversation_id AND h.seq = m.seq)
          ORDER BY m.created_at DESC LIMIT 200`,
        [viewer, ...tsq.params],
      );
      return rows
        .sort((a, b) => b.score - a.score)
        .slice(0, limit)
        .map((r) => r.id);
    }

    // The statements the searches ran (by name) and the probes' days and spans, to check every path was taken.
    const statements: string[] = [];
    const probes: { after: number | null; spans: number[] }[] = [];
    const query = pg.Client.prototype.query;
    beforeAll(() => {
      pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
        const config = args[0] as { name?: string; values?: unknown[] } | undefined;
        if (config?.name?.startsWith('messenger.search.')) {
          statements.push(config.name);
          if (config.name === 'messenger.search.probes')
            probes.push({ after: config.values![2] as number | null, spans: config.values![4] as number[] });
        }
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query;
    });
    afterAll(() => {
      pg.Client.prototype.query = query;
    });

    it.each([
      'alpha',
      'beta',
      'gamma delta',
      'zeta',
      'cafe',
      'café beta',
      'alph',
      '東京',
      '会議',
      'beta zeta',
      'omega',
      'omega beta',
      'nothing',
    ])('finds what a full scan finds: %s', async (q) => {
      const expected = await reference(q, 50);
      const got = (await store.search.search(viewer, { q, limit: 50 })).map((r) => r.message.id);
      expect(got).toEqual(expected);
    });

    it('took every path: the newest days, short and long older windows, and the rest', () => {
      expect(statements).toContain('messenger.search.recent');
      expect(statements).toContain('messenger.search.rest');
      expect(statements).not.toContain('messenger.search.conversations');
      expect(probes.some((p) => p.after !== null)).toBe(true);
      expect(probes.some((p) => p.spans.length > 0)).toBe(true);
    });

    it('never shows what the viewer may not see', async () => {
      const results = await store.search.search(viewer, { q: 'alpha', limit: 200 });
      expect(results).toHaveLength(200);
      for (const r of results) {
        expect(Number(r.conversationId.slice(2))).toBeLessThan(70);
        expect(r.message.deletedAt).toBeNull();
        const k = Number(r.message.body.split('#')[1]);
        expect([3, 10]).not.toContain(k % 150);
        if (r.conversationId === 'c_5') expect(r.message.seq).toBeGreaterThan(40);
      }
    });
  });
});

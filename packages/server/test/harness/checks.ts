// What the apps of a test must add up to: acknowledged = stored = delivered, no duplicates, seq
// order, and a store that is a gap-free prefix of each conversation's log while a fault plays out.
import type { Message } from '@messenger/protocol';
import type { App } from './apps.js';
import { fullHistory, type TestUser } from './http.js';
import { sleep } from './wait.js';

/**
 * acknowledged = stored = delivered, zero duplicates, seq order per conversation:
 * - `history` (the store, paged with afterSeq) has no duplicate id, seq or (sender, clientMsgId) and ascends in seq;
 * - every acked message is stored with the acked id and seq, and every stored message was acked
 *   (`extraAcked` adds acks obtained outside the SDK apps, e.g. raw HTTP sends);
 * - each sender's acks ascend in seq within a conversation (it sent them one after another);
 * - every app that is a member was handed exactly the stored messages, once each, in seq order.
 * Returns a list of human-readable violations (empty when all hold).
 */
export function checkConversation(
  conversationId: string,
  history: Message[],
  apps: App[],
  memberApps: App[],
  extraAcked: Message[] = [],
): string[] {
  const problems: string[] = [];
  const seqs = history.map((m) => m.seq);
  for (let i = 1; i < seqs.length; i++)
    if (!(seqs[i]! > seqs[i - 1]!))
      problems.push(`history not strictly ascending at ${i}: ${seqs[i - 1]} then ${seqs[i]}`);
  const byKey = new Map<string, Message>();
  const ids = new Set<string>();
  for (const m of history) {
    const key = `${m.senderId}:${m.clientMsgId}`;
    if (byKey.has(key)) problems.push(`stored twice: ${key} (seq ${byKey.get(key)!.seq} and ${m.seq})`);
    if (ids.has(m.id)) problems.push(`id stored twice: ${m.id}`);
    byKey.set(key, m);
    ids.add(m.id);
  }
  const acked = [...apps.flatMap((a) => a.acked), ...extraAcked].filter((m) => m.conversationId === conversationId);
  const ackedKeys = new Set<string>();
  for (const a of acked) {
    const key = `${a.senderId}:${a.clientMsgId}`;
    ackedKeys.add(key);
    const stored = byKey.get(key);
    if (!stored) problems.push(`acknowledged but not stored: ${key} seq ${a.seq}`);
    else if (stored.id !== a.id || stored.seq !== a.seq)
      problems.push(`stored differs from ack: ${key} ack ${a.id}/${a.seq} stored ${stored.id}/${stored.seq}`);
  }
  for (const key of byKey.keys()) if (!ackedKeys.has(key)) problems.push(`stored but never acknowledged: ${key}`);
  for (const app of apps) {
    const mine = app.acked.filter((m) => m.conversationId === conversationId).map((m) => m.seq);
    for (let i = 1; i < mine.length; i++)
      if (!(mine[i]! > mine[i - 1]!))
        problems.push(`${app.user.username}'s acks out of order: ${mine[i - 1]} then ${mine[i]}`);
  }
  const storedIds = history.map((m) => m.id);
  for (const app of memberApps) {
    const seen = (app.seen.get(conversationId) ?? []).map((m) => m.id);
    const missing = storedIds.filter((id) => !seen.includes(id));
    const dupes = seen.length - new Set(seen).size;
    if (missing.length > 0)
      problems.push(
        `${app.user.username} was never handed ${missing.length} stored message(s), seqs ${history
          .filter((m) => missing.includes(m.id))
          .map((m) => m.seq)
          .slice(0, 20)
          .join(',')}`,
      );
    if (dupes > 0) problems.push(`${app.user.username} was handed ${dupes} duplicate(s)`);
    const seenSeqs = (app.seen.get(conversationId) ?? []).map((m) => m.seq);
    for (let i = 1; i < seenSeqs.length; i++)
      if (!(seenSeqs[i]! > seenSeqs[i - 1]!))
        problems.push(`${app.user.username} handed out of order: ${seenSeqs[i - 1]} then ${seenSeqs[i]}`);
    const extra = seen.filter((id) => !storedIds.includes(id));
    if (extra.length > 0)
      problems.push(`${app.user.username} was handed ${extra.length} message(s) that are not stored`);
  }
  return problems;
}

/**
 * Waits until every app, each a member of every one of `conversations`, was handed what the store
 * holds (or the timeout), then checks; `reader` reads the store through the server it calls.
 */
export async function settleAndCheck(
  reader: TestUser,
  conversations: string[],
  apps: App[],
  timeoutMs: number,
  extraAcked: Message[] = [],
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems: string[] = [];
    for (const conv of conversations) {
      const history = await fullHistory(reader, conv);
      problems.push(...checkConversation(conv, history, apps, apps, extraAcked).map((p) => `${conv}: ${p}`));
    }
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await sleep(500);
  }
}

/**
 * Watches the store while a fault plays out: the store must always hold a gap-free prefix of each
 * conversation's log, so no acknowledged seq may be missing below the highest stored seq (a client
 * syncing with afterSeq would skip it for good). Polls until stopped; returns the violations seen.
 */
export function watchGaps(
  reader: TestUser,
  conversations: string[],
  acked: () => Message[],
): { stop(): Promise<string[]> } {
  const violations: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const conv of conversations) {
        // Acks taken before reading the store: each of them is durable in the log by now.
        const known = acked()
          .filter((m) => m.conversationId === conv)
          .map((m) => m.seq);
        let stored: Message[];
        try {
          stored = await fullHistory(reader, conv);
        } catch {
          continue; // the store may be down on purpose
        }
        const have = new Set(stored.map((m) => m.seq));
        const top = stored.at(-1)?.seq ?? 0;
        const holes = known.filter((s) => s < top && !have.has(s)).sort((a, b) => a - b);
        if (holes.length > 0 && violations.length < 5)
          violations.push(
            `${conv}: stored up to seq ${top} but acked seq(s) ${holes.slice(0, 10).join(',')}${holes.length > 10 ? '...' : ''} (${holes.length}) missing below it`,
          );
      }
      await sleep(150);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return violations;
    },
  };
}

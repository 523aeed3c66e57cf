// After every (re)connect: page in what the app missed while away, then release the live events held back meanwhile.
import { LIMITS, type Conversation, type Message, type ServerEvent } from '@messenger/protocol';
import type { CatchUpTarget, SeqTracker } from './seq-tracker.js';

export interface CatchUpDeps {
  api: {
    listAllConversations(): Promise<Conversation[]>;
    /** Message requests: the chat list leaves them out, yet their messages reach the member too. */
    listAllRequests?(): Promise<Conversation[]>;
    getMessages(conversationId: string, opts: { afterSeq?: number; limit?: number }): Promise<Message[]>;
  };
  tracker: SeqTracker;
  emit(event: ServerEvent): void;
  /** False once the socket this run belongs to is gone: a newer run owns the tracker then. */
  isCurrent(): boolean;
  pageSize?: number;
  /** Conversations paged at once; a few hide latency without flooding the server after an outage. */
  concurrency?: number;
}

export interface CatchUpResult {
  /** The conversation list this run was planned from, as the server gave it. */
  conversations: Conversation[];
  /** Those of them the tracker had never heard of before this run (created or joined while away). */
  added: Conversation[];
}

/**
 * The caller must have called `tracker.beginCatchUp()` before the socket's first event. Throws on
 * any HTTP failure; the caller then runs it again (same socket, no new beginCatchUp) or drops the
 * socket, and the next run starts over from what was handed out, so nothing is skipped or repeated. Resolves with the listing once every
 * conversation is caught up, or `undefined` when the run went stale.
 */
export async function catchUp(deps: CatchUpDeps): Promise<CatchUpResult | undefined> {
  const [conversations, requests] = await Promise.all([
    deps.api.listAllConversations(),
    deps.api.listAllRequests?.() ?? [],
  ]);
  if (!deps.isCurrent()) return undefined;
  const added = conversations.filter((c) => !deps.tracker.isKnown(c.id));
  // Requests are caught up like any chat (a kill -9 or a reconnect must not lose their messages),
  // but the result, which apps take for their chat list, stays the chat list.
  const listed = new Set(conversations.map((c) => c.id));
  const plan = deps.tracker.plan([...conversations, ...requests.filter((r) => !listed.has(r.id))]);
  for (const event of plan.ready) deps.emit(event);

  const queue = [...plan.targets];
  const worker = async (): Promise<void> => {
    for (let target = queue.shift(); target; target = queue.shift()) {
      if (!(await catchUpConversation(deps, target))) return;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.concurrency ?? 4) }, worker));
  // A worker that saw the run go stale stopped early: what is left is the next run's.
  if (!deps.isCurrent()) return undefined;
  return { conversations, added };
}

/** Returns false when the run went stale. */
async function catchUpConversation(deps: CatchUpDeps, target: CatchUpTarget): Promise<boolean> {
  const limit = deps.pageSize ?? LIMITS.maxHistoryLimit;
  const id = target.conversationId;
  for (;;) {
    const afterSeq = deps.tracker.handed(id) ?? target.afterSeq;
    const page = await deps.api.getMessages(id, { afterSeq, limit });
    if (!deps.isCurrent()) return false;
    for (const event of deps.tracker.caughtUp(id, page)) deps.emit(event);
    const last = page.reduce((max, m) => Math.max(max, m.seq), afterSeq);
    // A short page is the end; so is reaching the listed lastSeq (anything newer came live and is buffered).
    // Messages hidden from the caller can leave lastSeq unreachable, hence the short-page test.
    if (page.length < limit || last >= target.lastSeq || last <= afterSeq) break;
  }
  for (const event of deps.tracker.finish(id)) deps.emit(event);
  return true;
}

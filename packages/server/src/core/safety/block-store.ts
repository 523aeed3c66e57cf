// BlockStore: who blocked whom, a durable per-user list that the safety rules read before a send,
// an add, a new direct chat, and before typing or presence reaches anyone. Written directly, not
// through the log: once a call resolves every later read on any process sees it.
export interface BlockStore {
  /** Idempotent: blocking twice keeps the first time. */
  block(blockerId: string, blockedId: string, at: string): Promise<void>;
  /** Idempotent. */
  unblock(blockerId: string, blockedId: string): Promise<void>;
  /** The users `blockerId` blocked, most recent first. */
  blockedBy(blockerId: string): Promise<string[]>;
  /** Among `others`, the users with a block between them and `userId`, whichever way. */
  blockedEither(userId: string, others: string[]): Promise<Set<string>>;
  /** Whether `conversationId` is a direct chat whose other member blocked `senderId` (asked on every send). */
  blockedInDirectChat(conversationId: string, senderId: string): Promise<boolean>;
}

// AccountStore: what changes a whole account at once: its profile, its closing, the messages it
// sent, and whether credentials still hold or have ended. Written directly, not through the log: durable once a
// call resolves and seen by every later read.
import type { Message, User } from '@messenger/protocol';

export interface AccountStore {
  /** The user as it is now; null when there is no such user. */
  setDisplayName(userId: string, displayName: string): Promise<User | null>;
  /** Sets (or with null removes) the avatar; answers the user and the upload it replaced. */
  setAvatar(userId: string, uploadId: string | null): Promise<{ user: User | null; previous: string | null }>;
  /**
   * In one transaction: every session, API key and the password of the user end, and the user
   * becomes a tombstone named `tombstone.username` (which frees the old username). Returns the ids
   * of the credentials it ended; idempotent (a second call ends none and renames nothing new).
   */
  closeAccount(userId: string, tombstone: { username: string; displayName: string }): Promise<string[]>;
  /**
   * The messages `senderId` sent that are not deleted, by clientMsgId after `afterClientMsgId`
   * (null: from the first), at most `limit`: a cursor that holds while some of them are deleted.
   */
  sentMessages(senderId: string, afterClientMsgId: string | null, limit: number): Promise<Message[]>;
  /**
   * Which of these credential ids (sessions, API keys) still hold at `now` (not ended, not expired,
   * not of a suspended user), each with its expiry: null for a key, which never expires.
   */
  liveCredentials(ids: string[], now: string): Promise<Map<string, string | null>>;
  /**
   * The credentials that ended after `since` by the database's clock (deleted by any statement, or
   * their user suspended), and that clock's reading: a reader passes it back, less a margin for
   * writes that commit late, as its next `since`. An id may come more than once: the reading is
   * to the millisecond, so what ended in its millisecond comes again.
   */
  endedCredentials(since: string): Promise<{ ids: string[]; at: string }>;
  /** Drops the record of ends before `before`: readers look only seconds back. */
  forgetEndedCredentials(before: string): Promise<void>;
}

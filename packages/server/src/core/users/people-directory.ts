// PeopleDirectory: finding people to start a chat with, by the start of a username or display name.
// Reads the users table as it is now (written directly, not through the log): a user who turned
// `discoverable` off, or blocked the viewer, is absent from the next search on any process.
import type { User } from '@messenger/protocol';

export interface PeopleDirectory {
  /** Durable once resolved; on by default for every user. */
  setDiscoverable(userId: string, discoverable: boolean): Promise<void>;
  /**
   * At most `limit` discoverable users whose lowercased username or display name starts with
   * `prefix` (already lowercased), by username. Never the viewer, a suspended or deleted account,
   * or anyone who blocked the viewer.
   */
  searchPeople(viewerId: string, prefix: string, limit: number): Promise<User[]>;
}

/** Deleted accounts keep their row as a tombstone under this username prefix (see Profiles.delete). */
export const DELETED_USERNAME_PREFIX = 'deleted:';

/** The end of the range of strings that start with `prefix`, in code-point (UTF-8 byte) order. */
export const prefixEnd = (prefix: string): string => `${prefix}\u{10FFFF}`;

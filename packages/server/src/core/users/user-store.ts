// UserStore: accounts and their API keys, what sign-up, authentication and member lookups read.
// Written directly, not through the log: durable once a call resolves and seen by every later read.
import type { User } from '@messenger/protocol';

export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  createdAt: string;
  apiKeyHash: string;
}

export interface UserStore {
  /** Throws AppError('conflict') when the username is taken; the user and its key are written together. */
  createUser(user: NewUser): Promise<User>;
  userByKeyHash(hash: string): Promise<User | null>;
  userByUsername(username: string): Promise<User | null>;
  /** In the order asked, unknown ids left out. */
  usersByIds(ids: string[]): Promise<User[]>;
}

// Finding users: by exact username, or by the start of a username or display name (people search).
// Sign-up, sign-in and credentials are accounts.ts and authenticator.ts.
import { PEOPLE_LIMITS, type User } from '@messenger/protocol';
import { AppError, notFound } from '../../domain/errors.js';
import type { RateLimiter } from '../rate-limit.js';
import type { PeopleDirectory } from './people-directory.js';
import type { UserStore } from './user-store.js';

export interface UsersDeps {
  userStore: Pick<UserStore, 'userByUsername'>;
  people: PeopleDirectory;
  /** People searches per user (RATE_LIMIT_SEARCHES per minute, counted apart from message search). */
  searches?: RateLimiter;
}

export class Users {
  private readonly store: Pick<UserStore, 'userByUsername'>;
  private readonly people: PeopleDirectory;
  private readonly searches: RateLimiter | undefined;

  constructor(deps: UsersDeps) {
    this.store = deps.userStore;
    this.people = deps.people;
    this.searches = deps.searches;
  }

  async lookup(username: string): Promise<User> {
    const user = await this.store.userByUsername(username);
    if (!user) throw notFound('user');
    return user;
  }

  /** Never more than a page: there is no cursor, so nobody can walk the whole directory. */
  async search(callerId: string, q: string, limit: number = PEOPLE_LIMITS.defaultPeopleSearchLimit): Promise<User[]> {
    const wait = this.searches?.take(callerId) ?? 0;
    if (wait > 0) throw new AppError('rate_limited', 'searching too fast', wait);
    const prefix = q.trim().toLowerCase();
    return this.people.searchPeople(callerId, prefix, Math.min(limit, PEOPLE_LIMITS.maxPeopleSearchLimit));
  }

  async setDiscoverable(userId: string, discoverable: boolean): Promise<void> {
    await this.people.setDiscoverable(userId, discoverable);
  }
}

// Looking users up by username. Sign-up, sign-in and credentials are accounts.ts and authenticator.ts.
import type { User } from '@messenger/protocol';
import { notFound } from '../../domain/errors.js';
import type { UserStore } from './user-store.js';

export class Users {
  private readonly store: Pick<UserStore, 'userByUsername'>;

  constructor(deps: { userStore: Pick<UserStore, 'userByUsername'> }) {
    this.store = deps.userStore;
  }

  async lookup(username: string): Promise<User> {
    const user = await this.store.userByUsername(username);
    if (!user) throw notFound('user');
    return user;
  }
}

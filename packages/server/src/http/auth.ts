// Bearer API-key authentication for every route that needs a user.
import type { FastifyRequest } from 'fastify';
import type { User } from '@messenger/protocol';
import type { Users } from '../core/users/users.js';

export async function authenticate(users: Users, request: FastifyRequest): Promise<User> {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return users.authenticate(match?.[1]);
}

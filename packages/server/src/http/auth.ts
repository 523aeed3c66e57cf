// Bearer authentication (a session token or an API key) for every route that needs a caller.
import type { FastifyRequest } from 'fastify';
import type { Authenticator, Identity } from '../core/users/authenticator.js';

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/** The caller and the credential it used, for the routes about credentials. */
export async function identify(authenticator: Authenticator, request: FastifyRequest): Promise<Identity> {
  return authenticator.authenticate(bearer(request));
}

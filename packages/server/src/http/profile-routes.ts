// The caller's own account as a whole: profile, deleting the account, exporting its data.
import type { FastifyInstance } from 'fastify';
import * as P from '@messenger/protocol';
import type { Authenticator } from '../core/users/authenticator.js';
import type { Profiles } from '../core/users/profiles.js';
import { identify } from './auth.js';
import { parse } from './errors.js';

export interface ProfileRouteDeps {
  profiles: Profiles;
  authenticator: Authenticator;
}

export function registerProfileRoutes(app: FastifyInstance, deps: ProfileRouteDeps): void {
  const { profiles, authenticator } = deps;

  app.patch('/v1/me', async (req): Promise<P.UserResponse> => {
    const who = await identify(authenticator, req);
    return { user: await profiles.update(who, parse(P.updateProfileBody, req.body)) };
  });

  app.delete('/v1/me', async (req, reply) => {
    const who = await identify(authenticator, req);
    await profiles.delete(who, parse(P.deleteAccountBody, req.body));
    return reply.status(204).send();
  });

  app.get('/v1/me/export', async (req, reply) => {
    const who = await identify(authenticator, req);
    const data: P.AccountExport = await profiles.export(who);
    return reply.header('content-disposition', 'attachment; filename="messenger-export.json"').send(data);
  });
}

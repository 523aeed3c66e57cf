// The accounts and devices routes: sign-up, sign-in, device sessions, password, API keys.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as P from '@messenger/protocol';
import type { Accounts } from '../core/users/accounts.js';
import type { Authenticator, Identity } from '../core/users/authenticator.js';
import { identify } from './auth.js';
import { parse } from './errors.js';
import { type ProfileRouteDeps, registerProfileRoutes } from './profile-routes.js';

export interface AccountRouteDeps extends ProfileRouteDeps {
  accounts: Accounts;
  authenticator: Authenticator;
}

type Params = { id: string };

/** What a caller holds of one kind: device sessions or API keys. */
interface Held {
  list(who: Identity): Promise<P.SessionsResponse | P.ApiKeysResponse>;
  end(who: Identity, id: string): Promise<void>;
}

export function registerAccountRoutes(app: FastifyInstance, deps: AccountRouteDeps): void {
  const { accounts, authenticator } = deps;
  const caller = (req: FastifyRequest) => identify(authenticator, req);
  const idParam = (req: FastifyRequest) => parse(P.sessionIdParam, (req.params as Params).id);

  app.post('/v1/users', async (req, reply) => {
    const body = parse(P.createUserBody, req.body);
    return reply.status(201).send(await accounts.signUp(body, req.ip, deviceNameOf(req)));
  });

  app.post('/v1/sessions', async (req, reply) => {
    const body = parse(P.signInBody, req.body);
    return reply.status(201).send(await accounts.signIn(body, req.ip, deviceNameOf(req)));
  });

  app.put('/v1/me/password', async (req, reply) => {
    const who = await caller(req);
    await accounts.changePassword(who, parse(P.changePasswordBody, req.body));
    return reply.status(204).send();
  });

  app.post('/v1/me/api-keys', async (req, reply) => {
    const who = await caller(req);
    const { name } = parse(P.createApiKeyBody, req.body);
    return reply.status(201).send(await accounts.createApiKey(who, name));
  });

  // GET lists them, DELETE …/:id ends one.
  const held: Record<string, Held> = {
    '/v1/sessions': {
      list: async (who) => ({ sessions: await accounts.sessions(who) }),
      end: (who, id) => accounts.endSession(who, id),
    },
    '/v1/me/api-keys': {
      list: async (who) => ({ apiKeys: await accounts.apiKeys(who) }),
      end: (who, id) => accounts.revokeApiKey(who, id),
    },
  };
  for (const [path, { list, end }] of Object.entries(held)) {
    app.get(path, async (req) => list(await caller(req)));
    app.delete(`${path}/:id`, async (req, reply) => {
      await end(await caller(req), idParam(req));
      return reply.status(204).send();
    });
  }

  registerProfileRoutes(app, deps);
}

/** Without a deviceName, a session is named after the client's User-Agent (printable, bounded). */
function deviceNameOf(req: FastifyRequest): string | undefined {
  const agent = req.headers['user-agent'];
  if (typeof agent !== 'string') return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const printable = agent.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return printable.length > 0 ? printable.slice(0, P.ACCOUNT_LIMITS.maxDeviceNameChars) : undefined;
}

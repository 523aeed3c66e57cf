// The Web Push routes: the VAPID public key and the caller's browser subscriptions.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as P from '@messenger/protocol';
import type { PushRegistration } from '../core/notifications/push-registration.js';
import type { Authenticator } from '../core/users/authenticator.js';
import { identify } from './auth.js';
import { parse } from './errors.js';

export function registerPushRoutes(
  app: FastifyInstance,
  deps: { authenticator: Authenticator; push: PushRegistration },
): void {
  const { push } = deps;
  const authenticate = async (req: FastifyRequest) => (await identify(deps.authenticator, req)).user;

  app.get('/v1/push/vapid-public-key', async (req): Promise<P.VapidKeyResponse> => {
    await authenticate(req);
    return { publicKey: push.vapidPublicKey };
  });

  app.post('/v1/push/subscriptions', async (req, reply) => {
    const user = await authenticate(req);
    await push.subscribe(user.id, parse(P.pushSubscriptionBody, req.body));
    return reply.status(201).send();
  });

  app.delete('/v1/push/subscriptions', async (req, reply) => {
    const user = await authenticate(req);
    const { endpoint } = parse(P.pushUnsubscribeQuery, req.query);
    await push.unsubscribe(user.id, endpoint);
    return reply.status(204).send();
  });
}

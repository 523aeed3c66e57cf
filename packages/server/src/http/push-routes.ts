// The Web Push routes: the VAPID public key and the caller's browser subscriptions.
import type { FastifyInstance } from 'fastify';
import * as P from '@messenger/protocol';
import type { PushRegistration } from '../core/notifications/push-registration.js';
import type { Users } from '../core/users/users.js';
import { authenticate } from './auth.js';
import { parse } from './errors.js';

export function registerPushRoutes(app: FastifyInstance, deps: { users: Users; push: PushRegistration }): void {
  const { users, push } = deps;

  app.get('/v1/push/vapid-public-key', async (req): Promise<P.VapidKeyResponse> => {
    await authenticate(users, req);
    return { publicKey: push.vapidPublicKey };
  });

  app.post('/v1/push/subscriptions', async (req, reply) => {
    const user = await authenticate(users, req);
    await push.subscribe(user.id, parse(P.pushSubscriptionBody, req.body));
    return reply.status(201).send();
  });

  app.delete('/v1/push/subscriptions', async (req, reply) => {
    const user = await authenticate(users, req);
    const { endpoint } = parse(P.pushUnsubscribeQuery, req.query);
    await push.unsubscribe(user.id, endpoint);
    return reply.status(204).send();
  });
}

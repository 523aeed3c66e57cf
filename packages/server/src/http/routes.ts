// The v1 HTTP routes: each one validates with the protocol schema, authenticates, calls a use case.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as P from '@messenger/protocol';
import { AppError } from '../domain/errors.js';
import type { Conversations } from '../core/conversations/conversations.js';
import type { Messaging } from '../core/messages/messaging.js';
import type { PushRegistration } from '../core/notifications/push-registration.js';
import type { PresenceService } from '../core/presence/presence-service.js';
import type { Users } from '../core/users/users.js';
import type { Metrics } from '../observability/metrics.js';
import { type AccountRouteDeps, registerAccountRoutes } from './account-routes.js';
import { identify } from './auth.js';
import { parse } from './errors.js';
import { registerPushRoutes } from './push-routes.js';
import { registerUploadRoutes, type UploadRouteDeps } from './upload-routes.js';
import { registerSafetyRoutes, type SafetyRouteDeps } from './safety-routes.js';

export interface RouteDeps extends AccountRouteDeps, SafetyRouteDeps, UploadRouteDeps {
  users: Users;
  conversations: Conversations;
  messaging: Messaging;
  presence: PresenceService;
  push: PushRegistration;
  metrics: Metrics;
}

type Params = { id: string; messageId: string };

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { users, conversations, messaging, presence, metrics } = deps;
  const me = async (req: FastifyRequest) => (await identify(deps.authenticator, req)).user;
  const convId = (req: FastifyRequest) => parse(P.id, (req.params as Params).id);
  const msgId = (req: FastifyRequest) => parse(P.id, (req.params as Params).messageId);
  const noContent = (reply: FastifyReply) => reply.status(204).send();

  registerAccountRoutes(app, deps);
  registerUploadRoutes(app, deps);

  app.get('/v1/me', async (req): Promise<P.MeResponse> => {
    const user = await me(req);
    return { user, operator: deps.moderation.isOperator(user) };
  });

  app.get('/v1/users/search', async (req): Promise<P.PeopleSearchResponse> => {
    const user = await me(req);
    const { q, limit } = parse(P.peopleSearchQuery, req.query);
    return { users: await users.search(user.id, q, limit) };
  });

  app.get('/v1/users', async (req) => {
    await me(req);
    const { username } = parse(P.userLookupQuery, req.query);
    return { user: await users.lookup(username) };
  });

  app.put('/v1/me/settings', async (req) => {
    const user = await me(req);
    const settings = parse(P.meSettingsBody, req.body);
    if (settings.presenceVisible !== undefined) await presence.setVisible(user.id, settings.presenceVisible);
    if (settings.discoverable !== undefined) await users.setDiscoverable(user.id, settings.discoverable);
    return { settings } satisfies P.MeSettingsResponse;
  });

  app.post('/v1/conversations', async (req, reply) => {
    const user = await me(req);
    const { conversation, created } = await conversations.create(user.id, parse(P.createConversationBody, req.body));
    return reply.status(created ? 201 : 200).send({ conversation });
  });

  app.get('/v1/conversations', async (req) => {
    const user = await me(req);
    const q = parse(P.listConversationsQuery, req.query);
    return conversations.list(user.id, q.limit, q.cursor ?? null, q.requests === 'true');
  });

  app.get('/v1/conversations/:id', async (req) => {
    const user = await me(req);
    return { conversation: await conversations.get(convId(req), user.id) };
  });

  app.post('/v1/conversations/:id/members', async (req) => {
    const user = await me(req);
    const { userIds } = parse(P.addMembersBody, req.body);
    return { conversation: await conversations.addMembers(convId(req), user.id, userIds) };
  });

  app.delete('/v1/conversations/:id/members/me', async (req, reply) => {
    const user = await me(req);
    await conversations.leave(convId(req), user.id);
    return noContent(reply);
  });

  app.put('/v1/conversations/:id/settings', async (req) => {
    const user = await me(req);
    const { muted } = parse(P.conversationSettingsBody, req.body);
    return { conversation: await conversations.setMuted(convId(req), user.id, muted) };
  });

  app.post('/v1/conversations/:id/messages', async (req, reply) => {
    const started = performance.now();
    const user = await me(req);
    const conversationId = convId(req);
    const body = parse(P.sendMessageBody, req.body);
    try {
      const { message, created } = await messaging.send(user.id, { ...body, conversationId });
      metrics.messagesSent.inc({ transport: 'http', outcome: created ? 'created' : 'duplicate' });
      metrics.sendAckSeconds.observe({ transport: 'http' }, (performance.now() - started) / 1000);
      return reply.status(created ? 201 : 200).send({ message });
    } catch (error) {
      metrics.messagesSent.inc({ transport: 'http', outcome: 'error' });
      throw error;
    }
  });

  app.get('/v1/conversations/:id/messages', async (req) => {
    const user = await me(req);
    const conversationId = convId(req);
    const q = parse(P.historyQuery, req.query);
    return { messages: await messaging.history(user.id, conversationId, q) };
  });

  app.patch('/v1/conversations/:id/messages/:messageId', async (req) => {
    const user = await me(req);
    const [conversationId, messageId] = [convId(req), msgId(req)];
    const { body } = parse(P.editMessageBody, req.body);
    return { message: await messaging.edit(user.id, conversationId, messageId, body) };
  });

  app.delete('/v1/conversations/:id/messages/:messageId', async (req, reply) => {
    const user = await me(req);
    const [conversationId, messageId] = [convId(req), msgId(req)];
    const q = parse(P.deleteMessageQuery, req.query);
    await messaging.delete(user.id, conversationId, messageId, q.for);
    return noContent(reply);
  });

  app.delete('/v1/conversations/:id/messages/:messageId/link-preview', async (req, reply) => {
    const user = await me(req);
    await messaging.removePreview(user.id, convId(req), msgId(req));
    return noContent(reply);
  });

  app.put('/v1/conversations/:id/messages/:messageId/reaction', async (req) => {
    const user = await me(req);
    const [conversationId, messageId] = [convId(req), msgId(req)];
    const { emoji } = parse(P.reactionBody, req.body);
    return { message: await messaging.react(user.id, conversationId, messageId, emoji) };
  });

  app.delete('/v1/conversations/:id/messages/:messageId/reaction', async (req, reply) => {
    const user = await me(req);
    await messaging.react(user.id, convId(req), msgId(req), null);
    return noContent(reply);
  });

  app.post('/v1/conversations/:id/read', async (req, reply) => {
    const user = await me(req);
    const conversationId = convId(req);
    const { seq } = parse(P.readBody, req.body);
    await messaging.receipt(user.id, conversationId, 'read', seq);
    return noContent(reply);
  });

  app.post('/v1/conversations/:id/typing', async (req, reply) => {
    const user = await me(req);
    await presence.typing(user.id, convId(req));
    return noContent(reply);
  });

  app.get('/v1/presence', async (req) => {
    const user = await me(req);
    const { userIds } = parse(P.presenceQuery, req.query);
    return { presence: await presence.status(user.id, userIds) };
  });

  app.get('/v1/search', async (req) => {
    const user = await me(req);
    const q = parse(P.searchQuery, req.query);
    return { results: await messaging.search(user.id, q.q, q.conversationId, q.limit) };
  });

  registerPushRoutes(app, deps);
  registerSafetyRoutes(app, deps);

  // Unknown /v1 paths answer in the contract's shape rather than Fastify's.
  app.all('/v1/*', async () => {
    throw new AppError('not_found', 'no such endpoint');
  });
}

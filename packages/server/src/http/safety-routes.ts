// The safety routes: message requests, group administration, blocks, reports and the operators' routes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as P from '@messenger/protocol';
import type { Conversations } from '../core/conversations/conversations.js';
import type { Moderation } from '../core/safety/moderation.js';
import type { Authenticator } from '../core/users/authenticator.js';
import { identify } from './auth.js';
import { parse } from './errors.js';

export interface SafetyRouteDeps {
  authenticator: Authenticator;
  conversations: Conversations;
  moderation: Moderation;
}

type Params = { id: string; userId: string };

export function registerSafetyRoutes(app: FastifyInstance, deps: SafetyRouteDeps): void {
  const { conversations, moderation } = deps;
  const me = async (req: FastifyRequest) => (await identify(deps.authenticator, req)).user;
  const convId = (req: FastifyRequest) => parse(P.id, (req.params as Params).id);
  const userId = (req: FastifyRequest) => parse(P.id, (req.params as Params).userId);
  const noContent = (reply: FastifyReply) => reply.status(204).send();

  app.post('/v1/conversations/:id/accept', async (req) => {
    const user = await me(req);
    return { conversation: await conversations.accept(convId(req), user.id) };
  });

  app.post('/v1/conversations/:id/decline', async (req, reply) => {
    const user = await me(req);
    await conversations.decline(convId(req), user.id);
    return noContent(reply);
  });

  app.patch('/v1/conversations/:id', async (req) => {
    const user = await me(req);
    const id = convId(req);
    const body = parse(P.updateConversationBody, req.body);
    return { conversation: await conversations.update(id, user.id, body) };
  });

  app.put('/v1/conversations/:id/members/:userId', async (req) => {
    const user = await me(req);
    const [id, member] = [convId(req), userId(req)];
    const { role } = parse(P.memberRoleBody, req.body);
    return { conversation: await conversations.setRole(id, user.id, member, role) };
  });

  app.delete('/v1/conversations/:id/members/:userId', async (req, reply) => {
    const user = await me(req);
    await conversations.removeMember(convId(req), user.id, userId(req));
    return noContent(reply);
  });

  app.get('/v1/blocks', async (req): Promise<P.BlockedUsersResponse> => {
    const user = await me(req);
    return { users: await moderation.blocked(user.id) };
  });

  app.put('/v1/blocks/:userId', async (req, reply) => {
    const user = await me(req);
    await moderation.block(user.id, userId(req));
    return noContent(reply);
  });

  app.delete('/v1/blocks/:userId', async (req, reply) => {
    const user = await me(req);
    await moderation.unblock(user.id, userId(req));
    return noContent(reply);
  });

  app.post('/v1/reports', async (req, reply) => {
    const user = await me(req);
    const body = parse(P.createReportBody, req.body);
    return reply.status(201).send({ report: await moderation.report(user.id, body) } satisfies P.ReportResponse);
  });

  app.get('/v1/admin/reports', async (req): Promise<P.ReportsResponse> => {
    const user = await me(req);
    return { reports: await moderation.reports(user) };
  });

  app.post('/v1/admin/users/:id/suspend', async (req, reply) => {
    const user = await me(req);
    const target = parse(P.id, (req.params as Params).id);
    const { reason } = parse(P.suspendBody, req.body);
    await moderation.suspend(user, target, reason);
    return noContent(reply);
  });

  app.delete('/v1/admin/users/:id/suspend', async (req, reply) => {
    const user = await me(req);
    await moderation.unsuspend(user, parse(P.id, (req.params as Params).id));
    return noContent(reply);
  });
}

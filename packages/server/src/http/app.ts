// The Fastify instance: JSON limits, contract errors, health, metrics, the web client's files.
import fs from 'node:fs';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { LIMITS } from '@messenger/protocol';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { newId } from '../domain/ids.js';
import { errorHandler, sendError } from './errors.js';
import { registerRoutes, type RouteDeps } from './routes.js';

export interface AppDeps extends RouteDeps, OpsDeps {
  webDir: string | null;
  /** Adds what an answer serves per read (signed attachment URLs), just before it is encoded. */
  present?: <T>(answer: T) => T;
}

export interface OpsDeps {
  logger: Logger;
  metrics: Metrics;
  /** Each backing service's readiness check; /readyz answers 200 only when all pass. */
  readiness: Record<string, () => Promise<void>>;
  /** Where the store trails the log: per partition, the persister's lag (reported, never a readiness failure). */
  storeLag?: () => { partition: number; entries: number; ms: number }[];
}

/** Fastify with the contract's errors, request ids, metrics, /healthz, /readyz and /metrics: what every process serves. */
export function buildOpsApp(deps: OpsDeps): FastifyInstance {
  const app = Fastify({
    // Request lines stay out of the logs (info); errors and warnings go through.
    loggerInstance: deps.logger.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: LIMITS.maxRequestBytes,
    genReqId: (req) =>
      typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'].slice(0, 64) : newId('s'),
    requestIdHeader: false,
    routerOptions: { maxParamLength: 200 },
  });
  app.setErrorHandler(errorHandler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
    });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    await Promise.all(
      Object.entries(deps.readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          checks[name] = 'ok';
        } catch (error) {
          checks[name] = error instanceof Error ? error.message : 'down';
        }
      }),
    );
    const down = Object.entries(checks)
      .filter(([, v]) => v !== 'ok')
      .map(([k]) => k);
    // A lagging store is not a reason to take a gateway out: it still serves, and refuses sends itself.
    const lag = deps.storeLag ? { storeLag: deps.storeLag() } : {};
    if (down.length === 0) return { status: 'ready', checks, ...lag };
    return reply.status(503).send({
      error: { code: 'unavailable', message: `not ready: ${down.join(', ')}` },
      status: 'unavailable',
      checks,
      ...lag,
    });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  return app;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)),
  );
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sent with every HTML page. The web client keeps its session token where script can read it (the
 * socket's auth frame needs it), so no script but the app's own files may run: no inline script,
 * no eval, no framing, no form posts or <base> elsewhere.
 */
export const HTML_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; " +
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = buildOpsApp(deps);
  registerRoutes(app, deps);
  const present = deps.present;
  if (present) app.addHook('preSerialization', async (_request, _reply, payload) => present(payload));
  app.addHook('onSend', async (_request, reply) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) reply.headers(HTML_SECURITY_HEADERS);
    else reply.header('x-content-type-options', 'nosniff');
  });

  const webDir = deps.webDir;
  if (webDir && fs.existsSync(webDir)) {
    await app.register(fastifyStatic, { root: webDir, wildcard: false, index: ['index.html'] });
  }
  app.setNotFoundHandler((request, reply) => {
    // A client-side route of the single-page app gets the app; anything else the contract's 404.
    if (
      webDir &&
      request.method === 'GET' &&
      !request.url.startsWith('/v1/') &&
      fs.existsSync(`${webDir}/index.html`)
    ) {
      return reply.sendFile('index.html');
    }
    return sendError(reply, 'not_found', 'no such endpoint');
  });
  return app;
}

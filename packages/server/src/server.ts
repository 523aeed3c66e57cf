// Composition root: config -> backend preset -> use cases -> roles. The only place that wires.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { unavailable } from './domain/errors.js';
import { loadConfig, type Config } from './config/config.js';
import { embeddedBackend } from './backends/embedded.js';
import { WebPushSender } from './adapters/webpush/push-sender.js';
import type { Backend } from './backends/backend.js';
import { Conversations } from './core/conversations/conversations.js';
import { LogErasure } from './core/messages/log-erasure.js';
import { Messaging } from './core/messages/messaging.js';
import { StoreLag } from './core/messages/store-lag.js';
import { Moderation } from './core/safety/moderation.js';
import { Reach } from './core/safety/reach.js';
import { PushRegistration } from './core/notifications/push-registration.js';
import { PresenceService } from './core/presence/presence-service.js';
import { RateLimiter } from './core/rate-limit.js';
import { Deliverer } from './core/routing/delivery.js';
import { Accounts } from './core/users/accounts.js';
import { Authenticator } from './core/users/authenticator.js';
import { Attachments } from './core/media/attachments.js';
import { LinkPreviews } from './core/media/link-previews.js';
import { PreviewImages } from './core/media/preview-images.js';
import { GuardedPageFetcher } from './adapters/webfetch/page-fetcher.js';
import { Media } from './core/media/media.js';
import { UrlSigner } from './core/media/signed-urls.js';
import { MediaSweeper } from './core/media/sweeper.js';
import { clearSpool } from './core/media/spool.js';
import { Profiles } from './core/users/profiles.js';
import { Users } from './core/users/users.js';
import { newId } from './domain/ids.js';
import { Gateway } from './gateway/gateway.js';
import { buildApp, buildOpsApp } from './http/app.js';
import { createLogger, type Logger } from './observability/logger.js';
import { instrument } from './observability/instrument.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { FanoutWorker } from './workers/fanout.js';
import { PersisterWorker } from './workers/persist.js';
import { NotifierWorker } from './workers/notify.js';

export interface RunningServer {
  url: string;
  port: number;
  config: Readonly<Config>;
  logger: Logger;
  metrics: Metrics;
  backend: Backend;
  gateway: Gateway | null;
  /** Uploads: deleteUpload / deleteUploadsOf for the features that delete files. */
  media: Media;
  /** Drains sockets (clients are told to reconnect), stops workers, closes the backend. */
  close(): Promise<void>;
}

/** Cluster mode when the backing services are configured; the embedded default otherwise. */
async function selectBackend(config: Readonly<Config>, logger: Logger, metrics: Metrics): Promise<Backend> {
  const clustered = [config.databaseUrl, config.natsUrl, config.redisUrl].filter(Boolean).length;
  if (clustered === 0) return embeddedBackend({ config, logger, metrics });
  const { clusterBackend } = await import('./backends/cluster.js');
  return clusterBackend({ config, logger, metrics });
}

/** A reconnect storm arrives all at once; Node's default (511) makes the kernel drop most of it. */
const LISTEN_BACKLOG = 4096;
/** How long the notifier waits for the store to hold what it is about to push about before it pushes anyway. */
const STORE_CATCH_UP_FOR_PUSH_MS = 5_000;

export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

export async function startServer(config: Readonly<Config> = loadConfig()): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  const metrics = createMetrics();
  const limiter = (limit: string, capacity: number, windowMs: number) =>
    new RateLimiter({ capacity, windowMs, onRefused: () => metrics.limitRefusals.inc({ limit }) });
  const backend = await selectBackend(config, logger, metrics);
  const { log } = backend;
  // Every store call is timed by operation (the method's name), whichever part it is on.
  const timed = <T extends object>(port: T): T => instrument(port, metrics.storeSeconds);
  const userStore = timed(backend.userStore);
  const presenceVisibility = timed(backend.presenceVisibility);
  const conversationStore = timed(backend.conversationStore);
  const messageStore = timed(backend.messageStore);
  const messageSearch = timed(backend.messageSearch);
  const recordSink = timed(backend.recordSink);

  // Cluster: the persister writes the store behind the log. Reads that must see what was already
  // acknowledged or delivered (a catch-up, a receipt for a message just delivered, an edit of one
  // just sent) wait for it (read your writes) instead of missing it.
  // Not caught up in time (the persister is down or far behind): 503, and the client retries,
  // rather than an answer that silently misses what it must contain.
  const storeCatchUp =
    !backend.inlinePersister && log.caughtUp
      ? async (conversationId: string | null) => {
          if (!(await log.caughtUp!('persister', conversationId, 3_000)))
            throw unavailable('the store is catching up with the log; retry');
        }
      : undefined;
  const blocks = timed(backend.blocks);
  const reach = new Reach({ blocks, conversationStore });
  // Back-pressure: past its bound, the store's lag behind the log makes gateways refuse new sends
  // (503, Retry-After) instead of acknowledging work the persister cannot absorb (store-lag.ts).
  const { positions, partitionOf } = log;
  const storeLag =
    !backend.inlinePersister && positions && partitionOf
      ? new StoreLag({
          log: { positions: (c) => positions.call(log, c), partitionOf: (id) => partitionOf.call(log, id) },
          consumer: 'persister',
          boundMs: config.storeLagBoundMs,
        })
      : null;
  storeLag?.start();
  if (storeLag) metrics.storeLagSource.read = () => storeLag.lags();
  const uploads = timed(backend.uploads);
  const signer = new UrlSigner({ secret: await backend.mediaSecret() });
  const attachments = new Attachments({ uploads, blobs: backend.blobs, signer });
  // Signed URLs are added where answers and events are encoded; stores and the log keep plain paths.
  const present = <T>(answer: T): T => attachments.signAnswer(answer);
  const conversations = new Conversations({
    conversationStore,
    memberStanding: timed(backend.memberStanding),
    reach,
    userStore,
    log,
    maxGroupMembers: config.maxGroupMembers,
    creations: limiter('conversations', config.rateLimitConversations, 3_600_000),
    avatars: attachments,
    ...(storeCatchUp ? { storeCatchUp } : {}),
  });
  const users = new Users({
    userStore,
    people: timed(backend.people),
    searches: limiter('searches', config.rateLimitSearches, 60_000),
  });
  const credentials = timed(backend.credentials);
  const authenticator = new Authenticator({ credentials, sessionIdleMs: config.sessionIdleDays * 86_400_000 });
  const accounts = new Accounts({
    credentials,
    authenticator,
    attempts: backend.attempts,
    revocations: backend.revocations,
    signups: limiter('signups', config.rateLimitSignups, 60_000),
    suspensions: timed(backend.suspensions),
  });
  const previews = config.linkPreviews
    ? new LinkPreviews({
        fetcher: new GuardedPageFetcher({ allowedHosts: config.linkPreviewAllowedHosts }),
        log,
        logger,
        images: new PreviewImages({ uploads, blobs: backend.blobs }),
        deleted: async (conversationId, messageId) => {
          await storeCatchUp?.(conversationId).catch(() => undefined);
          return !!(await messageStore.message(conversationId, messageId))?.deletedAt;
        },
        discard: (uploadId) => attachments.deleteUpload(uploadId),
      })
    : undefined;
  const messaging = new Messaging({
    attachments,
    ...(previews ? { previews } : {}),
    messageStore,
    messageSearch,
    conversationStore,
    log,
    conversations,
    sends: limiter('messages', config.rateLimitMessages, 10_000),
    searches: limiter('searches', config.rateLimitSearches, 60_000),
    reach,
    editWindowMs: config.editWindowMs,
    ...(storeCatchUp ? { storeCatchUp } : {}),
    ...(storeLag ? { storeLag } : {}),
  });
  const deliverer = new Deliverer({ routes: backend.routes, bus: backend.bus });
  const presence = new PresenceService({
    presence: backend.presence,
    presenceVisibility,
    conversationStore,
    deliverer,
    conversations,
    reach,
    coalesceMs: config.presenceCoalesceMs,
  });
  const media = new Media({
    uploads,
    blobs: backend.blobs,
    signer,
    spoolDir: path.join(config.dataDir, 'spool'),
    maxUploadBytes: config.maxUploadBytes,
    isMember: async (conversationId, userId) => (await conversationStore.membership(conversationId, userId)) !== null,
  });
  clearSpool(path.join(config.dataDir, 'spool'));
  // Deletes never-attached uploads; in the persister role's process, of which a deployment runs one.
  const sweeper = config.roles.includes('persister') ? new MediaSweeper({ media, logger, intervalMs: 600_000 }) : null;
  sweeper?.start();
  const moderation = new Moderation({
    blocks,
    reports: timed(backend.reports),
    suspensions: timed(backend.suspensions),
    users: userStore,
    messages: messageStore,
    conversations,
    presence,
    credentials,
    authenticator,
    revocations: backend.revocations,
    adminUsernames: config.adminUsernames,
  });

  const profiles = new Profiles({
    accountStore: timed(backend.accountStore),
    userStore,
    credentials,
    accounts,
    authenticator,
    attempts: backend.attempts,
    revocations: backend.revocations,
    conversationStore,
    conversations,
    pushSubscriptions: backend.pushSubscriptions,
    log,
    deliverer,
    files: attachments,
    ...(storeCatchUp ? { storeCatchUp } : {}),
  });

  const persister =
    config.roles.includes('persister') && !backend.inlinePersister
      ? new PersisterWorker({ log, recordSink, logger, metrics, erasure: new LogErasure({ log, messageStore }) })
      : null;
  await persister?.start();
  const fanout = config.roles.includes('fanout')
    ? new FanoutWorker({ log, conversationStore, deliverer, logger, metrics, from: backend.fanoutFrom, present })
    : null;
  // Fan-out publishes on an at-most-once bus: if its connection broke, what it published just before
  // may never have reached the gateways, so every gateway has its clients catch up.
  if (fanout) {
    backend.bus.onInterrupted(() => {
      logger.warn('fan-out lost its bus connection; asking every gateway to resync its clients');
      backend.bus.requestResync().catch((err: unknown) => logger.error({ err }, 'resync request failed'));
    });
  }
  await fanout?.start();

  const pushSender = new WebPushSender({ keys: await backend.vapidKeys(), subject: config.vapidSubject });
  const push = new PushRegistration({
    subscriptions: backend.pushSubscriptions,
    vapidPublicKey: pushSender.publicKey,
    allowedOrigins: config.pushAllowedOrigins,
  });
  const notifier = config.roles.includes('notifier')
    ? new NotifierWorker({
        log,
        userStore,
        messageStore,
        conversationStore,
        routes: backend.routes,
        subscriptions: backend.pushSubscriptions,
        sender: pushSender,
        metrics,
        logger,
        // What a push counts (unread messages) is read from the store, which may trail the log here.
        ...(!backend.inlinePersister && log.caughtUp
          ? { storeCaughtUp: () => log.caughtUp!('persister', null, STORE_CATCH_UP_FOR_PUSH_MS) }
          : {}),
      })
    : null;
  await notifier?.start();

  const durableConsumers = [
    ...(persister ? ['persister'] : []),
    ...(fanout && backend.fanoutFrom === 'durable' ? ['fanout'] : []),
    ...(notifier ? ['notifier'] : []),
  ];
  metrics.lagSource.read = () => log.lag(durableConsumers);

  let app: FastifyInstance | null = null;
  let gateway: Gateway | null = null;
  let port = config.port;
  if (config.roles.includes('gateway')) {
    app = await buildApp({
      users,
      accounts,
      profiles,
      authenticator,
      conversations,
      moderation,
      messaging,
      presence,
      push,
      metrics,
      logger,
      readiness: backend.readiness,
      ...(storeLag ? { storeLag: () => storeLag.lags() } : {}),
      media,
      present,
      maxUploadBytes: config.maxUploadBytes,
      webDir: config.webDir ?? DEFAULT_WEB_DIR,
    });
    gateway = new Gateway({
      gatewayId: newId('s'),
      config,
      logger,
      metrics,
      authenticator,
      revocations: backend.revocations,
      liveCredentials: timed(backend.accountStore),
      messaging,
      present,
      presence,
      routes: backend.routes,
      bus: backend.bus,
    });
    await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
    await gateway.start(app.server);
  } else {
    // A worker process still answers health, readiness and metrics for its operator.
    app = buildOpsApp({
      logger,
      metrics,
      readiness: backend.readiness,
      ...(storeLag ? { storeLag: () => storeLag.lags() } : {}),
    });
    await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
  }
  port = (app.server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    config,
    logger,
    metrics,
    backend,
    gateway,
    media,
    close: () =>
      (closing ??= (async () => {
        await gateway?.drain();
        if (app) await closeHttp(app);
        await persister?.stop();
        await fanout?.stop();
        await sweeper?.stop();
        await notifier?.stop();
        presence.close();
        storeLag?.stop();
        await backend.log.close();
        await Promise.all([
          backend.presence.close(),
          backend.routes.close(),
          backend.bus.close(),
          backend.pushSubscriptions.close(),
          backend.credentials.close(),
          backend.attempts.close(),
          backend.revocations.close(),
          backend.blobs.close(),
        ]);
        await backend.close();
      })()),
  };
}

/**
 * Closes the HTTP server after the sockets were drained, within HTTP_CLOSE_MS: Node's close() waits
 * for every open connection, and one that never finished a request (say, a client reconnecting while
 * the server drained) is not "idle" to it, so close() would wait out the headers timeout (60 s).
 */
const HTTP_CLOSE_MS = 3000;
async function closeHttp(app: FastifyInstance): Promise<void> {
  const force = setTimeout(() => app.server.closeAllConnections(), HTTP_CLOSE_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(force);
  }
}

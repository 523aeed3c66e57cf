// The WebSocket edge: upgrade on /v1/ws with an Origin check, sessions, route and presence
// registration, heartbeats (ping/pong and TTL refresh), and draining on shutdown.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { CLOSE_CODES, LIMITS } from '@messenger/protocol';
import type { Config } from '../config/config.js';
import type { Messaging } from '../core/messages/messaging.js';
import type { PresenceService } from '../core/presence/presence-service.js';
import type { GatewayBus } from '../core/routing/gateway-bus.js';
import type { Routes } from '../core/routing/routes.js';
import type { Authenticator } from '../core/users/authenticator.js';
import type { Revocations } from '../core/users/revocations.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { AttachBatch } from './attach-batch.js';
import { CredentialSweep, type LiveCredentials } from './credential-sweep.js';
import { DetachQueue } from './detach-queue.js';
import { CorkBatch } from './frames.js';
import { Hub } from './hub.js';
import { SocketCounts } from './limits.js';
import type { GatewayServices } from './services.js';
import { Session } from './session.js';

export interface GatewayDeps {
  gatewayId: string;
  config: Readonly<Config>;
  logger: Logger;
  metrics: Metrics;
  authenticator: Authenticator;
  revocations: Revocations;
  /** Re-checked every few seconds for the credentials with open sockets (credential-sweep.ts). */
  liveCredentials: LiveCredentials;
  /** How often; CREDENTIAL_CHECK_MS by default. */
  credentialCheckMs?: number;
  messaging: Messaging;
  /** Adds what a reply serves per read (signed attachment URLs); identity when absent. */
  present?: <T>(answer: T) => T;
  presence: PresenceService;
  routes: Routes;
  bus: GatewayBus;
}

export class Gateway {
  readonly hub: Hub;
  private readonly deps: GatewayDeps;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<Session>();
  private readonly services: GatewayServices;
  private readonly attaching: AttachBatch;
  /** Sessions whose registration is under way: their clean-up waits for it, so it reaches Redis after it. */
  private readonly registering = new WeakMap<Session, Promise<void>>();
  private readonly detached: DetachQueue;
  private readonly sweep: CredentialSweep;
  private readonly ttlMs: number;
  /** Per gateway: sockets not yet authenticated by address, and authenticated ones by user. */
  private readonly anonymous: SocketCounts;
  private readonly perUser: SocketCounts;
  /** The sessions `perUser` counts (those it refused are not). */
  private readonly counted = new WeakSet<Session>();
  private pingTimer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private busSubscription: { stop(): Promise<void> } | null = null;
  private revocationSubscription: { stop(): Promise<void> } | null = null;
  private draining = false;

  constructor(deps: GatewayDeps) {
    this.deps = deps;
    this.hub = new Hub({ metrics: deps.metrics });
    // A device counts as gone after it missed about two heartbeats.
    this.ttlMs = deps.config.pingIntervalMs * 2 + 5000;
    this.anonymous = new SocketCounts(deps.config.maxUnauthenticatedSocketsPerIp);
    this.perUser = new SocketCounts(deps.config.maxSocketsPerUser);
    // Registration and clean-up work on the same routes and devices, each in its own batches.
    const registry = {
      gatewayId: deps.gatewayId,
      ttlMs: this.ttlMs,
      routes: deps.routes,
      presence: deps.presence,
      holds: (userId: string) => this.hub.has(userId),
      logger: deps.logger,
    };
    this.attaching = new AttachBatch(registry);
    this.detached = new DetachQueue(registry);
    this.sweep = new CredentialSweep({
      hub: this.hub,
      store: deps.liveCredentials,
      authenticator: deps.authenticator,
      logger: deps.logger,
      ...(deps.credentialCheckMs !== undefined ? { everyMs: deps.credentialCheckMs } : {}),
    });
    // No client tracking: `sessions` already holds every socket, and ws's own set cost a set entry
    // and a close listener per accepted socket.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: LIMITS.maxRequestBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.services = {
      config: deps.config,
      metrics: deps.metrics,
      authenticator: deps.authenticator,
      messaging: deps.messaging,
      present: deps.present ?? ((answer) => answer),
      presence: deps.presence,
      presenceTtlMs: this.ttlMs,
      corks: new CorkBatch(),
      attach: (s, registered) => this.attach(s, registered),
      detach: (s) => this.detach(s),
    };
  }

  async start(server: Server): Promise<void> {
    this.busSubscription = await this.deps.bus.subscribe(this.deps.gatewayId, this.hub.deliver, (why) =>
      this.resyncClients(why),
    );
    this.deps.bus.onInterrupted(() => this.resyncClients('this gateway lost its bus connection'));
    this.revocationSubscription = await this.deps.revocations.subscribe((ids) => {
      this.deps.authenticator.forget(ids);
      this.hub.closeCredentials(ids, CLOSE_CODES.unauthenticated, 'signed out: the session or key was revoked');
    });
    await this.deps.routes.markGatewayAlive(this.deps.gatewayId, this.ttlMs);
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.pingTimer = setInterval(() => this.heartbeat(), this.deps.config.pingIntervalMs);
    this.pingTimer.unref();
    this.sweep.start();
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Stops accepting, asks every client to reconnect elsewhere, and waits (bounded) for them to go. */
  async drain(timeoutMs = 5000): Promise<void> {
    this.draining = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    await this.sweep.stop();
    for (const session of this.sessions) session.close(CLOSE_CODES.goingAway, 'server going away; reconnect');
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const session of this.sessions) session.terminate();
    await this.busSubscription?.stop();
    await this.revocationSubscription?.stop();
    await this.detached.idle();
    await this.deps.routes.markGatewayAlive(this.deps.gatewayId, 0).catch(() => undefined);
    this.wss.close();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!isWsPath(req.url)) return void socket.destroy();
    if (this.draining || !this.originAllowed(req)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return void socket.destroy();
    }
    // The address of the connection itself: behind a proxy, the proxy's, unless the limit is off.
    const address = req.socket.remoteAddress ?? '';
    if (!this.anonymous.take(address)) {
      this.deps.metrics.limitRefusals.inc({ limit: 'unauthenticated_sockets_per_ip' });
      socket.write(
        'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
      );
      return void socket.destroy();
    }
    let anonymous = true;
    const authenticated = () => {
      if (anonymous) this.anonymous.release(address);
      anonymous = false;
    };
    // Released once: when the socket authenticates, or when the connection ends (a failed upgrade too).
    socket.once('close', authenticated);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new Session({
        socket: ws,
        services: this.services,
        logger: this.deps.logger,
        authTimeoutMs: this.deps.config.authTimeoutMs,
        onAuthenticated: authenticated,
      });
      this.sessions.add(session);
      ws.once('close', () => this.sessions.delete(session));
    });
  }

  /** Requests without Origin (native apps, servers) are allowed; browsers only from known origins. */
  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return true;
    if (this.deps.config.allowedOrigins.includes(origin) || this.deps.config.allowedOrigins.includes('*')) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  private async attach(session: Session, registered: () => void): Promise<void> {
    if (!this.perUser.take(session.userId)) {
      this.deps.metrics.limitRefusals.inc({ limit: 'sockets_per_user' });
      session.close(CLOSE_CODES.rateLimited, 'too many sockets for this user; close another first');
      return;
    }
    this.counted.add(session);
    // The route exists before the socket can receive, so fan-out elsewhere finds this gateway. If
    // the registry is down the socket is still served; the heartbeat registers it once it is back.
    // The sessions authenticated in one turn register together, routes and devices in one write.
    const registration = this.attaching.add(session, () => {
      this.hub.add(session);
      registered();
    });
    this.registering.set(session, registration);
    await registration;
    this.registering.delete(session);
  }

  /** Queued: the closes of a mass disconnect leave the registry in a few batched calls. */
  private async detach(session: Session): Promise<void> {
    if (!this.counted.has(session)) return;
    this.counted.delete(session);
    this.perUser.release(session.userId);
    this.hub.remove(session);
    await this.registering.get(session);
    await this.detached.enqueue({ userId: session.userId, deviceId: session.sessionId });
  }

  /**
   * Deliveries to this gateway may have been lost (the at-most-once bus was interrupted): the
   * clients reconnect and catch up, which is gap-free (history waits for the store to hold the log).
   */
  private resyncClients(why: string): void {
    if (this.draining || this.sessions.size === 0) return;
    this.deps.logger.warn(
      { sockets: this.sessions.size, why },
      'deliveries may have been lost; asking clients to resync',
    );
    for (const session of this.sessions)
      session.close(CLOSE_CODES.goingAway, 'deliveries may have been lost; reconnect and catch up');
  }

  private heartbeat(): void {
    // A round still spreading its slices (a slow Redis) is not started twice.
    this.beating ??= this.beat().finally(() => (this.beating = null));
  }

  /**
   * One heartbeat round, in slices spread over half the interval: each slice's sockets are checked
   * (silent since their last ping: terminated), pinged, and their routes and devices refreshed with
   * one call each (with Redis: one script call each, sent together). All at once, a round wrote
   * every socket's ping in one event-loop turn and queued every gateway's refresh in Redis in the
   * same seconds, ahead of sends and of fan-out's route reads. A socket keeps its place in the
   * order from round to round, so it is checked about one interval after its ping.
   */
  private async beat(): Promise<void> {
    let refreshing = true;
    try {
      const { known } = await this.deps.routes.markGatewayAlive(this.deps.gatewayId, this.ttlMs);
      if (!known) {
        // The registry lost its state (Redis restarted empty): fan-out could not find these sockets
        // since then, so they may have missed events. Their clients reconnect and catch up.
        this.resyncClients('the route registry lost this gateway (Redis restarted empty)');
        refreshing = false;
      }
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'heartbeat refresh failed');
      refreshing = false;
    }
    const sessions = [...this.sessions];
    const slices = Math.ceil(sessions.length / HEARTBEAT_SLICE);
    const spacingMs = slices > 1 ? (this.deps.config.pingIntervalMs * HEARTBEAT_SPREAD) / (slices - 1) : 0;
    for (let k = 0; k < slices; k++) {
      if (k > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs).unref());
      if (this.draining) return;
      const live: Session[] = [];
      for (const session of sessions.slice(k * HEARTBEAT_SLICE, (k + 1) * HEARTBEAT_SLICE)) {
        if (session.isClosed) continue;
        if (!session.alive) {
          session.terminate();
          continue;
        }
        session.alive = false;
        session.ping();
        if (session.userId && this.hub.has(session.userId)) live.push(session);
      }
      if (!refreshing || live.length === 0) continue;
      try {
        await Promise.all([
          this.deps.routes.addMany([...new Set(live.map((s) => s.userId))], this.deps.gatewayId, this.ttlMs),
          this.deps.presence.refresh(
            live.map((s) => ({ userId: s.userId, deviceId: s.sessionId, status: s.presenceStatus })),
            this.ttlMs,
          ),
        ]);
      } catch (error) {
        // Pings go on; the next round registers these sockets again.
        this.deps.logger.warn({ err: error }, 'heartbeat refresh failed');
        refreshing = false;
      }
    }
  }
}

/** `/v1/ws`, with or without a query; anything unusual (absolute form, dot segments) goes through URL. */
function isWsPath(url: string | undefined): boolean {
  if (url === '/v1/ws' || url?.startsWith('/v1/ws?')) return true;
  return new URL(url ?? '/', 'http://localhost').pathname === '/v1/ws';
}

/** Sockets per refresh call: a 500-device script call keeps Redis busy for about 6 ms. */
const HEARTBEAT_SLICE = 500;
/** The share of the ping interval a heartbeat's refresh is spread over (well inside the TTL). */
const HEARTBEAT_SPREAD = 0.5;

// Registration of authenticated sockets in batches: the sockets that authenticate in one turn of
// the event loop (one credential read of 5 ms answers several of them) register their routes in
// one call and their devices in a second (with Redis: two script calls, sent in one write), not
// two commands per socket. In a connect wave the per-command work of the Redis client (command
// objects, argument encoding, reply parsing, the garbage they leave) was a visible share of the
// gateway's CPU per accept.
import type { PresenceService } from '../core/presence/presence-service.js';
import type { Routes } from '../core/routing/routes.js';
import type { Logger } from '../observability/logger.js';

export interface Attaching {
  readonly userId: string;
  readonly sessionId: string;
  readonly presenceStatus: 'online' | 'away';
  readonly isClosed: boolean;
}

interface Entry {
  session: Attaching;
  /** Called, in the turn the route is known, for a session still open: it joins the hub and hears `ready`. */
  routed: () => void;
  done: () => void;
}

/** Sockets per registration call, as the heartbeat's slices: about a millisecond of Redis each. */
const SLICE = 500;

export class AttachBatch {
  private readonly deps: {
    gatewayId: string;
    ttlMs: number;
    routes: Pick<Routes, 'addMany'>;
    presence: Pick<PresenceService, 'devicesUp'>;
    /** Whether this gateway already holds a socket of the user: its route is then registered. */
    holds(userId: string): boolean;
    logger: Logger;
  };
  private pending: Entry[] = [];

  constructor(deps: AttachBatch['deps']) {
    this.deps = deps;
  }

  /**
   * Queues a session for this turn's registration. `routed` runs once its route is registered (or
   * its registration failed: the socket is still served and the heartbeat registers it later); the
   * promise resolves once its device is registered too (or that failed, logged).
   */
  add(session: Attaching, routed: () => void): Promise<void> {
    return new Promise((done) => {
      if (this.pending.length === 0) setImmediate(this.flush);
      this.pending.push({ session, routed, done });
    });
  }

  private readonly flush = (): void => {
    const batch = this.pending;
    this.pending = [];
    for (let i = 0; i < batch.length; i += SLICE) void this.register(batch.slice(i, i + SLICE));
  };

  private async register(batch: Entry[]): Promise<void> {
    const { routes, presence, gatewayId, ttlMs, logger } = this.deps;
    const users = [...new Set(batch.map((e) => e.session.userId))].filter((id) => !this.deps.holds(id));
    const devices = batch.map(({ session }) => ({
      userId: session.userId,
      deviceId: session.sessionId,
      status: session.presenceStatus,
    }));
    // Both calls leave in this turn: the route and the device of a socket reach Redis in one write,
    // and before any clean-up of the socket (its close waits for this registration).
    const route = routes
      .addMany(users, gatewayId, ttlMs)
      .catch((err: unknown) => logger.warn({ err }, 'route registration failed; the heartbeat retries'));
    const device = presence
      .devicesUp(devices, ttlMs)
      .catch((err: unknown) => logger.warn({ err }, 'presence update failed'));
    await route;
    for (const entry of batch) if (!entry.session.isClosed) entry.routed();
    await device;
    for (const entry of batch) entry.done();
  }
}

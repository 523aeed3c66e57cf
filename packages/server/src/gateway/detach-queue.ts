// Clean-up of closed sockets in batches: their routes and devices leave the registry in one call
// per slice (with Redis: one script each), not one per socket. A gateway restart or a network blip
// closes tens of thousands of sockets within a second; a command or two per socket then queue
// behind each other past the Redis command timeout, and the stale routes and "online" devices
// linger until their TTLs.
import type { PresenceService } from '../core/presence/presence-service.js';
import type { Routes } from '../core/routing/routes.js';
import type { Logger } from '../observability/logger.js';

export interface ClosedSocket {
  userId: string;
  deviceId: string;
}

/** Closed sockets per clean-up call: a 500-socket script call keeps Redis busy for about a millisecond. */
const SLICE = 500;
/** How long the first close waits for others: a mass disconnect's close events span many turns. */
const GATHER_MS = 5;
/** A failed slice is tried once more after this; after that its keys expire by TTL. */
const RETRY_MS = 500;

export class DetachQueue {
  private readonly deps: {
    gatewayId: string;
    ttlMs: number;
    routes: Pick<Routes, 'removeMany' | 'addMany'>;
    presence: Pick<PresenceService, 'devicesDown'>;
    /** Whether this gateway holds a socket of the user (again): its route then stays. */
    holds(userId: string): boolean;
    logger: Logger;
  };
  private pending: { socket: ClosedSocket; done: () => void }[] = [];
  private running: Promise<void> | null = null;

  constructor(deps: DetachQueue['deps']) {
    this.deps = deps;
  }

  /** Resolves once the socket's route and device are cleaned up, or the clean-up gave up (logged once per slice). */
  enqueue(socket: ClosedSocket): Promise<void> {
    return new Promise((done) => {
      this.pending.push({ socket, done });
      this.running ??= this.run().finally(() => {
        this.running = null;
      });
    });
  }

  /** Resolves when every socket enqueued so far is cleaned up. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
    // One slice at a time: the queue's load on Redis is bounded whatever the number of closes.
    while (this.pending.length > 0) {
      const slice = this.pending.splice(0, SLICE);
      await this.clean(slice.map((p) => p.socket));
      for (const p of slice) p.done();
    }
  }

  private async clean(sockets: ClosedSocket[]): Promise<void> {
    const { routes, presence, gatewayId, logger } = this.deps;
    const gone = [...new Set(sockets.map((s) => s.userId))].filter((id) => !this.deps.holds(id));
    for (let attempt = 1; ; attempt++) {
      try {
        await Promise.all([routes.removeMany(gone, gatewayId), presence.devicesDown(sockets)]);
        break;
      } catch (err) {
        if (attempt >= 2) {
          logger.warn(
            { err, sockets: sockets.length },
            'cleaning up closed sockets failed; their routes and presence expire by TTL',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
    // A user who connected again meanwhile may have had the new route removed: put it back now
    // rather than at the next heartbeat.
    const back = gone.filter((id) => this.deps.holds(id));
    if (back.length > 0) await routes.addMany(back, gatewayId, this.deps.ttlMs).catch(() => undefined);
  }
}

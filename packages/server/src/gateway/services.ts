// What a socket session needs from the rest of the process, handed over as one deps object.
import type { Config } from '../config/config.js';
import type { Messaging } from '../core/messages/messaging.js';
import type { PresenceService } from '../core/presence/presence-service.js';
import type { Authenticator } from '../core/users/authenticator.js';
import type { Metrics } from '../observability/metrics.js';
import type { CorkBatch } from './frames.js';
import type { Session } from './session.js';

export interface GatewayServices {
  config: Readonly<Config>;
  metrics: Metrics;
  authenticator: Authenticator;
  messaging: Messaging;
  /** Adds what a reply serves per read: signed attachment URLs. */
  present<T>(answer: T): T;
  presence: PresenceService;
  presenceTtlMs: number;
  /** Uncorks, once per turn, every socket written to in that turn. */
  corks: CorkBatch;
  /**
   * Registers an authenticated session: its route first, then the hub (calling `registered` in
   * that same turn, so the client hears `ready` before any event), then presence.
   */
  attach(session: Session, registered: () => void): Promise<void>;
  detach(session: Session): Promise<void>;
}

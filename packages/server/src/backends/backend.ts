// What a backend preset hands to the composition root: one implementation of every port.
import type { EventLog } from '../core/messages/event-log.js';
import type { PushSubscriptions } from '../core/notifications/subscriptions.js';
import type { Presence } from '../core/presence/presence.js';
import type { GatewayBus } from '../core/routing/gateway-bus.js';
import type { Routes } from '../core/routing/routes.js';
import type { Store } from '../core/store.js';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

export interface Backend {
  name: 'embedded' | 'cluster';
  store: Store;
  log: EventLog;
  presence: Presence;
  routes: Routes;
  bus: GatewayBus;
  pushSubscriptions: PushSubscriptions;
  readiness: Record<string, () => Promise<void>>;
  /** True when the log's commit already writes the store (no persister role to run). */
  inlinePersister: boolean;
  /**
   * Where fan-out starts reading: `now` when sockets live in this process and die with it (their
   * clients catch up), `durable` when fan-out is a worker that must survive its own restarts.
   */
  fanoutFrom: 'now' | 'durable';
  /** The deployment's one VAPID key pair, the same in every process. */
  vapidKeys(): Promise<VapidKeys>;
  /** Releases what the ports share (connections, pools) after each port was closed. */
  close(): Promise<void>;
}

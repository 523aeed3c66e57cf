// What a backend preset hands to the composition root: one implementation of every port.
import type { EventLog } from '../core/messages/event-log.js';
import type { Presence } from '../core/presence/presence.js';
import type { GatewayBus } from '../core/routing/gateway-bus.js';
import type { Routes } from '../core/routing/routes.js';
import type { Store } from '../core/store.js';

export interface Backend {
  name: 'embedded' | 'cluster';
  store: Store;
  log: EventLog;
  presence: Presence;
  routes: Routes;
  bus: GatewayBus;
  readiness: Record<string, () => Promise<void>>;
  /** True when the log's commit already writes the store (no persister role to run). */
  inlinePersister: boolean;
}

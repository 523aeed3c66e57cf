// Routes: which gateways hold a live socket of a user (the seed's UserServerDB).
export interface Routes {
  /** Registers that `gatewayId` holds a socket of `userId`; expires after `ttlMs` without refresh. */
  add(userId: string, gatewayId: string, ttlMs: number): Promise<void>;
  /** `add` for each of `userIds` in one call: a gateway's heartbeat refreshes its users' routes this way. */
  addMany(userIds: string[], gatewayId: string, ttlMs: number): Promise<void>;
  remove(userId: string, gatewayId: string): Promise<void>;
  /** `remove` for each of `userIds` in one call: a mass disconnect cleans up this way, not per socket. */
  removeMany(userIds: string[], gatewayId: string): Promise<void>;
  /**
   * Gateway liveness, refreshed by each gateway's heartbeat; `ttlMs` 0 declares it gone at once.
   * Routes of a gateway that was marked alive and then lapsed are dropped by lookups, so a killed
   * gateway's users stop being routed there within its liveness TTL. `known` is false when the
   * registry had no entry for the gateway: the first call, or the registry lost its state (a Redis
   * restart), after which the gateway's routes are gone too and its clients must resync.
   */
  markGatewayAlive(gatewayId: string, ttlMs: number): Promise<{ known: boolean }>;
  /** Gateways per user, only for users with at least one live gateway. */
  lookup(userIds: string[]): Promise<Map<string, string[]>>;
  close(): Promise<void>;
}

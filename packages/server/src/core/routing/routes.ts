// Routes: which gateways hold a live socket of a user (the seed's UserServerDB).
export interface Routes {
  /** Registers that `gatewayId` holds a socket of `userId`; expires after `ttlMs` without refresh. */
  add(userId: string, gatewayId: string, ttlMs: number): Promise<void>;
  remove(userId: string, gatewayId: string): Promise<void>;
  /** Gateways per user, only for users with at least one live gateway. */
  lookup(userIds: string[]): Promise<Map<string, string[]>>;
  close(): Promise<void>;
}

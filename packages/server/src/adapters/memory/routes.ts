// In-process routes: the embedded default (one gateway, so every route points at it).
import type { Routes } from '../../core/routing/routes.js';

export class MemoryRoutes implements Routes {
  private readonly routes = new Map<string, Map<string, number>>();
  private readonly gateways = new Map<string, number>();
  private readonly now: () => number;

  constructor(deps: { now?: () => number } = {}) {
    this.now = deps.now ?? Date.now;
  }

  async add(userId: string, gatewayId: string, ttlMs: number): Promise<void> {
    let gateways = this.routes.get(userId);
    if (!gateways) this.routes.set(userId, (gateways = new Map()));
    gateways.set(gatewayId, this.now() + ttlMs);
  }

  async addMany(userIds: string[], gatewayId: string, ttlMs: number): Promise<void> {
    for (const userId of userIds) await this.add(userId, gatewayId, ttlMs);
  }

  async remove(userId: string, gatewayId: string): Promise<void> {
    const gateways = this.routes.get(userId);
    if (!gateways) return;
    gateways.delete(gatewayId);
    if (gateways.size === 0) this.routes.delete(userId);
  }

  async removeMany(userIds: string[], gatewayId: string): Promise<void> {
    for (const userId of userIds) await this.remove(userId, gatewayId);
  }

  async markGatewayAlive(gatewayId: string, ttlMs: number): Promise<{ known: boolean }> {
    const known = this.gateways.has(gatewayId);
    this.gateways.set(gatewayId, this.now() + ttlMs);
    return { known };
  }

  async lookup(userIds: string[]): Promise<Map<string, string[]>> {
    const now = this.now();
    const out = new Map<string, string[]>();
    for (const userId of userIds) {
      const gateways = this.routes.get(userId);
      if (!gateways) continue;
      const live: string[] = [];
      for (const [gatewayId, expiresAt] of gateways) {
        const liveness = this.gateways.get(gatewayId);
        if (expiresAt > now && (liveness === undefined || liveness > now)) live.push(gatewayId);
        else gateways.delete(gatewayId);
      }
      if (live.length > 0) out.set(userId, live);
      else this.routes.delete(userId);
    }
    return out;
  }

  async close(): Promise<void> {}
}

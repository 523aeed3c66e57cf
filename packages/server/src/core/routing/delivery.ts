// Delivers an event to every live socket of some users: routes say which gateways, the bus carries
// one delivery per gateway (not one per user), as the seed's fan-out workers do.
import type { ServerEvent } from '@messenger/protocol';
import type { GatewayBus } from './gateway-bus.js';
import type { Routes } from './routes.js';

export class Deliverer {
  private readonly routes: Routes;
  private readonly bus: GatewayBus;

  constructor(deps: { routes: Routes; bus: GatewayBus }) {
    this.routes = deps.routes;
    this.bus = deps.bus;
  }

  async deliver(userIds: string[], event: ServerEvent): Promise<number> {
    if (userIds.length === 0) return 0;
    const routes = await this.routes.lookup(userIds);
    const byGateway = new Map<string, string[]>();
    for (const [userId, gateways] of routes) {
      for (const gatewayId of gateways) {
        let users = byGateway.get(gatewayId);
        if (!users) byGateway.set(gatewayId, (users = []));
        users.push(userId);
      }
    }
    await Promise.all([...byGateway].map(([gatewayId, users]) => this.bus.publish(gatewayId, { userIds: users, event })));
    return byGateway.size;
  }
}

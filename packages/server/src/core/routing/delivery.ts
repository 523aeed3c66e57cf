// Delivers events to every live socket of some users: routes say which gateways, the bus carries
// one message per gateway (not one per user), as the seed's fan-out workers do. A batch of events
// costs one route lookup and one bus message per gateway, whatever its length.
import type { ServerEvent } from '@messenger/protocol';
import type { Delivery, GatewayBus } from './gateway-bus.js';
import type { Routes } from './routes.js';

export interface Outgoing {
  userIds: string[];
  event: ServerEvent;
}

export class Deliverer {
  private readonly routes: Routes;
  private readonly bus: GatewayBus;

  constructor(deps: { routes: Routes; bus: GatewayBus }) {
    this.routes = deps.routes;
    this.bus = deps.bus;
  }

  /** Returns how many gateways got the event. */
  async deliver(userIds: string[], event: ServerEvent): Promise<number> {
    return (await this.deliverMany([{ userIds, event }]))[0]!;
  }

  /**
   * Each gateway receives, in one bus message, the events of `batch` that concern its users, in
   * batch order. Returns, per event, how many gateways got it.
   */
  async deliverMany(batch: Outgoing[]): Promise<number[]> {
    const wanted = new Set<string>();
    for (const { userIds } of batch) for (const id of userIds) wanted.add(id);
    if (wanted.size === 0) return batch.map(() => 0);
    const routes = await this.routes.lookup([...wanted]);
    const byGateway = new Map<string, Delivery[]>();
    const counts = batch.map(({ userIds, event }) => {
      const here = new Map<string, string[]>();
      for (const userId of userIds) {
        for (const gatewayId of routes.get(userId) ?? []) {
          let users = here.get(gatewayId);
          if (!users) here.set(gatewayId, (users = []));
          users.push(userId);
        }
      }
      for (const [gatewayId, users] of here) {
        let deliveries = byGateway.get(gatewayId);
        if (!deliveries) byGateway.set(gatewayId, (deliveries = []));
        deliveries.push({ userIds: users, event });
      }
      return here.size;
    });
    await Promise.all([...byGateway].map(([gatewayId, deliveries]) => this.bus.publish(gatewayId, deliveries)));
    return counts;
  }
}

// In-process gateway bus: the embedded default, a direct call to the local gateway's handler.
import type { Delivery, DeliveryHandler, GatewayBus } from '../../core/routing/gateway-bus.js';

export class MemoryGatewayBus implements GatewayBus {
  private readonly handlers = new Map<string, Set<DeliveryHandler>>();

  async publish(gatewayId: string, deliveries: Delivery[]): Promise<void> {
    for (const handler of this.handlers.get(gatewayId) ?? []) for (const delivery of deliveries) handler(delivery);
  }

  async subscribe(gatewayId: string, handler: DeliveryHandler): Promise<{ stop(): Promise<void> }> {
    let set = this.handlers.get(gatewayId);
    if (!set) this.handlers.set(gatewayId, (set = new Set()));
    set.add(handler);
    return { stop: async () => void set.delete(handler) };
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}

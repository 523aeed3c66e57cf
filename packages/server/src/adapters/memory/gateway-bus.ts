// In-process gateway bus: the embedded default, a direct call to the local gateway's handler.
import {
  RESYNC_REQUESTED,
  type Delivery,
  type DeliveryHandler,
  type GatewayBus,
} from '../../core/routing/gateway-bus.js';

export class MemoryGatewayBus implements GatewayBus {
  private readonly handlers = new Map<string, Set<DeliveryHandler>>();
  private readonly resyncs = new Set<() => void>();

  async publish(gatewayId: string, deliveries: Delivery[]): Promise<void> {
    for (const handler of this.handlers.get(gatewayId) ?? []) for (const delivery of deliveries) handler(delivery);
  }

  async subscribe(
    gatewayId: string,
    handler: DeliveryHandler,
    onResync?: (why: string) => void,
  ): Promise<{ stop(): Promise<void> }> {
    let set = this.handlers.get(gatewayId);
    if (!set) this.handlers.set(gatewayId, (set = new Set()));
    set.add(handler);
    const resync = onResync ? () => onResync(RESYNC_REQUESTED) : null;
    if (resync) this.resyncs.add(resync);
    return {
      stop: async () => {
        set.delete(handler);
        if (resync) this.resyncs.delete(resync);
      },
    };
  }

  async requestResync(): Promise<void> {
    for (const resync of this.resyncs) resync();
  }

  /** A function call cannot be interrupted. */
  onInterrupted(): void {}

  async close(): Promise<void> {
    this.handlers.clear();
    this.resyncs.clear();
  }
}

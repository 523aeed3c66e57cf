// GatewayBus: carries events to the gateway process that holds the sockets (one channel per gateway).
import type { ServerEvent } from '@messenger/protocol';

export interface Delivery {
  /** Users on that gateway to give the event to (every one of their sockets there). */
  userIds: string[];
  event: ServerEvent;
}

export type DeliveryHandler = (delivery: Delivery) => void;

export interface GatewayBus {
  /**
   * One message to the gateway carrying `deliveries`, handed to its handler in this order. At most
   * once; a gateway that is gone simply misses it (its clients catch up on reconnect).
   */
  publish(gatewayId: string, deliveries: Delivery[]): Promise<void>;
  /** Receives deliveries addressed to `gatewayId`, in publish order. */
  subscribe(gatewayId: string, handler: DeliveryHandler): Promise<{ stop(): Promise<void> }>;
  close(): Promise<void>;
}

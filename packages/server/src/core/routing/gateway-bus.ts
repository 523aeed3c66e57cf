// GatewayBus: carries events to the gateway process that holds the sockets (one channel per gateway).
import type { ServerEvent } from '@messenger/protocol';

export interface Delivery {
  /** Users on that gateway to give the event to (every one of their sockets there). */
  readonly userIds: string[];
  readonly event: ServerEvent;
  /**
   * The event as UTF-8 JSON, when the bus carried it encoded (NATS): the gateway writes these bytes
   * into the frame as they are, without decoding and encoding the event again (`event` decodes it
   * on first use). Absent when the bus hands over the event itself (in process).
   */
  readonly eventJson?: Uint8Array;
}

export type DeliveryHandler = (delivery: Delivery) => void;

/** Why `onResync` runs when a process asked for it (requestResync): a fan-out's bus connection broke. */
export const RESYNC_REQUESTED = 'a fan-out worker lost its bus connection';

export interface GatewayBus {
  /**
   * One message to the gateway carrying `deliveries`, handed to its handler in this order. At most
   * once; a gateway that is gone simply misses it (its clients catch up on reconnect).
   */
  publish(gatewayId: string, deliveries: Delivery[]): Promise<void>;
  /**
   * Receives deliveries addressed to `gatewayId`, in publish order, and calls `onResync` with a reason
   * when its clients may have missed events: some process asked every gateway to resync its clients
   * (requestResync), a message for this gateway could not be read (its deliveries are lost), or a
   * bus that can tell found a message to this gateway missing (NATS: a sender's numbering skipped).
   */
  subscribe(
    gatewayId: string,
    handler: DeliveryHandler,
    onResync?: (why: string) => void,
  ): Promise<{ stop(): Promise<void> }>;
  /** Asks every subscribed gateway to have its clients catch up: deliveries may have been lost. */
  requestResync(): Promise<void>;
  /**
   * `listener` runs each time this process's connection to the bus dropped and came back: what it
   * published or was sent meanwhile (or just before) may be lost, as the bus is at most once.
   */
  onInterrupted(listener: () => void): void;
  close(): Promise<void>;
}

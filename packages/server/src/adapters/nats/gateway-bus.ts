// NatsGatewayBus: server-to-gateway push over NATS core, one subject per gateway (gw.<gatewayId>).
// Core NATS is at most once, which is the port's promise: a gateway that is gone misses the event.
//
// Wire format of a gw.<id> message: "D1\n", then per delivery two lines, its user ids as a JSON
// array and its event as JSON (JSON.stringify never writes a raw newline). The gateway parses only
// the user ids and copies each event's bytes into its WebSocket frame, instead of decoding every
// event and encoding it again (`node bench/run.js bus`: 4.5 -> 0.8 µs per event). A plain JSON array of
// deliveries (the format before) is still read, so workers can be upgraded after the gateways; a
// message a gateway cannot read has its clients resync.
import type { ServerEvent } from '@messenger/protocol';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { unavailable } from '../../domain/errors.js';
import { RESYNC_REQUESTED, type Delivery, type DeliveryHandler, type GatewayBus } from '../../core/routing/gateway-bus.js';
import type { Logger } from '../../observability/logger.js';
import { connectNats } from './connection.js';
import { gatewaySubject, resyncSubject } from './subjects.js';

export interface NatsGatewayBusDeps {
  /** Comma-separated NATS URLs. Ignored when `connection` is given (then the caller owns and closes it). */
  servers: string;
  connection?: NatsConnection;
  logger: Logger;
  /** Scopes the resync broadcast to one deployment when several share a NATS (the log's stream prefix). */
  scope?: string;
}

export class NatsGatewayBus implements GatewayBus {
  private readonly subscriptions = new Set<Subscription>();
  private readonly interrupted = new Set<() => void>();
  private readonly resyncSubject: string;
  /** An event going to several gateways is encoded once (events are fresh objects per batch). */
  private readonly encoded = new WeakMap<ServerEvent, string>();
  /**
   * From a disconnect until the interruption listeners have run after the reconnect. nats.js keeps
   * what is published while disconnected and sends it first thing after the reconnect, ahead of the
   * resync a listener then asks for: a client could be handed a newer event before its socket is
   * closed for the resync, and its catch-up would then start after that event, past the ones the
   * broken connection lost (seq gaps are legal, so nothing tells it). Refusing deliveries meanwhile
   * pauses the fan-out (it retries the batch) until the resync has gone out.
   */
  private down = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly logger: Logger,
    scope: string,
  ) {
    this.resyncSubject = resyncSubject(scope);
    void this.watch();
  }

  static async open(deps: NatsGatewayBusDeps): Promise<NatsGatewayBus> {
    const nc = deps.connection ?? (await connectNats(deps.servers, 'gateway-bus'));
    return new NatsGatewayBus(nc, !deps.connection, deps.logger, deps.scope ?? 'default');
  }

  onInterrupted(listener: () => void): void {
    this.interrupted.add(listener);
  }

  async requestResync(): Promise<void> {
    try {
      this.nc.publish(this.resyncSubject, '');
    } catch (error) {
      throw Object.assign(unavailable('the gateway bus is down'), { cause: error });
    }
  }

  /** Core NATS drops what was in flight on a connection that broke: listeners learn when it is back. */
  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.down = true;
      if (status.type !== 'reconnect') continue;
      this.logger.warn({ server: status.server }, 'gateway bus reconnected; deliveries may have been lost meanwhile');
      for (const listener of this.interrupted) {
        try {
          listener();
        } catch (err) {
          this.logger.error({ err }, 'bus interruption listener failed');
        }
      }
      this.down = false;
    }
  }

  async publish(gatewayId: string, deliveries: Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    if (this.down) throw unavailable('the gateway bus is reconnecting');
    let text = FORMAT;
    for (const d of deliveries) text += `${JSON.stringify(d.userIds)}\n${this.json(d.event)}\n`;
    try {
      this.nc.publish(gatewaySubject(gatewayId), text);
    } catch (error) {
      throw Object.assign(unavailable('the gateway bus is down'), { cause: error });
    }
  }

  private json(event: ServerEvent): string {
    let text = this.encoded.get(event);
    if (text === undefined) this.encoded.set(event, (text = JSON.stringify(event)));
    return text;
  }

  async subscribe(gatewayId: string, handler: DeliveryHandler, onResync?: (why: string) => void): Promise<{ stop(): Promise<void> }> {
    const resync = onResync
      ? this.nc.subscribe(this.resyncSubject, {
          callback: (error) => {
            if (error) return this.logger.error({ err: error, gatewayId }, 'gateway bus resync subscription failed');
            onResync(RESYNC_REQUESTED);
          },
        })
      : null;
    if (resync) this.subscriptions.add(resync);
    const sub = this.nc.subscribe(gatewaySubject(gatewayId), {
      callback: (error, msg) => {
        if (error) return this.logger.error({ err: error, gatewayId }, 'gateway bus subscription failed');
        let deliveries: Delivery[];
        try {
          deliveries = decodeDeliveries(msg.data);
        } catch (err) {
          // Its deliveries are lost (say, a fan-out worker of a newer version, during an upgrade in
          // the wrong order): this gateway's clients catch up instead of missing them for good.
          this.logger.error({ err, gatewayId }, 'undecodable gateway bus message; asking this gateway\'s clients to resync');
          onResync?.('an undecodable gateway bus message');
          return;
        }
        for (const delivery of deliveries) {
          try {
            handler(delivery);
          } catch (err) {
            this.logger.error({ err, gatewayId }, 'gateway bus handler failed');
          }
        }
      },
    });
    this.subscriptions.add(sub);
    // The server has registered the interest once the flush returns: publishes from any process reach it.
    await this.nc.flush();
    return {
      stop: async () => {
        this.subscriptions.delete(sub);
        sub.unsubscribe();
        if (resync) {
          this.subscriptions.delete(resync);
          resync.unsubscribe();
        }
        if (!this.nc.isClosed()) await this.nc.flush();
      },
    };
  }

  async close(): Promise<void> {
    for (const sub of this.subscriptions) sub.unsubscribe();
    this.subscriptions.clear();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

const FORMAT = 'D1\n';
const FORMAT_BYTES = new TextEncoder().encode(FORMAT);
const NEWLINE = 0x0a;
const utf8 = new TextDecoder();

/** A delivery whose event stays JSON bytes until something other than a frame needs it. */
class EncodedDelivery implements Delivery {
  private decoded: ServerEvent | undefined;

  constructor(
    readonly userIds: string[],
    readonly eventJson: Uint8Array,
  ) {}

  get event(): ServerEvent {
    return (this.decoded ??= JSON.parse(utf8.decode(this.eventJson)) as ServerEvent);
  }
}

/** Reads a gw.<id> message: the line format above, or a JSON array of deliveries (the format before it). */
export function decodeDeliveries(data: Uint8Array): Delivery[] {
  if (!FORMAT_BYTES.every((byte, i) => data[i] === byte)) {
    const deliveries: unknown = JSON.parse(utf8.decode(data));
    if (!Array.isArray(deliveries)) throw new Error('a gateway bus message must hold a list of deliveries');
    return deliveries as Delivery[];
  }
  const out: Delivery[] = [];
  for (let i = FORMAT_BYTES.length; i < data.length; ) {
    const ids = data.indexOf(NEWLINE, i);
    const end = ids < 0 ? -1 : data.indexOf(NEWLINE, ids + 1);
    if (end < 0) throw new Error('truncated gateway bus message');
    const userIds: unknown = JSON.parse(utf8.decode(data.subarray(i, ids)));
    if (!Array.isArray(userIds) || !userIds.every((id) => typeof id === 'string')) throw new Error('invalid user ids in a gateway bus message');
    out.push(new EncodedDelivery(userIds as string[], data.subarray(ids + 1, end)));
    i = end + 1;
  }
  return out;
}

// NatsGatewayBus: server-to-gateway push over NATS core, one subject per gateway (gw.<gatewayId>).
// Core NATS is at most once, which is the port's promise: a gateway that is gone misses the event.
// Messages are written and read by bus-codec.ts. A gateway that sees a sender's numbering skip has
// its clients resync, and drops the message after the gap, since handing a client a newer event
// first would start its catch-up past the lost one (seq gaps are legal, so nothing else tells).
// A message a gateway cannot read has its clients resync too.
import { randomBytes } from 'node:crypto';
import type { ServerEvent } from '@messenger/protocol';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { unavailable } from '../../domain/errors.js';
import {
  RESYNC_REQUESTED,
  type Delivery,
  type DeliveryHandler,
  type GatewayBus,
} from '../../core/routing/gateway-bus.js';
import type { Logger } from '../../observability/logger.js';
import { bodyLimit, Counters, decodeBusMessage, encodeBusMessage, encodeBodies } from './bus-codec.js';
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
  private readonly json = (event: ServerEvent): string => {
    let text = this.encoded.get(event);
    if (text === undefined) this.encoded.set(event, (text = JSON.stringify(event)));
    return text;
  };
  /**
   * From a disconnect until the interruption listeners have run after the reconnect. nats.js keeps
   * what is published while disconnected and sends it first thing after the reconnect, ahead of the
   * resync a listener then asks for: a client could be handed a newer event before its socket is
   * closed for the resync, and its catch-up would then start after that event, past the ones the
   * broken connection lost (seq gaps are legal, so nothing tells it). Refusing deliveries meanwhile
   * pauses the fan-out (it retries the batch) until the resync has gone out.
   */
  private down = false;
  /** This bus's name as a sender, and its last number per gateway (see bus-codec.ts). */
  private readonly sender = randomBytes(6).toString('hex');
  private readonly numbered = new Counters();
  /** Per subscription: the last number seen from each sender. */
  private readonly heard = new Set<Counters>();

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
      // Names the sender: its next message may follow a gap that this resync already covers.
      this.nc.publish(this.resyncSubject, this.sender);
    } catch (error) {
      throw Object.assign(unavailable('the gateway bus is down'), { cause: error });
    }
  }

  /** Core NATS drops what was in flight on a connection that broke: listeners learn when it is back. */
  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.down = true;
      }
      if (status.type !== 'reconnect') continue;
      this.logger.warn({ server: status.server }, 'gateway bus reconnected; deliveries may have been lost meanwhile');
      // nats.js re-sends this connection's subscriptions on reconnect, but another connection's
      // publish can reach the server first: a round trip makes the server hold them before the
      // listeners resync anyone and deliveries resume (one sent sooner would find no interest).
      await this.nc.flush().catch(() => {});
      // The round trip covers this node only. The other nodes of a NATS cluster learn of the interest
      // over their routes a little later, and drop what their clients (the fan-out) publish to it
      // until then; lost after the resync, with nothing later from that sender to show the gap, those
      // deliveries would never reach the clients. So the resync waits for the interest to spread.
      await new Promise((resolve) => setTimeout(resolve, INTEREST_SPREAD_MS));
      // The listeners resync this process's clients: gaps from before are covered.
      for (const counters of this.heard) counters.clear();
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

  /** One bus message, or several in order when the deliveries would not fit in one (see encodeBodies). */
  async publish(gatewayId: string, deliveries: Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    if (this.down) throw unavailable('the gateway bus is reconnecting');
    const limit = bodyLimit(this.nc.info?.max_payload);
    for (const body of encodeBodies(deliveries, limit, this.json)) this.send(gatewayId, body);
  }

  private send(gatewayId: string, body: string): void {
    const n = this.numbered.last(gatewayId) + 1;
    try {
      this.nc.publish(gatewaySubject(gatewayId), encodeBusMessage({ sender: this.sender, n }, body));
    } catch (error) {
      throw Object.assign(unavailable('the gateway bus is down'), { cause: error });
    }
    // Counted once it was handed over: a publish that threw sent nothing.
    this.numbered.set(gatewayId, n);
  }

  async subscribe(
    gatewayId: string,
    handler: DeliveryHandler,
    onResync?: (why: string) => void,
  ): Promise<{ stop(): Promise<void> }> {
    const heard = new Counters();
    this.heard.add(heard);
    const resync = onResync
      ? this.nc.subscribe(this.resyncSubject, {
          callback: (error, msg) => {
            if (error) return this.logger.error({ err: error, gatewayId }, 'gateway bus resync subscription failed');
            if (msg.data.length > 0) heard.forget(msg.string());
            onResync(RESYNC_REQUESTED);
          },
        })
      : null;
    if (resync) this.subscriptions.add(resync);
    const sub = this.nc.subscribe(gatewaySubject(gatewayId), {
      callback: (error, msg) => {
        if (error) return this.logger.error({ err: error, gatewayId }, 'gateway bus subscription failed');
        // Dropped, not handed to clients, until the listeners asked for the resync: its catch-up
        // covers them, and a client handed a newer event first would catch up past a lost one.
        if (this.down) return;
        let deliveries: Delivery[];
        try {
          const decoded = decodeBusMessage(msg.data);
          const { sender, n } = decoded.header;
          const expected = heard.last(sender) + 1;
          if (heard.skipped(sender, n)) {
            this.logger.warn(
              { gatewayId, sender, expected, got: n },
              "gateway bus messages were lost in transit; asking this gateway's clients to resync",
            );
            onResync?.(BUS_GAP);
            return;
          }
          deliveries = decoded.deliveries;
        } catch (err) {
          // Its deliveries are lost: this gateway's clients catch up instead of missing them for good.
          this.logger.error(
            { err, gatewayId },
            "undecodable gateway bus message; asking this gateway's clients to resync",
          );
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
        this.heard.delete(heard);
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

/** How long a reconnected bus waits for its interest to reach every node of a NATS cluster. */
const INTEREST_SPREAD_MS = 1_000;

/** Why `onResync` runs when a sender's numbering skipped (see bus-codec.ts). */
export const BUS_GAP = 'gateway bus messages were lost in transit';

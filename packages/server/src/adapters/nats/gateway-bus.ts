// NatsGatewayBus: server-to-gateway push over NATS core, one subject per gateway (gw.<gatewayId>).
// Core NATS is at most once, which is the port's promise: a gateway that is gone misses the event.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { unavailable } from '../../domain/errors.js';
import type { Delivery, DeliveryHandler, GatewayBus } from '../../core/routing/gateway-bus.js';
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
      if (status.type !== 'reconnect') continue;
      this.logger.warn({ server: status.server }, 'gateway bus reconnected; deliveries may have been lost meanwhile');
      for (const listener of this.interrupted) {
        try {
          listener();
        } catch (err) {
          this.logger.error({ err }, 'bus interruption listener failed');
        }
      }
    }
  }

  async publish(gatewayId: string, deliveries: Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    try {
      this.nc.publish(gatewaySubject(gatewayId), JSON.stringify(deliveries));
    } catch (error) {
      throw Object.assign(unavailable('the gateway bus is down'), { cause: error });
    }
  }

  async subscribe(gatewayId: string, handler: DeliveryHandler, onResync?: () => void): Promise<{ stop(): Promise<void> }> {
    const resync = onResync
      ? this.nc.subscribe(this.resyncSubject, {
          callback: (error) => {
            if (error) return this.logger.error({ err: error, gatewayId }, 'gateway bus resync subscription failed');
            onResync();
          },
        })
      : null;
    if (resync) this.subscriptions.add(resync);
    const sub = this.nc.subscribe(gatewaySubject(gatewayId), {
      callback: (error, msg) => {
        if (error) return this.logger.error({ err: error, gatewayId }, 'gateway bus subscription failed');
        let deliveries: Delivery[];
        try {
          deliveries = msg.json<Delivery[]>();
        } catch (err) {
          return this.logger.error({ err, gatewayId }, 'undecodable gateway bus message');
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

// NatsGatewayBus: server-to-gateway push over NATS core, one subject per gateway (gw.<gatewayId>).
// Core NATS is at most once, which is the port's promise: a gateway that is gone misses the event.
//
// Wire format of a gw.<id> message: "D1\n", then per delivery two lines, its user ids as a JSON
// array and its event as JSON (JSON.stringify never writes a raw newline). The gateway parses only
// the user ids and copies each event's bytes into its WebSocket frame, instead of decoding every
// event and encoding it again (`node bench/run.js bus`: 4.5 -> 0.8 µs per event).
//
// The first pair numbers the message: no users, and {"bus":"<sender>","n":<n>}. <sender> names one
// publishing bus (a process's connection) and <n> counts its messages to that gateway, from 1, with
// no gaps. Core NATS keeps one connection's messages in order, so a gateway that sees a number
// skipped knows a message to it was lost in transit (a NATS node died holding it): its clients
// resync, and the message after the gap is dropped, since handing a client a newer event first would
// start its catch-up past the lost one (seq gaps are legal, so nothing else tells). A gateway from
// before the numbering reads that pair as a delivery to nobody, so workers may be upgraded first.
//
// Still read: "D1" messages without the numbering and a plain JSON array of deliveries (the formats
// before). A message a gateway cannot read has its clients resync.
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
  /** This bus's name as a sender, and its last number per gateway (see the wire format above). */
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
      if (status.type === 'disconnect') this.down = true;
      if (status.type !== 'reconnect') continue;
      this.logger.warn({ server: status.server }, 'gateway bus reconnected; deliveries may have been lost meanwhile');
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

  /**
   * One bus message, or several in order when the deliveries would not fit in one: NATS refuses a
   * payload over its `max_payload` (1 MB by default), and a fan-out batch of long messages to one
   * gateway can pass it. A delivery too big on its own is split by users.
   */
  async publish(gatewayId: string, deliveries: Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    if (this.down) throw unavailable('the gateway bus is reconnecting');
    const limit = (this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - HEADER_ROOM;
    let body = '';
    let bytes = 0;
    for (const d of deliveries) {
      for (const { line, size } of this.lines(d.userIds, this.json(d.event), limit)) {
        if (bytes > 0 && bytes + size > limit) {
          this.send(gatewayId, body);
          body = '';
          bytes = 0;
        }
        body += line;
        bytes += size;
      }
    }
    this.send(gatewayId, body);
  }

  /** A delivery's two lines, or several deliveries of the event to fewer users each where too big. */
  private lines(userIds: string[], event: string, limit: number): { line: string; size: number }[] {
    const line = `${JSON.stringify(userIds)}\n${event}\n`;
    const size = Buffer.byteLength(line);
    if (size <= limit) return [{ line, size }];
    if (userIds.length <= 1)
      throw new Error(`an event of ${event.length} characters does not fit in a gateway bus message`);
    const half = Math.ceil(userIds.length / 2);
    return [...this.lines(userIds.slice(0, half), event, limit), ...this.lines(userIds.slice(half), event, limit)];
  }

  private send(gatewayId: string, body: string): void {
    const n = this.numbered.last(gatewayId) + 1;
    try {
      this.nc.publish(gatewaySubject(gatewayId), `${FORMAT}[]\n${JSON.stringify({ bus: this.sender, n })}\n${body}`);
    } catch (error) {
      throw Object.assign(unavailable('the gateway bus is down'), { cause: error });
    }
    // Counted once it was handed over: a publish that threw sent nothing.
    this.numbered.set(gatewayId, n);
  }

  private json(event: ServerEvent): string {
    let text = this.encoded.get(event);
    if (text === undefined) this.encoded.set(event, (text = JSON.stringify(event)));
    return text;
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
        let deliveries: Delivery[];
        try {
          const decoded = decodeBusMessage(msg.data);
          deliveries = decoded.deliveries;
          if (decoded.from) {
            const { sender, n } = decoded.from;
            const last = heard.last(sender);
            heard.set(sender, n);
            // n = 1: a sender (re)starts its count for this gateway (it forgets idle gateways).
            if (last > 0 && n !== 1 && n !== last + 1) {
              this.logger.warn(
                { gatewayId, sender, expected: last + 1, got: n },
                "gateway bus messages were lost in transit; asking this gateway's clients to resync",
              );
              onResync?.(BUS_GAP);
              return;
            }
          }
        } catch (err) {
          // Its deliveries are lost (say, a fan-out worker of a newer version, during an upgrade in
          // the wrong order): this gateway's clients catch up instead of missing them for good.
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

/** Why `onResync` runs when a sender's numbering skipped (see the wire format). */
export const BUS_GAP = 'gateway bus messages were lost in transit';

const FORMAT = 'D1\n';
/** NATS's default `max_payload`, for a connection that has not had the server's INFO yet. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Room kept in each message for the format marker, the number and the protocol's own headers. */
const HEADER_ROOM = 1024;
const FORMAT_BYTES = new TextEncoder().encode(FORMAT);
/** How the numbering pair starts: no users, then the number's object. */
const NUMBERED_BYTES = new TextEncoder().encode('[]\n{"bus":');
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

/** Reads a gw.<id> message: the line format above (numbered or not), or a JSON array of deliveries. */
export function decodeDeliveries(data: Uint8Array): Delivery[] {
  return decodeBusMessage(data).deliveries;
}

/** The deliveries of a gw.<id> message and, when numbered, who sent it and its number. */
export function decodeBusMessage(data: Uint8Array): {
  from: { sender: string; n: number } | null;
  deliveries: Delivery[];
} {
  if (!startsWith(data, FORMAT_BYTES)) {
    const deliveries: unknown = JSON.parse(utf8.decode(data));
    if (!Array.isArray(deliveries)) throw new Error('a gateway bus message must hold a list of deliveries');
    return { from: null, deliveries: deliveries as Delivery[] };
  }
  let i = FORMAT_BYTES.length;
  let from: { sender: string; n: number } | null = null;
  if (startsWith(data, NUMBERED_BYTES, i)) {
    const start = i + 3;
    const eol = data.indexOf(NEWLINE, start);
    const number: unknown = eol < 0 ? null : JSON.parse(utf8.decode(data.subarray(start, eol)));
    const { bus, n } = (number ?? {}) as { bus?: unknown; n?: unknown };
    if (typeof bus !== 'string' || bus === '' || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1)
      throw new Error('invalid gateway bus message number');
    from = { sender: bus, n };
    i = eol + 1;
  }
  const out: Delivery[] = [];
  while (i < data.length) {
    const ids = data.indexOf(NEWLINE, i);
    const end = ids < 0 ? -1 : data.indexOf(NEWLINE, ids + 1);
    if (end < 0) throw new Error('truncated gateway bus message');
    const userIds: unknown = JSON.parse(utf8.decode(data.subarray(i, ids)));
    if (!Array.isArray(userIds) || !userIds.every((id) => typeof id === 'string'))
      throw new Error('invalid user ids in a gateway bus message');
    out.push(new EncodedDelivery(userIds as string[], data.subarray(ids + 1, end)));
    i = end + 1;
  }
  return { from, deliveries: out };
}

function startsWith(data: Uint8Array, prefix: Uint8Array, at = 0): boolean {
  return data.length >= at + prefix.length && prefix.every((byte, i) => data[at + i] === byte);
}

/**
 * The last message number per peer (a gateway, or a sender), forgetting peers idle for an hour:
 * gateways come and go. A sender that forgot a gateway starts again at 1, which the gateway accepts.
 */
class Counters {
  private readonly entries = new Map<string, { n: number; at: number }>();
  private sweptAt = Date.now();

  last(peer: string): number {
    return this.entries.get(peer)?.n ?? 0;
  }

  set(peer: string, n: number): void {
    const now = Date.now();
    this.entries.set(peer, { n, at: now });
    if (now - this.sweptAt < IDLE_PEER_MS / 6) return;
    this.sweptAt = now;
    for (const [key, entry] of this.entries) if (now - entry.at > IDLE_PEER_MS) this.entries.delete(key);
  }

  forget(peer: string): void {
    this.entries.delete(peer);
  }

  clear(): void {
    this.entries.clear();
  }
}

const IDLE_PEER_MS = 3_600_000;

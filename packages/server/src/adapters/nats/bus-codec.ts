// The wire format of a gw.<gatewayId> message on the NATS gateway bus, and the numbering it carries.
//
// A header line {"bus":"<sender>","n":<n>}, then per delivery two lines: its user ids as a JSON
// array and its event as JSON (JSON.stringify never writes a raw newline). The gateway parses only
// the user ids and copies each event's bytes into its WebSocket frame, instead of decoding every
// event and encoding it again (`node bench/run.js bus` measures both).
//
// <sender> names one publishing bus (a process's connection) and <n> counts its messages to that
// gateway, from 1, with no gaps. Core NATS keeps one connection's messages in order, so a gateway
// that sees a number skipped knows a message to it was lost in transit (a NATS node died holding it).
import type { ServerEvent } from '@messenger/protocol';
import type { Delivery } from '../../core/routing/gateway-bus.js';

/** Who sent a bus message, and its number among that sender's messages to the gateway. */
export interface BusHeader {
  sender: string;
  n: number;
}

/** NATS's default `max_payload`, for a connection that has not had the server's INFO yet. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Room kept in each message for the header and the protocol's own headers. */
const HEADER_ROOM = 1024;
const NEWLINE = 0x0a;
const utf8 = new TextDecoder();

/** The most bytes of deliveries one message may carry under the server's `max_payload`. */
export function bodyLimit(maxPayload: number | undefined): number {
  return (maxPayload ?? DEFAULT_MAX_PAYLOAD) - HEADER_ROOM;
}

/**
 * The deliveries' lines as message bodies of at most `limit` bytes each, in order: NATS refuses a
 * payload over its `max_payload` (1 MB by default), and a fan-out batch of long messages to one
 * gateway can pass it. A delivery too big on its own is split by users. `json` encodes an event
 * (the bus caches it, as one event often goes to several gateways).
 */
export function* encodeBodies(
  deliveries: readonly Delivery[],
  limit: number,
  json: (event: ServerEvent) => string = JSON.stringify,
): Generator<string> {
  let body = '';
  let bytes = 0;
  for (const d of deliveries) {
    for (const { line, size } of deliveryLines(d.userIds, json(d.event), limit)) {
      if (bytes > 0 && bytes + size > limit) {
        yield body;
        body = '';
        bytes = 0;
      }
      body += line;
      bytes += size;
    }
  }
  if (bytes > 0) yield body;
}

/** A delivery's two lines, or several deliveries of the event to fewer users each where too big. */
function deliveryLines(userIds: string[], event: string, limit: number): { line: string; size: number }[] {
  const line = `${JSON.stringify(userIds)}\n${event}\n`;
  const size = Buffer.byteLength(line);
  if (size <= limit) return [{ line, size }];
  if (userIds.length <= 1)
    throw new Error(`an event of ${event.length} characters does not fit in a gateway bus message`);
  const half = Math.ceil(userIds.length / 2);
  return [...deliveryLines(userIds.slice(0, half), event, limit), ...deliveryLines(userIds.slice(half), event, limit)];
}

/** One message: the header, then a body from `encodeBodies`. */
export function encodeBusMessage(header: BusHeader, body: string): string {
  return `${JSON.stringify({ bus: header.sender, n: header.n })}\n${body}`;
}

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

/** Reads one message whole, or throws: a message that is partly unreadable is not read at all. */
export function decodeBusMessage(data: Uint8Array): { header: BusHeader; deliveries: Delivery[] } {
  const eol = data.indexOf(NEWLINE);
  const head: unknown = eol < 0 ? null : JSON.parse(utf8.decode(data.subarray(0, eol)));
  const { bus, n } = (head ?? {}) as { bus?: unknown; n?: unknown };
  if (typeof bus !== 'string' || bus === '' || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1)
    throw new Error('invalid gateway bus message number');
  const deliveries: Delivery[] = [];
  let i = eol + 1;
  while (i < data.length) {
    const ids = data.indexOf(NEWLINE, i);
    const end = ids < 0 ? -1 : data.indexOf(NEWLINE, ids + 1);
    if (end < 0) throw new Error('truncated gateway bus message');
    const userIds: unknown = JSON.parse(utf8.decode(data.subarray(i, ids)));
    if (!Array.isArray(userIds) || !userIds.every((id) => typeof id === 'string'))
      throw new Error('invalid user ids in a gateway bus message');
    deliveries.push(new EncodedDelivery(userIds as string[], data.subarray(ids + 1, end)));
    i = end + 1;
  }
  return { header: { sender: bus, n }, deliveries };
}

/**
 * The last message number per peer (a gateway for a sender, a sender for a gateway), forgetting
 * peers idle for an hour: gateways come and go. A sender that forgot a gateway starts again at 1,
 * which the gateway accepts.
 */
export class Counters {
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

  /**
   * Records number `n` from `sender`, and tells whether numbers were skipped before it. A sender
   * not heard of yet may start mid-count (this gateway is newer than its count); n = 1 is a sender
   * (re)starting its count for this gateway.
   */
  skipped(sender: string, n: number): boolean {
    const last = this.last(sender);
    this.set(sender, n);
    return last > 0 && n !== 1 && n !== last + 1;
  }

  forget(peer: string): void {
    this.entries.delete(peer);
  }

  clear(): void {
    this.entries.clear();
  }
}

const IDLE_PEER_MS = 3_600_000;

// Whole server-to-client WebSocket frames, built once and written as one buffer.
//
// A fan-out to a 1,000-member group writes the same event to 1,000 sockets. Through `ws.send` each
// write allocates a frame header and queues two chunks (header, payload); here the frame is built
// once (the same bytes ws would produce: FIN, text opcode, unmasked, RFC 6455 §5.2) and every
// socket writes that one buffer. Corking is batched too: the first frame a socket gets in a turn
// corks it, and one setImmediate per turn uncorks every socket corked in that turn.
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';

/** The frame header length for a payload of `n` bytes (server frames are never masked). */
function headerLength(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

function writeHeader(out: Buffer, n: number): void {
  out[0] = 0x81; // FIN + text
  if (n < 126) {
    out[1] = n;
  } else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
}

/** One complete text frame carrying `text` (UTF-8). */
export function textFrame(text: string): Buffer {
  const n = Buffer.byteLength(text);
  const head = headerLength(n);
  const out = Buffer.allocUnsafe(head + n);
  writeHeader(out, n);
  out.write(text, head, 'utf8');
  return out;
}

const EVENT_PREFIX = Buffer.from('{"type":"event","event":');

/**
 * The frame of `{"type":"event","event":<json>}` from the event's UTF-8 JSON, copied as bytes: the
 * same bytes as `textFrame(JSON.stringify({ type: 'event', event }))` when `json` is `JSON.stringify(event)`.
 */
export function eventFrame(json: Uint8Array): Buffer {
  const n = EVENT_PREFIX.length + json.length + 1;
  const head = headerLength(n);
  const out = Buffer.allocUnsafe(head + n);
  writeHeader(out, n);
  EVENT_PREFIX.copy(out, head);
  out.set(json, head + EVENT_PREFIX.length);
  out[head + n - 1] = 0x7d; // }
  return out;
}

/** The TCP socket under a `ws` WebSocket, while the WebSocket is open (no frame may follow a close). */
export function openSocketOf(ws: WebSocket): Socket | null {
  if (ws.readyState !== WebSocket.OPEN) return null;
  return (ws as unknown as { _socket?: Socket })._socket ?? null;
}

/** Uncorks, once per event-loop turn, every socket that was corked during that turn. */
export class CorkBatch {
  private pending: Array<{ uncork(): void }> = [];
  private scheduled = false;

  /** `target.uncork()` runs in the next check phase, together with every other target of this turn. */
  add(target: { uncork(): void }): void {
    this.pending.push(target);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const list = this.pending;
    this.pending = [];
    for (const target of list) target.uncork();
  };
}

/**
 * The token of a valid auth frame (protocol's `authFrame`), else null. Checked by hand: it is parsed
 * for every accepted socket, and the schema's parse was a measurable part of an accept's CPU.
 */
export function authTokenOf(frame: unknown): string | null {
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return null;
  const { type, token } = frame as { type?: unknown; token?: unknown };
  if (type !== 'auth' || typeof token !== 'string' || token.length < 1 || token.length > 256) return null;
  return token;
}

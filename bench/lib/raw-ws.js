// A minimal WebSocket client on a bare net.Socket, for the load generators that hold thousands of
// sockets (bench/lib/idle-gen.js). The `ws` client costs several times the server's CPU per
// connection (http.ClientRequest, header validation, a SHA-1 per handshake, two writes per frame);
// on a 2-core machine shared with the server that, not the server, set the accept rate.
//
// It speaks the same protocol as any client: HTTP/1.1 upgrade (waits for 101 and checks
// Sec-WebSocket-Accept), masked client frames, pong for every ping, close handshake. It does not
// support extensions or fragmented sends (the server never negotiates any, and the bench sends
// small frames). The handshake key is random per process, not per connection, so the expected
// accept value is computed once.
import crypto from 'node:crypto';
import net from 'node:net';

const KEY = crypto.randomBytes(16).toString('base64');
const ACCEPT = crypto.createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

let pool = Buffer.alloc(0);
let used = 0;
function mask4() {
  if (used + 4 > pool.length) {
    pool = crypto.randomBytes(4096);
    used = 0;
  }
  used += 4;
  return pool.subarray(used - 4, used);
}

/** One masked client frame (FIN set). */
function clientFrame(opcode, payload) {
  const n = payload.length;
  const head = n < 126 ? 6 : n < 65536 ? 8 : 14;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  const m = mask4();
  m.copy(out, head - 4);
  for (let i = 0; i < n; i++) out[head + i] = payload[i] ^ m[i & 3];
  return out;
}

/**
 * new RawWs({ host, port, path, localAddress }, { open(), message(buf: Buffer), ping(), close(code), error(err) })
 * Methods: send(text), close(code), terminate(). `readyState`: 0 connecting, 1 open, 2 closing, 3 closed.
 */
export class RawWs {
  constructor({ host, port, path = '/', localAddress }, on) {
    this.on = on;
    this.readyState = 0;
    this.buf = null; // unparsed input
    this.frag = null; // continuation payloads of a fragmented message
    this.closeCode = 1006;
    const sock = net.connect({ host, port, localAddress, noDelay: true });
    this.sock = sock;
    sock.on('connect', () =>
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`,
      ),
    );
    sock.on('data', (chunk) => this.onData(chunk));
    sock.on('error', (err) => this.on.error?.(err));
    sock.on('close', () => {
      const was = this.readyState;
      this.readyState = 3;
      if (was !== 3) this.on.close?.(this.closeCode);
    });
  }

  send(text) {
    if (this.readyState !== 1) return;
    this.sock.write(clientFrame(1, Buffer.from(text)));
  }

  close(code = 1000) {
    if (this.readyState !== 1) return this.terminate();
    this.readyState = 2;
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code);
    this.sock.end(clientFrame(8, p));
  }

  terminate() {
    this.sock.destroy();
  }

  onData(chunk) {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.readyState === 0) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.toString('latin1', 0, end);
      this.buf = this.buf.length > end + 4 ? this.buf.subarray(end + 4) : null;
      const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
      if (!head.startsWith('HTTP/1.1 101') || accept !== ACCEPT) {
        this.on.error?.(Object.assign(new Error(`handshake failed: ${head.split('\r\n')[0]}`), { code: 'HANDSHAKE' }));
        return this.terminate();
      }
      this.readyState = 1;
      this.on.open?.();
      if (!this.buf) return;
    }
    this.parseFrames();
  }

  parseFrames() {
    while (this.buf && this.buf.length >= 2) {
      const b = this.buf;
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = b.readUInt32BE(2) * 2 ** 32 + b.readUInt32BE(6);
        off = 10;
      }
      if (b[1] & 0x80) off += 4; // servers never mask, but skip a mask key if one is there
      if (b.length < off + len) return;
      const payload = b.subarray(off, off + len);
      this.buf = b.length > off + len ? b.subarray(off + len) : null;
      this.onFrame(fin, opcode, payload);
    }
  }

  onFrame(fin, opcode, payload) {
    if (opcode === 9) {
      this.on.ping?.();
      if (this.readyState === 1) this.sock.write(clientFrame(10, payload));
      return;
    }
    if (opcode === 10) return;
    if (opcode === 8) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.closeReason = payload.length > 2 ? payload.toString('utf8', 2) : '';
      if (this.readyState === 1) {
        this.readyState = 2;
        this.sock.end(clientFrame(8, payload.subarray(0, 2)));
      }
      return;
    }
    if (opcode === 0) {
      if (!this.frag) return;
      this.frag.push(Buffer.from(payload));
      if (!fin) return;
      const whole = Buffer.concat(this.frag);
      this.frag = null;
      return this.on.message?.(whole);
    }
    if (!fin) {
      this.frag = [Buffer.from(payload)];
      return;
    }
    this.on.message?.(payload);
  }
}

/**
 * The browser-style WebSocket the SDK expects (readyState, send, close, addEventListener), on
 * RawWs: `new (rawWebSocketClass(localAddress, onSocket))(url)`. Text frames arrive as strings.
 * `terminate()` drops the connection without a close frame (an abrupt network loss).
 */
export function rawWebSocketClass(localAddress, onSocket) {
  return class RawWebSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    #listeners = { open: [], message: [], close: [], error: [] };
    #ws;
    constructor(url) {
      const u = new URL(url);
      const emit = (type, event) => {
        for (const fn of this.#listeners[type]) fn(event);
      };
      this.#ws = new RawWs(
        { host: u.hostname, port: Number(u.port || 80), path: u.pathname + u.search, localAddress },
        {
          open: () => emit('open', { type: 'open' }),
          message: (buf) => emit('message', { type: 'message', data: buf.toString('utf8') }),
          error: (err) => emit('error', { type: 'error', error: err }),
          close: (code) => emit('close', { type: 'close', code, reason: this.#ws.closeReason ?? '' }),
        },
      );
      onSocket?.(this);
    }
    get readyState() {
      return this.#ws.readyState;
    }
    addEventListener(type, fn) {
      this.#listeners[type]?.push(fn);
    }
    send(text) {
      if (this.#ws.readyState === 0) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
      this.#ws.send(text); // dropped once closing, as browsers and ws do
    }
    close(code = 1000) {
      this.#ws.close(code);
    }
    terminate() {
      this.#ws.terminate();
    }
  };
}

// Whether a backing service answers at an address, asked in its own protocol over a bare socket
// (no client library to load): cheap enough to run before every test run.
import net from 'node:net';

/** Whether a Redis server answers PING at `url` within 2 s. */
export function redisPong({ hostname, port }: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(port || 6379), hostname);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}

/** The INFO a NATS server greets a client with (null if nothing answers like NATS within 2 s). */
export function natsInfo(port: number, host = '127.0.0.1'): Promise<{ jetstream?: boolean } | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    let text = '';
    const done = (info: { jetstream?: boolean } | null) => {
      socket.destroy();
      resolve(info);
    };
    socket.setTimeout(2000, () => done(null));
    socket.once('error', () => done(null));
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const end = text.indexOf('\r\n');
      if (end < 0) return;
      const line = text.slice(0, end);
      try {
        done(line.startsWith('INFO ') ? JSON.parse(line.slice(5)) : null);
      } catch {
        done(null);
      }
    });
  });
}

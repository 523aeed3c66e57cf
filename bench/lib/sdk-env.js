// Node glue for running many SDK clients (packages/sdk/dist) in one process:
// - a WebSocket constructor (ws, or the lighter bench/lib/raw-ws.js) bound to a 127.0.0.x source
//   address, which also remembers the live socket per client so a benchmark can drop it
//   (terminate = an abrupt network loss);
// - a small fetch() over node:http with a bounded keep-alive pool, so thousands of clients share
//   a few dozen HTTP connections instead of one each (the server's fd limit is 20,000 here).
import http from 'node:http';
import WebSocket from 'ws';

export { rawWebSocketClass } from './raw-ws.js';

export function wsCtor(localAddress, onSocket) {
  return class BenchWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { localAddress, perMessageDeflate: false });
      onSocket?.(this);
    }
  };
}

export function poolFetch({ maxSockets = 32, localAddress } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets, localAddress });
  const fetchImpl = (url, init = {}) =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      const req = http.request(
        {
          agent,
          host: u.hostname,
          port: u.port,
          path: u.pathname + u.search,
          method: init.method ?? 'GET',
          headers: init.headers ?? {},
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              ok: res.statusCode >= 200 && res.statusCode < 300,
              status: res.statusCode,
              headers: { get: (k) => res.headers[k.toLowerCase()] ?? null },
              text: async () => text,
              json: async () => JSON.parse(text),
            });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      if (init.body) req.write(init.body);
      req.end();
    });
  fetchImpl.close = () => agent.destroy();
  return fetchImpl;
}

// deploy/nats/nats-server.conf's client TLS, with a messenger cluster on it: one nats-server run from
// the production file with its `tls {}` block kept (a throwaway CA and a certificate for 127.0.0.1),
// private Redis and PostgreSQL, two gateways and a worker (../cluster-faults/cluster.ts) that trust
// the CA only through NODE_EXTRA_CA_CERTS, as the file's comment and docs/deploy.md say. A client
// that does not trust the CA, and one that talks plain text, are refused; the messengers connect over
// TLS (the server's /connz says so for each), and a message goes from one user to another through
// them: appended by a gateway, persisted and fanned out by the worker, delivered by the other gateway.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { natsServers } from '../../src/adapters/nats/connection.js';
import { useCluster } from '../cluster-faults/cluster.js';
import { tempDir } from '../harness.js';
import { directChat, fullHistory, sendHttp, signUp, uniqueName } from '../harness/http.js';
import { RawSocket } from '../harness/socket.js';
import { freePort, MessengerProcess } from '../process.js';
import { certificates } from '../services/certificates.js';

/** What a plain-text client gets from a server that requires TLS: the INFO line, and the end of the connection. */
function plainText(port: number, connectLine: string): Promise<{ info: any; after: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = '';
    let info: any = null;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ info, after: buffer, closed: false });
    }, 5_000);
    socket.on('data', (data) => {
      buffer += data.toString('latin1');
      if (info === null && buffer.includes('\r\n')) {
        const line = buffer.slice(0, buffer.indexOf('\r\n'));
        buffer = buffer.slice(line.length + 2);
        if (!line.startsWith('INFO ')) return reject(new Error(`not an INFO line: ${line}`));
        info = JSON.parse(line.slice(5));
        socket.write(`${connectLine}\r\nPING\r\n`);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ info, after: buffer, closed: true });
    });
  });
}

describe("deploy/nats/nats-server.conf's client TLS, with a messenger cluster on it", () => {
  const tls = tempDir('nats-tls-');
  certificates(tls);
  const ca = path.join(tls, 'ca.pem');
  const cluster = useCluster('tls', { natsTls: { dir: tls }, env: { NODE_EXTRA_CA_CERTS: ca } });
  afterAll(() => fs.rmSync(tls, { recursive: true, force: true }));

  const gateway = () => natsServers(cluster.nats.urlAs('gateway'));
  const opts = { timeout: 3_000, maxReconnectAttempts: 0 };

  it('refuses a client that does not trust its CA, and one that speaks plain text', async () => {
    // This process trusts the system's CAs, not the test CA: the certificate does not verify.
    const { urls, ...auth } = gateway();
    await expect(connect({ servers: urls, ...auth, ...opts })).rejects.toThrow(
      /self[- ]signed|unable to (get|verify)|certificate/iu,
    );
    // The same client given the CA connects, over TLS: the refusal was the certificate's.
    const trusting = await connect({ servers: urls, ...auth, ...opts, tls: { caFile: ca } });
    expect(trusting.info?.tls_required).toBe(true);
    await trusting.close();

    // Plain text, credentials and all: the server announces TLS as required, and on anything but a
    // TLS handshake it closes the connection without an answer (no +OK, no PONG, no -ERR for auth).
    const plain = await plainText(
      cluster.nats.port,
      `CONNECT ${JSON.stringify({ verbose: true, user: auth.user, pass: auth.pass, protocol: 1 })}`,
    );
    expect(plain.info?.tls_required).toBe(true);
    expect(plain.closed).toBe(true);
    expect(plain.after).not.toMatch(/\+OK|PONG|-ERR/u);
    expect(cluster.nats.tail(200)).toMatch(
      /TLS handshake error: tls: first record does not look like a TLS handshake/u,
    );
  }, 30_000);

  it('runs gateways and the worker over TLS, trusting the CA through NODE_EXTRA_CA_CERTS: a message is delivered and stored', async () => {
    const [g0, g1] = cluster.gateways;
    // Every messenger's connection is encrypted, each logged in as its role.
    const connz = await cluster.nats.monitor('/connz?auth=true');
    const messengers = (connz.connections as any[]).filter((c) => String(c.name).startsWith('messenger-'));
    expect(messengers.map((c) => `${c.name} as ${c.authorized_user}`).sort()).toEqual([
      'messenger-gateway as gateway',
      'messenger-gateway as gateway',
      'messenger-persister+fanout+notifier as worker',
    ]);
    for (const c of messengers) expect(c.tls_version, JSON.stringify(c)).toMatch(/^1\.[23]$/u);

    const alice = await signUp(g0.url, uniqueName('tlsa'));
    const bob = await signUp(g1.url, uniqueName('tlsb'));
    const conversationId = await directChat(alice, bob);
    // Bob listens on the other gateway: the message crosses NATS from gateway 0 to the worker to gateway 1.
    const socket = await RawSocket.open(g1.url, bob.apiKey);
    try {
      const body = `over TLS ${uniqueName('m')}`;
      const sent = await sendHttp(alice, conversationId, body);
      const event = await socket.waitForEvent(
        'message.created',
        (e) => e.conversationId === conversationId && e.message.id === sent.id,
        15_000,
      );
      expect(event.message.body).toBe(body);
      expect((await fullHistory(bob, conversationId)).map((m) => m.body)).toEqual([body]);
    } finally {
      socket.close();
    }
    expect(cluster.crashes()).toEqual([]);
  }, 60_000);

  it('leaves a messenger that does not trust the CA unable to start', async () => {
    const dataDir = tempDir('nats-tls-untrusting-');
    const env: NodeJS.ProcessEnv = { ...cluster.env, ROLES: 'gateway', DATA_DIR: dataDir };
    delete env.NODE_EXTRA_CA_CERTS;
    const untrusting = new MessengerProcess(
      'untrusting',
      await freePort(),
      env,
      path.join(cluster.dir, 'untrusting.log'),
    );
    try {
      await expect(untrusting.start()).rejects.toThrow(/exited at start/u);
      expect(untrusting.tail(200)).toMatch(/self[- ]signed|unable to (get|verify)|certificate/iu);
    } finally {
      await untrusting.kill9();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

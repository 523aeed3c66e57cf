// deploy/nats/nats-server.conf as shipped: nats-server 2.10 accepts it (with its certificates and
// password variables in place), refuses it without them, and its users get only their role's rights.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { natsServers } from '../../src/adapters/nats/connection.js';
import { tempDir } from '../harness.js';
import { freePort } from '../process.js';
import { certificates } from '../services/certificates.js';
import { NATS_CONF, NatsService, natsEnv, natsServerBin } from '../services/nats.js';

function check(file: string, env: NodeJS.ProcessEnv): { ok: boolean; out: string } {
  const res = spawnSync(natsServerBin(), ['-t', '-c', file], { encoding: 'utf8', env });
  return { ok: res.status === 0, out: `${res.stdout}${res.stderr}` };
}

describe('deploy/nats/nats-server.conf', () => {
  it('is valid as shipped, with its certificates and passwords in place', () => {
    const dir = tempDir('nats-conf-');
    certificates(dir);
    const file = path.join(dir, 'nats-server.conf');
    fs.writeFileSync(file, fs.readFileSync(NATS_CONF, 'utf8').replaceAll('/etc/nats/tls/', `${dir}/`));
    const valid = check(file, natsEnv());
    expect(valid.out).toContain('is valid');
    expect(valid.ok).toBe(true);
    // Without the passwords in its environment the server refuses to start rather than run open.
    const bare = { ...process.env };
    delete bare.NATS_GATEWAY_PASSWORD;
    expect(check(file, bare).out).toMatch(/NATS_GATEWAY_PASSWORD/u);
  });

  it('has no user without a password, no no_auth_user, and TLS on clients and routes', () => {
    const conf = fs.readFileSync(NATS_CONF, 'utf8');
    expect(conf).not.toMatch(/^\s*no_auth_user/mu);
    for (const user of conf.matchAll(/\{\s*user:\s*(\w+)([^}\n]*)/gu)) expect(user[2]).toMatch(/password:\s*\$NATS_/u);
    expect(conf).toMatch(/^tls\s*\{/mu);
    expect(conf).toMatch(/^cluster\s*\{[\s\S]*?tls\s*\{[\s\S]*?verify:\s*true/mu);
  });
});

describe('the roles of deploy/nats/nats-server.conf on a running server', () => {
  const dir = tempDir('nats-roles-');
  let nats: NatsService;
  afterAll(async () => {
    await nats?.kill9().catch(() => {});
  });

  const as = async (user: 'gateway' | 'worker' | 'admin' | null) => {
    const { urls, ...auth } = natsServers(user ? nats.urlAs(user) : nats.url);
    return connect({ servers: urls, ...auth, timeout: 3_000, maxReconnectAttempts: 0 });
  };

  /** Whether the server refuses `user` publishing (or subscribing to) `subject`. */
  async function refused(user: 'gateway' | 'worker', op: 'pub' | 'sub', subject: string): Promise<boolean> {
    const nc = await as(user);
    let denied = false;
    void (async () => {
      for await (const s of nc.status())
        if (s.type === 'error' && /Permissions Violation/iu.test(String(s.error))) denied = true;
    })();
    if (op === 'pub') nc.publish(subject, 'x');
    else nc.subscribe(subject);
    await nc.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await nc.close();
    return denied;
  }

  it('refuses clients without credentials, and each role the subjects it does not use', async () => {
    nats = new NatsService(await freePort(), await freePort(), dir);
    await nats.start();
    await expect(as(null)).rejects.toThrow(/Authorization/iu);
    await (await as('admin')).close();
    // Gateways append to the log and read deliveries; workers do neither.
    expect(await refused('gateway', 'pub', 'log.0.c_1')).toBe(false);
    expect(await refused('worker', 'pub', 'log.0.c_1')).toBe(true);
    expect(await refused('gateway', 'sub', 'gw.s_1')).toBe(false);
    expect(await refused('worker', 'sub', 'gw.s_1')).toBe(true);
    // Nobody but the admin deletes a stream or reads the log with a plain subscription.
    expect(await refused('worker', 'pub', '$JS.API.STREAM.DELETE.LOG_0')).toBe(true);
    expect(await refused('gateway', 'pub', '$JS.API.STREAM.PURGE.LOG_0')).toBe(true);
    expect(await refused('gateway', 'sub', 'log.>')).toBe(true);
    expect(await refused('gateway', 'pub', '$JS.API.CONSUMER.DELETE.LOG_0.persister')).toBe(true);
  }, 60_000);

  it("lets a gateway answer another gateway's revocation request (allow_responses)", async () => {
    const [asker, answerer] = await Promise.all([as('gateway'), as('gateway')]);
    answerer.subscribe('revoked.t', {
      callback: (_err, msg) => {
        msg.respond();
      },
    });
    await answerer.flush();
    const answer = await asker.request('revoked.t', JSON.stringify({ credentialIds: ['k_1'] }), { timeout: 3_000 });
    expect(answer.data).toHaveLength(0);
    await Promise.all([asker.close(), answerer.close()]);
  }, 30_000);
});

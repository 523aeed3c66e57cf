// A mass disconnect in cluster mode: every socket of one gateway closes at once (its clients' process
// is killed, as a network blip or a client-side restart would do) and every user must read offline,
// with a last seen, and have no route left within 5 s, with no clean-up timing out on the way.
// Cluster only (the Redis registry under load is what is tested); no kill -9 of a server process, so
// it runs on the machine's shared services rather than a private cluster.
//
// The count: this machine allows 20,000 file descriptors per process, so one gateway cannot hold
// 20,000 sockets plus its own connections; 19,000 is the most that fits with margin. The client side
// lives in two child processes (bench/lib/idle-gen.js, raw WebSocket clients) over several 127.0.0.x
// source addresses. MASS_DISCONNECT_SOCKETS overrides the count (e.g. a quick 2,000 locally); MASS_DISCONNECT_LOG=<file>
// keeps the gateway log, MASS_DISCONNECT_PROFILE=<dir> a CPU profile. Measured on 2 shared cores:
// 19,000 sockets connect in 30-40 s and read offline 2.6 s after the close (10,000: 2.3-4.6 s).
import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisPresence } from '../src/adapters/redis/presence.js';
import { RedisRoutes } from '../src/adapters/redis/routes.js';
import { CLUSTER, clusterProcessEnv, tempDir } from './harness.js';
import { REDIS_URL } from './deployment.mjs';
import { freePort, MAIN } from './process.js';
import { sleep } from './harness/wait.js';

const SOCKETS = Number(process.env.MASS_DISCONNECT_SOCKETS ?? 19_000);
const GENERATORS = 2;

type Generator = {
  proc: ChildProcess;
  request(msg: object, reply: string, timeoutMs?: number): Promise<Record<string, unknown>>;
};

async function generator(): Promise<Generator> {
  const { spawnChild } = (await import(new URL('../../../bench/lib/fleet-ctl.js', import.meta.url).href)) as {
    spawnChild(script: URL, opts: { name: string }): Generator;
  };
  return spawnChild(new URL('../../../bench/lib/idle-gen.js', import.meta.url), { name: 'mass-disconnect clients' });
}

describe.runIf(CLUSTER)('mass disconnect (cluster)', () => {
  const dataDir = tempDir('mass-disconnect-');
  const env = clusterProcessEnv(dataDir);
  let gateway: ChildProcess | null = null;
  let log = '';
  const gens: Generator[] = [];
  afterAll(async () => {
    for (const g of gens) g.proc.kill('SIGKILL');
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway!.once('exit', resolve));
      gateway.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      gateway.kill('SIGKILL');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it(`takes ${SOCKETS} sockets closing at once offline, with last seen and no route, within 5 s`, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const profile = process.env.MASS_DISCONNECT_PROFILE;
    gateway = spawn(process.execPath, [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), MAIN], {
      env: {
        PATH: process.env.PATH,
        ...env,
        ROLES: 'gateway',
        DATA_DIR: path.join(dataDir, 'gateway'),
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        WEB_DIR: '',
        RATE_LIMIT_MESSAGES: '0',
        RATE_LIMIT_SIGNUPS: '0',
        MAX_UNAUTHENTICATED_SOCKETS_PER_IP: '0',
        MAX_SOCKETS_PER_USER: '0',
        RATE_LIMIT_FRAMES: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout!.on('data', (d) => (log += d));
    gateway.stderr!.on('data', (d) => (log += d));
    for (let ready = false; !ready; await sleep(100)) {
      if (gateway.exitCode !== null) throw new Error(`gateway exited: ${log}`);
      ready = await fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
    }

    // The gateway migrated the schema: users and their API keys go straight into it.
    const { seedPostgres } = (await import(new URL('../../../bench/lib/seed.js', import.meta.url).href)) as {
      seedPostgres(env: object, opts: { users: number }): Promise<{ users: { id: string; apiKey: string }[] }>;
    };
    const { users } = await seedPostgres(env, { users: SOCKETS });
    const sources = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}`);
    for (let g = 0; g < GENERATORS; g++) {
      const gen = await generator();
      gens.push(gen);
      await gen.request({ type: 'init', url, users: users.filter((_, i) => i % GENERATORS === g), sources }, 'inited');
    }
    const t0 = Date.now();
    const connected = await Promise.all(gens.map((g) => g.request({ type: 'connect', concurrency: 100 }, 'connected')));
    expect(connected.reduce((a, r) => a + (r.ok as number), 0)).toBe(SOCKETS);
    const connectS = (Date.now() - t0) / 1000;

    const userIds = users.map((u) => u.id);
    // The test's own reads: no command timeout (19,000 users' reads are not what is measured), in slices.
    const client = new Redis(REDIS_URL);
    const presence = new RedisPresence({ url: REDIS_URL, client, keyPrefix: env.REDIS_KEY_PREFIX });
    const routes = new RedisRoutes({ url: REDIS_URL, client, keyPrefix: env.REDIS_KEY_PREFIX });
    const read = async () => {
      const infos = [];
      let routed = 0;
      for (let i = 0; i < userIds.length; i += 2000) {
        const slice = userIds.slice(i, i + 2000);
        const [p, r] = await Promise.all([presence.get(slice), routes.lookup(slice)]);
        infos.push(...p.values());
        routed += r.size;
      }
      return { infos, routed };
    };
    try {
      const before = (await read()).infos;
      expect(before.filter((p) => p.status === 'online').length).toBe(SOCKETS);

      // Every client socket closes in the same instant: the kernel closes them with their process.
      const closedAt = Date.now();
      for (const g of gens) g.proc.kill('SIGKILL');
      // Polled cheaply (a full read of 19,000 users takes seconds on a busy machine): the adapters'
      // keys, counted by EXISTS in one command each. A user's devices and routes keys go when its last
      // device and route do; its seen key is written then. The full read below checks the outcome.
      const p = env.REDIS_KEY_PREFIX;
      const count = (keys: string[]) => client.exists(...keys);
      const devicesKeys = userIds.map((u) => `${p}presence:{${u}}:devices`);
      const routesKeys = userIds.map((u) => `${p}routes:{${u}}`);
      const seenKeys = userIds.map((u) => `${p}presence:{${u}}:seen`);
      let pending = { devices: SOCKETS, routes: SOCKETS, unseen: SOCKETS };
      while (Date.now() - closedAt < 10_000) {
        const [devices, routed, seen] = await Promise.all([count(devicesKeys), count(routesKeys), count(seenKeys)]);
        pending = { devices, routes: routed, unseen: SOCKETS - seen };
        if (devices + routed + SOCKETS - seen === 0) break;
        await sleep(50);
      }
      const cleanS = (Date.now() - closedAt) / 1000;
      expect(pending).toEqual({ devices: 0, routes: 0, unseen: 0 });
      const { infos, routed } = await read();
      const left = {
        online: infos.filter((i) => i.status !== 'offline').length,
        withoutLastSeen: infos.filter((i) => i.lastSeenAt === null).length,
        routed,
      };
      if (process.env.MASS_DISCONNECT_LOG) fs.writeFileSync(process.env.MASS_DISCONNECT_LOG, log);
      console.log(
        `mass disconnect: ${SOCKETS} sockets connected in ${connectS.toFixed(1)} s, all offline in ${cleanS.toFixed(2)} s`,
      );
      expect(left).toEqual({ online: 0, withoutLastSeen: 0, routed: 0 });
      expect(cleanS).toBeLessThan(5);
      expect(log).not.toMatch(/timed out|cleaning up/i);
    } finally {
      client.disconnect();
    }
  }, 180_000);
});

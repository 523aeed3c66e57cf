// RedisPresence and RedisRoutes against the Redis at REDIS_TEST_URL (127.0.0.1:6379), each test under its own key prefix.
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { presenceContract } from '../../core/presence/presence.contract.js';
import { routesContract } from '../../core/routing/routes.contract.js';
import { PresenceService } from '../../core/presence/presence-service.js';
import { Deliverer } from '../../core/routing/delivery.js';
import type { Delivery } from '../../core/routing/gateway-bus.js';
import type { Conversations } from '../../core/conversations/conversations.js';
import { AppError } from '../../domain/errors.js';
import { MemoryGatewayBus } from '../memory/gateway-bus.js';
import { MemoryRoutes } from '../memory/routes.js';
import { RedisPresence } from './presence.js';
import { RedisRoutes } from './routes.js';
import { MemoryBlocks } from '../memory/blocks.js';
import { Reach } from '../../core/safety/reach.js';

const URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const root = `test:${Math.random().toString(36).slice(2, 10)}:`;
const keyPrefix = () => `${root}${Math.random().toString(36).slice(2, 8)}:`;

/** A fresh key prefix, and a client that sends the commands issued in one turn as one pipeline. */
const pipelined = () => ({ prefix: keyPrefix(), redis: new Redis(URL, { enableAutoPipelining: true }) });

/** Counts what a connected client sends from now on: commands (not script loads) and socket writes. */
function traffic(redis: Redis): { commands: Map<string, number>; total: () => number; writes: number } {
  const counter = {
    commands: new Map<string, number>(),
    total: () => [...counter.commands.values()].reduce((a, b) => a + b, 0),
    writes: 0,
  };
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    if (command.name !== 'script') counter.commands.set(command.name, (counter.commands.get(command.name) ?? 0) + 1);
    return (send as (...a: unknown[]) => unknown)(command, ...rest);
  }) as typeof redis.sendCommand;
  const stream = (redis as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream;
  const write = stream.write.bind(stream);
  stream.write = (...a: unknown[]) => (counter.writes++, write(...a));
  return counter;
}

afterAll(async () => {
  const redis = new Redis(URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${root}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
});

presenceContract('RedisPresence', async () => new RedisPresence({ url: URL, keyPrefix: keyPrefix() }));
routesContract('RedisRoutes', async () => new RedisRoutes({ url: URL, keyPrefix: keyPrefix() }));

describe('Redis adapters beyond the contract', () => {
  it('drops the routes of a gateway whose liveness expired', async () => {
    const routes = new RedisRoutes({ url: URL, keyPrefix: keyPrefix() });
    await routes.markGatewayAlive('g_dead', 200);
    await routes.markGatewayAlive('g_live', 10_000);
    await routes.add('u_1', 'g_dead', 60_000);
    await routes.add('u_1', 'g_live', 60_000);
    await routes.add('u_2', 'g_dead', 60_000);
    expect((await routes.lookup(['u_1'])).get('u_1')!.sort()).toEqual(['g_dead', 'g_live']);
    await new Promise((r) => setTimeout(r, 300));
    const found = await routes.lookup(['u_1', 'u_2']);
    expect(found.get('u_1')).toEqual(['g_live']);
    expect(found.has('u_2')).toBe(false);
    await routes.markGatewayAlive('g_live', 0); // clean shutdown
    expect((await routes.lookup(['u_1'])).has('u_1')).toBe(false);
    await routes.close();
  });

  it('keeps the latest expiry as last seen across devices, in one batch for many users', async () => {
    const presence = new RedisPresence({ url: URL, keyPrefix: keyPrefix() });
    await presence.setDevice('u_1', 'd1', 'online', 100);
    await presence.setDevice('u_1', 'd2', 'away', 250);
    await presence.setDevice('u_2', 'd1', 'online', 10_000);
    const before = Date.now();
    await new Promise((r) => setTimeout(r, 400));
    const found = await presence.get(['u_1', 'u_2', 'u_3']);
    const seen = Date.parse(found.get('u_1')!.lastSeenAt!);
    expect(found.get('u_1')!.status).toBe('offline');
    expect(seen).toBeGreaterThan(before); // d2's expiry, not d1's
    expect(found.get('u_2')).toEqual({ status: 'online', lastSeenAt: null });
    expect(found.get('u_3')).toEqual({ status: 'offline', lastSeenAt: null });
    await presence.close();
  });

  it('sends the route and device registrations of one turn as one write, with the expiries of before', async () => {
    const prefix = keyPrefix();
    const routes = new RedisRoutes({ url: URL, keyPrefix: prefix });
    const presence = new RedisPresence({ url: URL, keyPrefix: prefix, lastSeenRetentionMs: 60_000 });
    await routes.add('u_warm', 'g_1', 1000); // connected, script loaded
    await presence.setDevice('u_warm', 'd1', 'online', 1000);
    const writes = (adapter: object) => {
      const stream = (adapter as unknown as { redis: { stream: { write: (...a: unknown[]) => boolean } } }).redis
        .stream;
      const write = stream.write.bind(stream);
      const counter = { n: 0 };
      stream.write = (...a: unknown[]) => (counter.n++, write(...a));
      return counter;
    };
    const routeWrites = writes(routes);
    const deviceWrites = writes(presence);
    const users = Array.from({ length: 500 }, (_, i) => `u_${i}`);
    // A heartbeat slice or a connect wave: many registrations issued in one turn.
    await Promise.all(users.map((u) => routes.add(u, 'g_1', 30_000)));
    await Promise.all(users.map((u) => presence.setDevice(u, 'd1', 'online', 30_000)));
    expect(routeWrites.n).toBeLessThanOrEqual(2);
    expect(deviceWrites.n).toBeLessThanOrEqual(2);
    const found = await routes.lookup(users);
    expect(found.size).toBe(500);
    expect(found.get('u_499')).toEqual(['g_1']);
    expect((await presence.get(['u_0'])).get('u_0')).toEqual({ status: 'online', lastSeenAt: null });
    // Expiries as the MULTI blocks set them: set when absent, only ever extended.
    const redis = new Redis(URL);
    const routeKey = `${prefix}routes:{u_0}`;
    const pttl = await redis.pttl(routeKey);
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
    await routes.add('u_0', 'g_2', 5_000);
    expect(await redis.pttl(routeKey)).toBeGreaterThan(25_000); // not shortened
    await routes.add('u_0', 'g_2', 90_000);
    expect(await redis.pttl(routeKey)).toBeGreaterThan(85_000); // extended
    for (const key of [`${prefix}presence:{u_0}:devices`, `${prefix}presence:{u_0}:status`]) {
      const keep = await redis.pttl(key);
      expect(keep).toBeGreaterThan(85_000); // ttl + retention
      expect(keep).toBeLessThanOrEqual(90_000);
    }
    await presence.setDevice('u_0', 'd2', 'away', 1_000);
    expect(await redis.pttl(`${prefix}presence:{u_0}:devices`)).toBeGreaterThan(85_000); // not shortened
    expect(await redis.hgetall(`${prefix}presence:{u_0}:status`)).toEqual({ d1: 'online', d2: 'away' });
    await redis.quit();
    await routes.close();
    await presence.close();
  });

  it('refreshes a heartbeat slice of 500 routes and 500 devices with one command each, sent in one write', async () => {
    const { prefix, redis } = pipelined();
    const routes = new RedisRoutes({ url: URL, client: redis, keyPrefix: prefix });
    const presence = new RedisPresence({ url: URL, client: redis, keyPrefix: prefix, lastSeenRetentionMs: 60_000 });
    await Promise.all([routes.add('u_warm', 'g_1', 1000), presence.setDevice('u_warm', 'd1', 'online', 1000)]); // scripts loaded
    const users = Array.from({ length: 500 }, (_, i) => `u_${i}`);
    const sent = traffic(redis);
    // What the gateway's heartbeat does per slice.
    await Promise.all([
      routes.addMany(users, 'g_1', 30_000),
      presence.setDevices(
        users.map((u, i) => ({ userId: u, deviceId: 'd1', status: i % 2 ? 'away' : 'online' })),
        30_000,
      ),
    ]);
    expect(sent.total()).toBe(2); // was 1,000: one script call per route and per device
    expect(sent.writes).toBe(1);
    expect((await routes.lookup(users)).size).toBe(500);
    const found = await presence.get(['u_0', 'u_499']);
    expect(found.get('u_0')).toEqual({ status: 'online', lastSeenAt: null });
    expect(found.get('u_499')).toEqual({ status: 'away', lastSeenAt: null });
    const check = new Redis(URL);
    expect(await check.pttl(`${prefix}routes:{u_250}`)).toBeGreaterThan(25_000);
    expect(await check.pttl(`${prefix}presence:{u_250}:status`)).toBeGreaterThan(85_000); // ttl + retention
    await check.quit();
    await redis.quit();
  });

  it('announces a connect wave with one command per user for the device and one for all the status reads and claims', async () => {
    const { prefix, redis } = pipelined();
    const presence = new RedisPresence({ url: URL, client: redis, keyPrefix: prefix });
    const bus = new MemoryGatewayBus();
    const routes = new MemoryRoutes();
    const delivered: Delivery[] = [];
    await bus.subscribe(
      'g_1',
      (delivery) => delivered.push(delivery),
      () => undefined,
    );
    await routes.add('u_watcher', 'g_1', 60_000);
    // Every connecting user shares a chat with u_watcher; u_3 hides its presence.
    const service = new PresenceService({
      presence,
      presenceVisibility: {
        setPresenceVisible: async () => undefined,
        hiddenPresence: async (ids: string[]) => new Set(ids.filter((id) => id === 'u_3')),
      },
      conversationStore: {
        contacts: async () => ['u_watcher'],
        memberIds: async () => [],
      },
      deliverer: new Deliverer({ routes, bus }),
      conversations: {} as Conversations,
      reach: new Reach({ blocks: new MemoryBlocks(), conversationStore: { contacts: async () => ['u_watcher'] } }),
      coalesceMs: 20,
    });
    await presence.setDevice('u_warm', 'd1', 'online', 1000);
    await presence.claimAnnouncements(['u_warm']); // scripts loaded
    const users = Array.from({ length: 200 }, (_, i) => `u_${i}`);
    const sent = traffic(redis);
    await Promise.all(users.map((u) => service.deviceUp(u, 'd1', 'online', 30_000)));
    const events = () => delivered.flatMap((d) => (d.event.type === 'presence' ? [d.event] : []));
    for (let waited = 0; events().length < 199 && waited < 5_000; waited += 20)
      await new Promise((r) => setTimeout(r, 20));
    expect(events()).toHaveLength(199);
    expect(events().every((e) => e.status === 'online' && e.lastSeenAt === null)).toBe(true);
    // Was 6 per user (the device, then 4 status reads and a claim), then 2 (the device, then one
    // script for the read and the claim); now the 200 announcements are claimed in one call.
    expect(sent.total()).toBe(200 + 1);
    // A second device of the same user changes nothing to announce.
    await service.deviceUp('u_0', 'd2', 'online', 30_000);
    await new Promise((r) => setTimeout(r, 150));
    expect(events()).toHaveLength(199);
    service.close();
    await redis.quit();
  });

  it('looks routes up with one read-only script call per 1,000 users, sent together, and prunes expired members when adding', async () => {
    const { prefix, redis } = pipelined();
    const routes = new RedisRoutes({ url: URL, client: redis, keyPrefix: prefix });
    const users = Array.from({ length: 100 }, (_, i) => `u_${i}`);
    await routes.addMany(users, 'g_1', 30_000);
    await routes.markGatewayAlive('g_1', 30_000);
    await routes.lookup(['u_0']); // Redis has the script from here on (the first call may send its text)
    const sent = traffic(redis);
    // What a delivery to 100 users asks (fan-out, a presence announcement to 100 contacts).
    expect((await routes.lookup(users)).size).toBe(100);
    expect(Object.fromEntries(sent.commands)).toEqual({ evalsha: 1 }); // was 100 ZRANGE and a ZMSCORE; before that, 100 ZREMRANGEBYSCORE (writes) more
    const many = Array.from({ length: 2500 }, (_, i) => `v_${i}`);
    await routes.addMany(many.slice(0, 1), 'g_1', 30_000);
    await routes.addMany(many, 'g_2', 30_000);
    const calls = sent.commands.get('evalsha')!;
    const found = await routes.lookup(many);
    expect(sent.commands.get('evalsha')! - calls).toBe(3);
    expect(found.size).toBe(2500);
    expect(found.get('v_0')!.sort()).toEqual(['g_1', 'g_2']);
    expect(found.get('v_2499')).toEqual(['g_2']);
    const check = new Redis(URL);
    await check.zadd(`${prefix}routes:{u_0}`, Date.now() - 1000, 'g_gone');
    expect(await check.zcard(`${prefix}routes:{u_0}`)).toBe(2);
    expect((await routes.lookup(['u_0'])).get('u_0')).toEqual(['g_1']);
    await routes.add('u_0', 'g_1', 30_000); // a heartbeat's refresh
    expect(await check.zrange(`${prefix}routes:{u_0}`, '0', '-1')).toEqual(['g_1']);
    await check.quit();
    await redis.quit();
  });

  it('fails with unavailable, quickly, when Redis cannot be reached', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const presence = new RedisPresence({ url: `redis://127.0.0.1:${port}` });
    const started = Date.now();
    const error = await presence.get(['u_1']).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(5_000);
    await presence.close();
  });
});

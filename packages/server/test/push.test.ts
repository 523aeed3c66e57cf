// Web Push over the real wire: the built server runs as a child process and pushes to a local
// HTTPS push service (self-signed, trusted through NODE_EXTRA_CA_CERTS) that checks the VAPID JWT
// and decrypts every aes128gcm payload with the keys a browser would hold.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLUSTER,
  clusterProcessEnv,
  createGroup,
  directChat,
  expectError,
  RawSocket,
  sendHttp,
  signUp,
  sleep,
  tempDir,
  type TestUser,
} from './harness.js';
import { Browser, checkVapid, PushService } from './push-service.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(ROOT, 'packages/server/dist/main.js');

/** The built server as its own process, so NODE_EXTRA_CA_CERTS applies to its TLS. */
class ServerProcess {
  output = '';
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(env: Record<string, string>): Promise<ServerProcess> {
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        RATE_LIMIT_MESSAGES: '0',
        RATE_LIMIT_SIGNUPS: '0',
        LOG_LEVEL: 'warn',
        WEB_DIR: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 15_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const found = /Messenger is running at (http:\/\/\S+)/.exec(output);
        if (found) {
          clearTimeout(timer);
          resolve(found[1]!);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${output}`)));
    });
    const server = new ServerProcess(child, url);
    server.output = output;
    const append = (chunk: Buffer) => (server.output += chunk.toString());
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    return server;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000).then(() => this.child.kill('SIGKILL'))]);
    await exited;
  }
}

// In cluster mode the process runs every role on a deployment of its own: the notifier is then the
// cluster's (a JetStream consumer, routes in Redis, subscriptions in PostgreSQL).
describe('Web Push notifications', () => {
  let service: PushService;
  let server: ServerProcess;
  let env: Record<string, string>;
  let publicKey: string;
  let alice: TestUser;

  beforeAll(async () => {
    const dir = tempDir('push-test-');
    const [keyFile, certFile] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    service = await PushService.start({
      key: fs.readFileSync(keyFile, 'utf8'),
      cert: fs.readFileSync(certFile, 'utf8'),
    });
    // A fixed port, so the users' clients still reach the server after it restarts.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    env = {
      PORT: String(port),
      DATA_DIR: path.join(dir, 'data'),
      PUSH_ALLOWED_ORIGINS: service.origin,
      NODE_EXTRA_CA_CERTS: certFile,
      ...(CLUSTER ? clusterProcessEnv(dir) : {}),
    };
    server = await ServerProcess.start(env);
    // The mode under test is the one the process runs (its readiness lists its backing services).
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { checks: Record<string, string> };
    expect(Object.keys(ready.checks).sort()).toEqual(CLUSTER ? ['blobs', 'nats', 'postgres', 'redis'] : ['sqlite']);
    alice = await signUp(server.url, undefined, 'Alice Liddell');
    publicKey = (await alice.call('GET', '/v1/push/vapid-public-key')).body.publicKey;
  });

  afterAll(async () => {
    await server?.stop();
    await service?.close();
  });

  /** A user with one subscribed browser and a direct chat with alice. */
  async function subscriber(answers: { status: number; headers?: Record<string, string> }[] = []) {
    const user = await signUp(server.url);
    const browser = new Browser(service);
    service.script(browser.path, ...answers);
    expect((await user.call('POST', '/v1/push/subscriptions', browser.json())).status).toBe(201);
    return { user, browser, conversationId: await directChat(alice, user) };
  }

  /**
   * The notifier handles the log in order: once a later push arrived, earlier messages were
   * decided. A short settle covers sends of the same batch still in flight.
   */
  async function drained(): Promise<void> {
    const probe = await subscriber();
    await sendHttp(alice, probe.conversationId, 'probe');
    await service.waitFor(probe.browser.path, 1);
    await sleep(300);
  }

  it('publishes a VAPID key and accepts only https endpoints of allowed push services', async () => {
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    expectError(
      await signUp(server.url).then((u) =>
        u.call('GET', '/v1/push/vapid-public-key', undefined, { authorization: 'Bearer nope' }),
      ),
      401,
      'unauthenticated',
    );
    const browser = new Browser(service);
    const body = browser.json();
    const elsewhere = new URL(service.origin);
    elsewhere.port = String(Number(elsewhere.port) === 65535 ? 1 : Number(elsewhere.port) + 1);
    for (const endpoint of [
      body.endpoint.replace('https:', 'http:'),
      'https://evil.example.com/push/1',
      `${elsewhere.origin}/push/1`,
      `https://user:pw@${body.endpoint.slice('https://'.length)}`,
    ]) {
      expectError(await alice.call('POST', '/v1/push/subscriptions', { ...body, endpoint }), 400, 'invalid_request');
    }
    expectError(
      await alice.call('POST', '/v1/push/subscriptions', { ...body, keys: { ...body.keys, p256dh: 'AAAA' } }),
      400,
      'invalid_request',
    );
    expectError(
      await alice.call('POST', '/v1/push/subscriptions', { ...body, keys: { ...body.keys, auth: 'AAAA' } }),
      400,
      'invalid_request',
    );
    expectError(
      await alice.call('POST', '/v1/push/subscriptions', { endpoint: body.endpoint }),
      400,
      'invalid_request',
    );
    expectError(
      await signUp(server.url).then((u) =>
        u.call('POST', '/v1/push/subscriptions', body, { authorization: 'Bearer nope' }),
      ),
      401,
      'unauthenticated',
    );
  });

  it('sends an offline member exactly one decryptable push per message, and none to the sender', async () => {
    const aliceBrowser = new Browser(service);
    expect((await alice.call('POST', '/v1/push/subscriptions', aliceBrowser.json())).status).toBe(201);
    // Subscribing again with the same endpoint is an upsert, not a second subscription.
    expect((await alice.call('POST', '/v1/push/subscriptions', aliceBrowser.json())).status).toBe(201);
    const { user: bob, browser, conversationId } = await subscriber();

    const first = await sendHttp(alice, conversationId, 'Hello Bob, are you there?');
    const [push] = await service.waitFor(browser.path, 1);
    checkVapid(push!, publicKey, service.origin);
    expect(push!.headers.ttl).toBe('86400');
    expect(push!.headers.urgency).toBe('high');
    expect(push!.headers.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(browser.decrypt(push!)).toEqual({
      type: 'message',
      conversationId,
      messageId: first.id,
      senderName: 'Alice Liddell',
      preview: 'Hello Bob, are you there?',
      unreadTotal: 1,
    });

    const long = 'x'.repeat(500);
    const second = await sendHttp(alice, conversationId, long);
    const pushes = await service.waitFor(browser.path, 2);
    const payload = browser.decrypt(pushes[1]!);
    expect(payload).toMatchObject({ messageId: second.id, unreadTotal: 2 });
    expect(payload.preview.length).toBeLessThanOrEqual(121);
    expect(long.startsWith(payload.preview.slice(0, -1))).toBe(true);
    expect(pushes[1]!.headers.topic).toBe(push!.headers.topic);

    // In a group the push is not urgent, has the group's own topic, and bob's total after reading.
    await bob.call('POST', `/v1/conversations/${conversationId}/read`, { seq: second.seq });
    const group = await createGroup(alice, [bob], 'team');
    await sendHttp(alice, group, 'to the team');
    const [, , inGroup] = await service.waitFor(browser.path, 3);
    expect(inGroup!.headers.urgency).toBe('normal');
    expect(inGroup!.headers.topic).not.toBe(push!.headers.topic);
    expect(browser.decrypt(inGroup!)).toMatchObject({ conversationId: group, preview: 'to the team', unreadTotal: 1 });
    await drained();
    expect(service.to(browser.path)).toHaveLength(3);
    expect(service.to(aliceBrowser.path)).toHaveLength(0);
  });

  it('sends nothing to a member with a connected device or to one who muted the chat', async () => {
    const online = await subscriber();
    const socket = await RawSocket.open(server.url, online.user.apiKey);
    const muted = await subscriber();
    const mute = await muted.user.call('PUT', `/v1/conversations/${muted.conversationId}/settings`, { muted: true });
    expect(mute.status).toBe(200);
    await sendHttp(alice, online.conversationId, 'you are online');
    await socket.waitForEvent('message.created');
    await sendHttp(alice, muted.conversationId, 'you muted me');
    await drained();
    expect(service.to(online.browser.path)).toHaveLength(0);
    expect(service.to(muted.browser.path)).toHaveLength(0);

    // Once the device is gone, the same member is offline again and gets the push.
    await socket.closeAndWait();
    await sleep(100);
    await sendHttp(alice, online.conversationId, 'now you are not');
    const [push] = await service.waitFor(online.browser.path, 1);
    expect(online.browser.decrypt(push!)).toMatchObject({ preview: 'now you are not' });
  });

  it('deletes a subscription the push service calls gone (410), and one the user removes', async () => {
    const gone = await subscriber([{ status: 410 }]);
    await sendHttp(alice, gone.conversationId, 'one');
    await service.waitFor(gone.browser.path, 1);
    await sleep(200);
    await sendHttp(alice, gone.conversationId, 'two');
    await drained();
    expect(service.to(gone.browser.path)).toHaveLength(1);

    const leaving = await subscriber();
    const del = await leaving.user.call(
      'DELETE',
      `/v1/push/subscriptions?endpoint=${encodeURIComponent(leaving.browser.endpoint)}`,
    );
    expect(del.status).toBe(204);
    await sendHttp(alice, leaving.conversationId, 'hello?');
    await drained();
    expect(service.to(leaving.browser.path)).toHaveLength(0);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/messenger_push_notifications_total\{outcome="gone"\} [1-9]/);
    expect(metrics).toMatch(/messenger_push_notifications_total\{outcome="sent"\} [1-9]/);
  });

  it('retries after 429 no sooner than Retry-After says', async () => {
    const busy = await subscriber([{ status: 429, headers: { 'retry-after': '1' } }]);
    const sent = await sendHttp(alice, busy.conversationId, 'try again');
    const [first, second] = await service.waitFor(busy.browser.path, 2, 6000);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(busy.browser.decrypt(second!)).toMatchObject({ messageId: sent.id, preview: 'try again' });
    await sleep(300);
    expect(service.to(busy.browser.path)).toHaveLength(2);
  });

  it('resumes from its log offset after a restart: nothing finished is resent, nothing missed is lost', async () => {
    const pending = await subscriber();
    await sendHttp(alice, pending.conversationId, 'before restart');
    await service.waitFor(pending.browser.path, 1);
    await drained();
    const before = service.requests.length;

    // Down for a while (a process without the notifier role keeps taking messages)...
    await server.stop();
    server = await ServerProcess.start({ ...env, ROLES: 'gateway,persister,fanout' });
    const missed = await sendHttp(alice, pending.conversationId, 'while the notifier was down');
    const deleted = await sendHttp(alice, pending.conversationId, 'deleted before its push went out');
    expect(
      (await alice.call('DELETE', `/v1/conversations/${pending.conversationId}/messages/${deleted.id}?for=everyone`))
        .status,
    ).toBe(204);
    await sleep(500);
    expect(service.requests.length).toBe(before);

    // ...then back: exactly the missed pushes go out, signed with the same, kept VAPID key; the
    // deleted message's push carries no text.
    await server.stop();
    server = await ServerProcess.start(env);
    // In cluster mode the deleted message's record is erased from JetStream once the store applied
    // the deletion, so the resumed notifier never sees it and sends it no push at all.
    const erased = CLUSTER ? 1 : 0;
    const pushes = (await service.waitFor(pending.browser.path, 3 - erased)).slice(1);
    for (const push of pushes) checkVapid(push, publicKey, service.origin);
    const payloads = pushes.map((p) => pending.browser.decrypt(p));
    expect(payloads.find((p) => p.messageId === missed.id)).toMatchObject({
      preview: 'while the notifier was down',
      unreadTotal: 2,
    });
    const withoutText = payloads.find((p) => p.messageId === deleted.id);
    if (CLUSTER) expect(withoutText).toBeUndefined();
    else {
      expect(withoutText).toMatchObject({ unreadTotal: 2, senderName: 'Alice Liddell' });
      expect(withoutText).not.toHaveProperty('preview');
    }
    await sleep(1000);
    expect(service.requests.length).toBe(before + 2 - erased);
    expect((await alice.call('GET', '/v1/push/vapid-public-key')).body.publicKey).toBe(publicKey);

    await sendHttp(alice, pending.conversationId, 'after restart');
    const after = (await service.waitFor(pending.browser.path, 4 - erased))[3 - erased]!;
    expect(pending.browser.decrypt(after)).toMatchObject({ preview: 'after restart', unreadTotal: 3 });
    await sleep(300);
    expect(service.requests.length).toBe(before + 3 - erased);
  });
});

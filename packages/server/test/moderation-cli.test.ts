// Operator commands from a shell: suspend and restore a user, list reports. In cluster mode the
// user's sockets close at once on every gateway (the revocation goes over NATS); in embedded mode
// within the running server's credential re-check. runModeration is called with the test server's
// own settings, as `npm run admin -- ...` would be. Both modes.
import { CLOSE_CODES } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import { runModeration } from '../src/ops/moderation-cli.js';
import {
  directChat,
  expectError,
  http,
  RawSocket,
  sendHttp,
  serverForFile,
  signUpMany,
  signUpWithPassword,
  uniqueName,
} from './harness.js';

const server = serverForFile();

async function moderation(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runModeration(server.config, args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('moderation from a shell', () => {
  it('suspend: tokens 401, sockets closed on every gateway, sign-in 403; unsuspend restores sign-in', async () => {
    const password = 'correct horse battery';
    const name = uniqueName('shell');
    const { apiKey: token } = await signUpWithPassword(server.url, password, name);
    const sockets = await Promise.all(server.urls.map((url) => RawSocket.open(url, token)));

    const started = Date.now();
    const suspended = await moderation('users', 'suspend', name, '--reason', 'spam');
    expect(suspended).toMatchObject({ code: 0, err: [] });
    expect(suspended.out[0]).toContain(`suspended ${name}`);
    // Cluster: at once, through the revocation. Embedded: the cache entry ages out and the
    // periodic re-check of open sockets finds the credential refused.
    for (const socket of sockets) expect(await socket.waitClosed(10_000)).toBe(CLOSE_CODES.unauthenticated);
    if (server.urls.length > 1) expect(Date.now() - started).toBeLessThan(3_000);
    for (const url of server.urls) expectError(await http(url, token)('GET', '/v1/me'), 401, 'unauthenticated');
    expectError(await http(server.url)('POST', '/v1/sessions', { username: name, password }), 403, 'forbidden');

    expect(await moderation('users', 'unsuspend', name)).toMatchObject({ code: 0 });
    expect((await http(server.url)('POST', '/v1/sessions', { username: name, password })).status).toBe(201);
    expect((await moderation('users', 'unsuspend', name)).out[0]).toContain('was not suspended');
  });

  it('reports: the newest, one JSON object a line, oldest of them first', async () => {
    const [ann, bob] = await signUpMany(server, 2);
    const chat = await directChat(bob, ann);
    const m = await sendHttp(bob, chat, 'report me');
    for (const reason of ['first', 'second']) {
      const res = await ann.call('POST', '/v1/reports', { conversationId: chat, messageId: m.id, reason });
      expect(res.status).toBe(201);
    }
    const { code, out } = await moderation('reports', '--limit', '2');
    expect(code).toBe(0);
    const reports = out.map((l) => JSON.parse(l));
    expect(reports.map((r) => r.reason)).toEqual(['first', 'second']);
    expect(reports[1]).toMatchObject({ reporterId: ann.id, userId: bob.id, message: { body: 'report me' } });
  });

  it('answers usage errors with 64 and an unknown user with 1, changing nothing', async () => {
    for (const args of [[], ['users', 'suspend', 'someone'], ['users', 'suspend'], ['reports', '--limit', 'x']]) {
      const { code, err } = await moderation(...args);
      expect(code).toBe(64);
      expect(err[0]).toContain('usage');
    }
    expect(await moderation('users', 'suspend', uniqueName('ghost'), '--reason', 'x')).toMatchObject({ code: 1 });
  });
});

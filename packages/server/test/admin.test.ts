// The operator's shell commands (npm run admin -- ...) against a running deployment, in both modes:
// doctor says what is fine and what is not, stats counts, and an operator can create an account and
// reset a password without any operator account, the old sessions ending with it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CLUSTER,
  clusterProcessEnv,
  eventually,
  http,
  RawSocket,
  serverForFile,
  signUp,
  type TestServer,
  uniqueName,
  waitFor,
} from './harness.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function admin(
  server: TestServer,
  args: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH,
    DATA_DIR: server.dataDir,
    ...(CLUSTER ? clusterProcessEnv(server.dataDir) : {}),
  };
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, 'admin', ...args], { env }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}

describe('npm run admin', () => {
  const server = serverForFile();

  it('doctor checks the settings, the services and every running process', async () => {
    const urls = server.processUrls.flatMap((u) => ['--url', u]);
    const good = await admin(server, ['doctor', ...urls]);
    expect(good.stdout).toMatch(/^ok\s+settings: (embedded|cluster) mode/m);
    if (CLUSTER) {
      expect(good.stdout).toMatch(/^ok\s+PostgreSQL: reachable, migrations (\d+) of \1/m);
      expect(good.stdout).toMatch(/^ok\s+NATS JetStream: reachable/m);
      expect(good.stdout).toMatch(/^ok\s+Redis: reachable/m);
    } else expect(good.stdout).toMatch(/^ok\s+SQLite migrations: schema \d+, all applied/m);
    // Each process answers; this container's 20,000 descriptors are worth a warning, not a failure.
    for (const url of server.processUrls)
      expect(good.stdout.split('\n')).toContainEqual(
        expect.stringMatching(new RegExp(`^(ok|warn)\\s+process ${url}: `)),
      );
    expect(good.stdout).not.toMatch(/^FAIL/m);
    expect(good.code).toBe(0);

    const bad = await admin(server, ['doctor', '--url', 'http://127.0.0.1:9']);
    expect(bad.stdout).toMatch(/^FAIL\s+process http:\/\/127\.0\.0\.1:9: .*does not answer/m);
    expect(bad.code).toBe(1);
  });

  it('stats counts users, conversations, messages and live sockets', async () => {
    const ann = await signUp(server.url);
    const socket = await RawSocket.open(server.urls[0]!, ann.apiKey);
    try {
      const out = await eventually(async () => {
        const r = await admin(server, ['stats', '--url', server.urls[0]!]);
        expect(r.stdout).toMatch(/live sockets/);
        expect(Number(/^users\s+(\d+)/m.exec(r.stdout)?.[1])).toBeGreaterThanOrEqual(1);
        expect(r.stdout).toMatch(/: [1-9]\d* live sockets/);
        return r;
      });
      expect(out.code).toBe(0);
    } finally {
      socket.close();
    }
  });

  it('creates an account and resets its password; the old sessions end', async () => {
    const username = uniqueName('op');
    const created = await admin(
      server,
      ['users', 'create', username, '--display-name', 'Op Erator'],
      'first-password\n',
    );
    expect(created.code).toBe(0);
    const apiKey = /API key: (\S+)/.exec(created.stdout)?.[1];
    const me = await http(server.url, apiKey)('GET', '/v1/me');
    expect(me.body.user).toMatchObject({ username, displayName: 'Op Erator' });

    const signIn = (password: string) => http(server.url)('POST', '/v1/sessions', { username, password });
    const first = await signIn('first-password');
    expect(first.status).toBe(201);
    const reset = await admin(server, ['users', 'reset-password', username], 'second-password\n');
    expect(reset.stdout).toContain('1 session(s) ended');
    expect((await signIn('first-password')).status).toBe(401);
    expect((await signIn('second-password')).status).toBe(201);
    // The ended session's token stops working (at once on every gateway in a cluster; within the
    // credential cache's few seconds in embedded mode, which the CLI cannot reach in memory).
    await waitFor(
      'the old session to end',
      async () => (await http(server.url, first.body.token)('GET', '/v1/me')).status === 401,
      6000,
    );

    expect((await admin(server, ['users', 'reset-password', username], 'short\n')).code).toBe(1);
    expect((await admin(server, ['users', 'reset-password', 'nobody_here_x'], 'long-enough\n')).code).toBe(1);
    expect((await admin(server, ['users', 'create', username], '')).code).not.toBe(0); // taken
    expect((await admin(server, ['nonsense'])).code).toBe(64);
  });

  it('suspends and restores a user from the shell, and lists reports', async () => {
    const eve = await signUp(server.url);
    const suspended = await admin(server, ['users', 'suspend', eve.username, '--reason', 'spam']);
    expect(suspended.code).toBe(0);
    await waitFor('the suspended key to fail', async () => (await eve.call('GET', '/v1/me')).status === 401, 6000);
    expect((await admin(server, ['users', 'unsuspend', eve.username])).code).toBe(0);
    await waitFor('the key to work again', async () => (await eve.call('GET', '/v1/me')).status === 200, 6000);
    expect((await admin(server, ['reports'])).code).toBe(0);
  });
});

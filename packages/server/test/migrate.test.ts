// npm run migrate: an embedded data directory, filled by a real embedded server, moved into a fresh
// cluster deployment, then served by a real cluster process: history, search, unread counts,
// blocks and sign-in match what the embedded server answered, a new message continues the seqs, and
// a run after an interruption writes only what is missing, a complete one writes nothing, and a
// row that differs fails the run.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLUSTER,
  clusterProcessEnv,
  createGroup,
  directChat,
  eventually,
  fullHistory,
  http,
  RawSocket,
  sendHttp,
  signUpMany,
  tempDir,
  type TestUser,
  uniqueName,
  uploadFile,
} from './harness.js';
import { deploymentOf, PG_URL } from './deployment.mjs';
import { freePort, ServerProcess } from './process.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const PASSWORD = 'correct horse battery staple';

function migrate(env: Record<string, string>, from: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'migrate', '--from', from],
      { env: { PATH: process.env.PATH, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function withPassword(url: string): Promise<TestUser & { password: string }> {
  const username = uniqueName('mig');
  const res = await http(url)('POST', '/v1/users', { username, password: PASSWORD });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    id: res.body.user.id,
    username,
    apiKey: res.body.token,
    call: http(url, res.body.token),
    password: PASSWORD,
  };
}

const at = (user: TestUser, url: string): TestUser => ({ ...user, call: http(url, user.apiKey) });
const byId = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => (a.id < b.id ? -1 : 1));

/** What a user sees: the chat list, every history, search answers, blocks. */
async function view(user: TestUser, words: string[]) {
  const list = await user.call('GET', '/v1/conversations');
  expect(list.status).toBe(200);
  const conversations = byId(list.body.conversations as { id: string }[]);
  const histories = await Promise.all(conversations.map((c) => fullHistory(user, c.id)));
  const searches = await Promise.all(
    words.map(async (q) => {
      const res = await user.call('GET', `/v1/search?q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(200);
      return (res.body.results as { message: { id: string } }[]).map((r) => r.message.id).sort();
    }),
  );
  const blocks = (await user.call('GET', '/v1/blocks')).body;
  return { conversations, histories, searches, blocks };
}

// It needs PostgreSQL, NATS and Redis, and does the same thing in either suite: the cluster suite runs it.
describe.runIf(CLUSTER)('npm run migrate: one machine to a cluster', () => {
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function serve(env: Record<string, string>): Promise<ServerProcess> {
    const server = new ServerProcess(await freePort(), env);
    servers.push(server);
    await server.start(30_000);
    return server;
  }

  it('copies everything, resumes after an interruption, reports a difference, continues the seqs', async () => {
    const source = tempDir('messenger-migrate-src-');
    const embedded = await serve({ DATA_DIR: source });
    const url = embedded.url;
    const ann = await withPassword(url);
    const bob = await withPassword(url);
    const [carl, dave] = await signUpMany(url, 2);

    const direct = await directChat(ann, bob);
    const group = await createGroup(ann, [bob, carl], 'migration crew');
    const sent = [];
    for (let i = 0; i < 6; i++)
      sent.push(await sendHttp(i % 2 ? bob : ann, direct, `direct ${i} ${i === 3 ? 'zebrafish' : 'plain'} talk`));
    for (let i = 0; i < 4; i++) await sendHttp([ann, bob, carl][i % 3]!, group, `group ${i} quokka numbat${i}`);
    expect(
      (await ann.call('PATCH', `/v1/conversations/${direct}/messages/${sent[0].id}`, { body: 'edited zebrafish' }))
        .status,
    ).toBe(200);
    expect((await bob.call('DELETE', `/v1/conversations/${direct}/messages/${sent[1].id}?for=everyone`)).status).toBe(
      204,
    );
    expect((await bob.call('DELETE', `/v1/conversations/${direct}/messages/${sent[2].id}?for=me`)).status).toBe(204);
    expect(
      (await bob.call('PUT', `/v1/conversations/${direct}/messages/${sent[4].id}/reaction`, { emoji: '👍' })).status,
    ).toBe(200);
    expect((await bob.call('POST', `/v1/conversations/${direct}/read`, { seq: sent[2].seq })).status).toBe(204);
    expect((await carl.call('POST', `/v1/conversations/${group}/read`, { seq: 1 })).status).toBe(204);
    expect((await carl.call('PUT', `/v1/blocks/${dave.id}`)).status).toBe(204);

    const file = Buffer.from('minutes of the migration meeting\n'.repeat(50));
    const uploaded = await uploadFile(url, ann.apiKey, file, 'text/plain', 'minutes.txt');
    expect(uploaded.status).toBe(201);
    const upload: { id: string } = uploaded.body.upload;
    // The same bytes uploaded again share the content-addressed object: one object to copy.
    const twin = await uploadFile(url, bob.apiKey, file, 'text/plain', 'copy.txt');
    expect(twin.status).toBe(201);
    const twinUpload: { id: string } = twin.body.upload;

    const words = ['zebrafish', 'quokka', 'numbat2', 'talk'];
    const users = [ann, bob, carl, dave];
    const before = await Promise.all(users.map((u) => view(u, words)));
    const maxSeq = Math.max(...before[0]!.conversations.map((c) => (c as unknown as { lastSeq: number }).lastSeq));
    await embedded.stop();

    const target = tempDir('messenger-migrate-dst-');
    const env = { ...clusterProcessEnv(target), DATA_DIR: target, LOG_LEVEL: 'warn' };
    const first = await migrate(env, source);
    expect(first.stdout).toMatch(/^migrated: every count and checksum matches$/m);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^copy +messages +10 rows, 10 new$/m);
    expect(first.stdout).toMatch(/^ok +files: 1 objects, 1 copied now/m);

    // As if the first run had stopped midway: later tables empty, part of the messages missing.
    const { schema } = deploymentOf(target);
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    try {
      await db.query(`DELETE FROM ${schema}.reactions; DELETE FROM ${schema}.hidden; DELETE FROM ${schema}.blocks`);
      await db.query(`DELETE FROM ${schema}.messages WHERE conversation_id = $1`, [group]);
      const resumed = await migrate(env, source);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/^copy +messages +10 rows, 4 new$/m);
      expect(resumed.stdout).toMatch(/^copy +reactions +1 rows, 1 new$/m);
      expect(resumed.stdout).toMatch(/^copy +blocks +1 rows, 1 new$/m);
      expect(resumed.stdout).not.toMatch(/\(raised\)/);

      // Once complete, a run writes nothing: the same checksums, the log not moved, no file again.
      const again = await migrate(env, source);
      expect(again.code, again.stderr).toBe(0);
      const copies = again.stdout.split('\n').filter((l) => l.startsWith('copy '));
      expect(copies.length).toBeGreaterThan(10);
      for (const line of copies) expect(line).toMatch(/ 0 new$/);
      expect(again.stdout).not.toMatch(/\(raised\)/);
      expect(again.stdout).toMatch(/^ok +files: 1 objects, 0 copied now/m);
      const sums = (out: string) => out.split('\n').filter((l) => / sha256 /.test(l));
      expect(sums(again.stdout)).toEqual(sums(first.stdout));

      // A row that differs is reported, and the run fails.
      const edited = sent[3].id;
      await db.query(`UPDATE ${schema}.messages SET body = 'tampered' WHERE id = $1`, [edited]);
      const tampered = await migrate(env, source);
      expect(tampered.code).toBe(1);
      expect(tampered.stdout).toMatch(/^FAIL +messages +checksums differ$/m);
      await db.query(`UPDATE ${schema}.messages SET body = $2 WHERE id = $1`, [edited, sent[3].body]);
    } finally {
      await db.end();
    }

    const cluster = await serve({ ...env, DATA_DIR: path.join(target, 'node') });
    const after = await Promise.all(users.map((u) => view(at(u, cluster.url), words)));
    expect(after).toEqual(before);
    const downloaded = await fetch(`${cluster.url}/v1/uploads/${upload.id}/content`, {
      headers: { authorization: `Bearer ${ann.apiKey}` },
    });
    expect(downloaded.status).toBe(200);
    expect(Buffer.from(await downloaded.arrayBuffer())).toEqual(file);
    const twinDownloaded = await fetch(`${cluster.url}/v1/uploads/${twinUpload.id}/content`, {
      headers: { authorization: `Bearer ${bob.apiKey}` },
    });
    expect(Buffer.from(await twinDownloaded.arrayBuffer())).toEqual(file);
    expect(before[2]!.conversations.find((c) => c.id === group)).toMatchObject({ unreadCount: 1 });

    // The password signs in on the cluster, and a message sent there gets the next seq.
    const signIn = await http(cluster.url)('POST', '/v1/sessions', {
      username: ann.username,
      password: PASSWORD,
      deviceName: 'cluster laptop',
    });
    expect(signIn.status).toBe(201);
    const socket = await RawSocket.open(cluster.url, signIn.body.token);
    try {
      const reply: any = await socket.request('send', {
        conversationId: direct,
        clientMsgId: uniqueName('c'),
        body: 'hello cluster',
      });
      expect(reply.ok).toBe(true);
      expect(reply.result.message.seq).toBeGreaterThan(maxSeq);
      // A retried send from before the move is still a duplicate, not a second message.
      const retry: any = await socket.request('send', {
        conversationId: direct,
        clientMsgId: sent[4].clientMsgId,
        body: sent[4].body,
      });
      expect(retry.ok).toBe(true);
      expect(retry.result.message).toMatchObject({ id: sent[4].id, seq: sent[4].seq });
      await eventually(async () => {
        const history = await fullHistory(at(bob, cluster.url), direct);
        expect(history.at(-1)).toMatchObject({ body: 'hello cluster', seq: reply.result.message.seq });
        const old = before[1]!.histories[before[1]!.conversations.findIndex((c) => c.id === direct)]!;
        expect(history.length).toBe(old.length + 1);
      }, 10_000);
    } finally {
      socket.close();
    }
  }, 180_000);
});

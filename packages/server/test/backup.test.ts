// Backup and restore of an embedded data directory (npm run backup / restore): a backup taken from
// a real server process while messages flow holds every message acknowledged before it began, a
// restore into a new directory serves them, and a damaged or misplaced backup is refused.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Message } from '@messenger/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER, directChat, fullHistory, signUp, signUpMany, tempDir, via } from './harness.js';
import { freePort, ServerProcess } from './process.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

function cli(dataDir: string, ...args: string[]) {
  return run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, DATA_DIR: dataDir } });
}

async function cliFails(dataDir: string, ...args: string[]): Promise<string> {
  try {
    await cli(dataDir, ...args);
  } catch (error) {
    const e = error as { code: number; stderr: string };
    expect(e.code).not.toBe(0);
    return e.stderr;
  }
  throw new Error(`${args.join(' ')} succeeded`);
}

// Backup and restore copy an embedded data directory; a cluster's data lives in its services
// (PostgreSQL, JetStream), which have their own backup tools.
describe.skipIf(CLUSTER)('backup and restore (embedded)', () => {
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function serve(dataDir: string): Promise<ServerProcess> {
    const server = new ServerProcess(await freePort(), { DATA_DIR: dataDir });
    servers.push(server);
    await server.start();
    return server;
  }

  it('a backup taken under load holds every message acknowledged before it began', async () => {
    const dataDir = tempDir();
    const server = await serve(dataDir);
    const [ann, bob] = await signUpMany(server, 2);
    const conv = await directChat(ann, bob);

    const acked: Message[] = [];
    let sending = true;
    let n = 0;
    // Four senders keep the writer busy for the whole backup.
    const load = Promise.all(
      [0, 1, 2, 3].map(async () => {
        while (sending) {
          const i = n++;
          const res = await ann.call('POST', `/v1/conversations/${conv}/messages`, {
            clientMsgId: `b${i}`,
            body: `message ${i} ${'x'.repeat(i % 200)}`,
          });
          expect(res.status).toBe(201);
          acked.push(res.body.message);
        }
      }),
    );
    // Two uploads of the same bytes: one content-addressed object under uploads/sha256/.
    const file = Buffer.from(`backed up with the database ${ann.id}`);
    const uploads = await Promise.all(
      [ann, ann].map(async (u) => {
        const res = await u.call('POST', '/v1/uploads', file.toString(), { 'content-type': 'text/plain' });
        expect(res.status).toBe(201);
        return res.body.upload as { id: string };
      }),
    );
    while (acked.length < 300) await new Promise((r) => setTimeout(r, 10));
    const before = [...acked];
    const backupDir = path.join(tempDir(), 'backup');
    const { stdout } = await cli(dataDir, 'backup', backupDir);
    const duringBackup = acked.length - before.length;
    sending = false;
    await load;
    expect(stdout).toContain('backed up');
    expect(duringBackup).toBeGreaterThan(0); // the server kept acknowledging while the copy was taken
    expect(fs.existsSync(path.join(backupDir, 'vapid.json'))).toBe(true);

    const restored = tempDir();
    expect((await cli(restored, 'restore', backupDir)).stdout).toContain('restored');
    const second = await serve(restored);
    const history = await fullHistory(via(bob, second.url), conv);
    const manifest = JSON.parse(fs.readFileSync(path.join(backupDir, 'backup.json'), 'utf8'));
    expect(manifest.files.filter((f: { path: string }) => f.path.startsWith('uploads/sha256/'))).toHaveLength(1);
    for (const u of uploads) {
      const res = await fetch(`${second.url}/v1/uploads/${u.id}/content`, {
        headers: { authorization: `Bearer ${ann.apiKey}` },
      });
      expect(Buffer.from(await res.arrayBuffer())).toEqual(file);
    }
    const bySeq = new Map(history.map((m) => [m.seq, m]));
    for (const m of before) expect(bySeq.get(m.seq)).toMatchObject({ id: m.id, body: m.body, senderId: ann.id });
    // A new message continues the conversation after everything restored.
    const next = await via(ann, second.url).call('POST', `/v1/conversations/${conv}/messages`, {
      clientMsgId: 'after-restore',
      body: 'hello again',
    });
    expect(next.status).toBe(201);
    expect(next.body.message.seq).toBeGreaterThan(Math.max(...history.map((m) => m.seq)));
  }, 90_000);

  it('refuses to restore over data, a damaged backup, and a backup into a used directory', async () => {
    const dataDir = tempDir();
    const server = await serve(dataDir);
    await signUp(server.url);
    const backupDir = path.join(tempDir(), 'backup');
    await cli(dataDir, 'backup', backupDir);

    expect(await cliFails(dataDir, 'backup', backupDir)).toContain('not empty');
    expect(await cliFails(dataDir, 'backup', path.join(dataDir, 'copy'))).toContain('inside');
    expect(await cliFails(dataDir, 'restore', backupDir)).toContain('not empty');
    expect(await cliFails(tempDir(), 'restore', tempDir())).toContain('not a backup');

    const damaged = path.join(tempDir(), 'damaged');
    fs.cpSync(backupDir, damaged, { recursive: true });
    const db = path.join(damaged, 'messenger.db');
    const bytes = fs.readFileSync(db);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    fs.writeFileSync(db, bytes);
    const fresh = tempDir();
    expect(await cliFails(fresh, 'restore', damaged)).toContain('damaged');
    expect(fs.readdirSync(fresh)).toEqual([]); // nothing half-restored

    // --force keeps what was there, moved aside.
    await server.stop();
    servers.length = 0;
    await cli(dataDir, 'restore', backupDir, '--force');
    const aside = fs.readdirSync(dataDir).filter((f) => f.startsWith('replaced-'));
    expect(aside).toHaveLength(1);
    expect(fs.readdirSync(path.join(dataDir, aside[0]!))).toContain('messenger.db');
  }, 60_000);
});

// kill -9 of the real server process mid-stream, several times: nothing acknowledged is lost, nothing
// is stored twice, and every retried clientMsgId returns the original message.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort, MAIN } from './process.js';
import { CLUSTER, createGroup, http, RawSocket, signUp, sleep, tempDir, type TestUser } from './harness.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

interface Child {
  proc: ChildProcess;
  exited: Promise<number | null>;
  stderr: string[];
}

async function startChild(port: number, dataDir: string): Promise<Child> {
  const proc = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      RATE_LIMIT_MESSAGES: '0',
      RATE_LIMIT_SIGNUPS: '0',
      LOG_LEVEL: 'warn',
      WEB_DIR: '',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d) => stderr.push(String(d)));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (gone) throw new Error(`server exited at start: ${stderr.join('')}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server did not start: ${stderr.join('')}`);
    await sleep(50);
  }
  return { proc, exited, stderr };
}

interface Sent {
  user: number;
  clientMsgId: string;
  body: string;
}

/** One user's socket that keeps `window` sends in flight until its socket dies. */
async function sendUntilDeath(
  socket: RawSocket,
  user: number,
  conv: string,
  next: () => string,
  attempted: Sent[],
  acked: Map<string, { id: string; seq: number }>,
  window = 3,
): Promise<void> {
  const lane = async () => {
    while (socket.closeCode === null) {
      const clientMsgId = next();
      const body = `msg ${clientMsgId}`;
      attempted.push({ user, clientMsgId, body });
      try {
        const reply: any = await socket.request('send', { conversationId: conv, clientMsgId, body });
        if (!reply.ok) throw new Error(`send refused: ${JSON.stringify(reply)}`);
        acked.set(`${user}:${clientMsgId}`, { id: reply.result.message.id, seq: reply.result.message.seq });
      } catch (error) {
        if (socket.closeCode === null) throw error;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
}

async function fullHistory(user: TestUser, conv: string): Promise<any[]> {
  const all: any[] = [];
  let after = 0;
  for (;;) {
    const res = await user.call('GET', `/v1/conversations/${conv}/messages?afterSeq=${after}&limit=200`);
    expect(res.status).toBe(200);
    if (res.body.messages.length === 0) return all;
    all.push(...res.body.messages);
    after = res.body.messages.at(-1).seq;
  }
}

// Skipped in cluster mode: it kill -9s an embedded server process (dist/main.js on a DATA_DIR); the
// cluster's crash tests are cluster-faults/*.test.ts (gateway, worker and backing-service kills).
describe.skipIf(CLUSTER)('crash safety', () => {
  it('survives kill -9 at random moments without losing or duplicating acknowledged messages', async () => {
    const dataDir = tempDir('messenger-crash-');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let child = await startChild(port, dataDir);
    const users: TestUser[] = [];
    for (let i = 0; i < 4; i++) users.push(await signUp(url));
    const conv = await createGroup(users[0]!, users.slice(1), 'crash');
    const attempted: Sent[] = [];
    const acked = new Map<string, { id: string; seq: number }>();
    const counters = users.map(() => 0);
    const byKey = (messages: any[]) => {
      const map = new Map<string, any>();
      for (const m of messages) {
        const user = users.findIndex((u) => u.id === m.senderId);
        const key = `${user}:${m.clientMsgId}`;
        expect(map.has(key), `duplicate ${key}`).toBe(false);
        map.set(key, m);
      }
      return map;
    };
    const checkAcked = async () => {
      const history = await fullHistory(users[0]!, conv);
      const seqs = history.map((m) => m.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      const stored = byKey(history);
      for (const [key, ack] of acked) {
        const m = stored.get(key);
        expect(m, `acknowledged ${key} lost`).toBeDefined();
        expect({ id: m.id, seq: m.seq }).toEqual(ack);
      }
      return stored;
    };
    // Search is indexed after the commit: what the last acknowledgements before a kill -9 left
    // unindexed must be indexed by the restarted server (the clientMsgId's parts are its words).
    const searchFinds = async (keys: string[]) => {
      for (const key of keys) {
        const words = key
          .slice(key.indexOf(':') + 1)
          .split('-')
          .join(' ');
        const res = await http(url, users[0]!.apiKey)(
          'GET',
          `/v1/search?q=${encodeURIComponent(words)}&conversationId=${conv}&limit=100`,
        );
        expect(res.status).toBe(200);
        expect(
          res.body.results.map((r: any) => r.message.id),
          `search misses ${key}`,
        ).toContain(acked.get(key)!.id);
      }
    };

    try {
      for (let kill = 0; kill < 3; kill++) {
        const sockets = await Promise.all(users.map((u) => RawSocket.open(url, u.apiKey)));
        const senders = sockets.map((s, i) =>
          sendUntilDeath(s, i, conv, () => `k${kill}-u${i}-${counters[i]!++}`, attempted, acked),
        );
        await sleep(150 + Math.floor(Math.random() * 400));
        child.proc.kill('SIGKILL');
        expect(await child.exited).toBeNull();
        await Promise.all(senders);
        expect(acked.size).toBeGreaterThan(0);
        child = await startChild(port, dataDir);
        await checkAcked();
        await searchFinds([...acked.keys()].filter((k) => k.includes(`:k${kill}-`)).slice(-12));
      }
      expect(attempted.length).toBeGreaterThan(acked.size);

      // Retry everything ever attempted, acked or not, with its clientMsgId.
      const retrySockets = await Promise.all(users.map((u) => RawSocket.open(url, u.apiKey)));
      const retried = new Map<string, { id: string; seq: number }>();
      for (let i = 0; i < attempted.length; i += 64) {
        const chunk = attempted.slice(i, i + 64);
        const replies: any[] = await Promise.all(
          chunk.map((a) =>
            retrySockets[a.user]!.request('send', { conversationId: conv, clientMsgId: a.clientMsgId, body: a.body }),
          ),
        );
        chunk.forEach((a, k) => {
          expect(replies[k].ok).toBe(true);
          retried.set(`${a.user}:${a.clientMsgId}`, {
            id: replies[k].result.message.id,
            seq: replies[k].result.message.seq,
          });
        });
      }
      for (const [key, ack] of acked) expect(retried.get(key)).toEqual(ack);
      // A sample over HTTP too: 200 and the original for acknowledged ones.
      for (const [key, ack] of [...acked].slice(0, 20)) {
        const [user, clientMsgId] = [Number(key.split(':')[0]), key.slice(key.indexOf(':') + 1)];
        const res = await http(url, users[user]!.apiKey)('POST', `/v1/conversations/${conv}/messages`, {
          clientMsgId,
          body: `msg ${clientMsgId}`,
        });
        expect(res.status).toBe(200);
        expect({ id: res.body.message.id, seq: res.body.message.seq }).toEqual(ack);
      }
      const stored = await checkAcked();
      expect(stored.size).toBe(attempted.length);
      for (const [key, r] of retried) expect({ id: stored.get(key).id, seq: stored.get(key).seq }).toEqual(r);
      for (const s of retrySockets) s.close();
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  }, 90_000);
});

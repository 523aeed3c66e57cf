// Model-based test (fast-check commands) of the SDK against a real server process: sends,
// client disconnects and reconnects, and kill -9 of the server, in random interleavings. What
// the receiving app sees must equal the model: every message the sender's app sent, once, in order.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MessengerClient } from '@messenger/sdk';
import { CLUSTER, clusterProcessEnv, tempDir } from './harness.js';
import { freePort, ServerProcess } from './process.js';

interface Model {
  sent: string[];
}

interface Real {
  sender: MessengerClient;
  receiver: MessengerClient;
  seen: string[];
  conversationId: string;
  server: ServerProcess;
}

const quick = { reconnect: { minDelayMs: 50, maxDelayMs: 300 }, requestTimeoutMs: 3000 };

class Send implements fc.AsyncCommand<Model, Real> {
  constructor(readonly body: string) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    m.sent.push(this.body);
    // The app does not wait: the outbox owns the message from here on.
    r.sender.send(r.conversationId, this.body).catch(() => undefined);
  }
  toString = () => `send(${this.body})`;
}

/** Stops a part of the real system and starts it again; the model does not change. */
class Restart implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly name: string,
    readonly stop: (r: Real) => Promise<void>,
    readonly start: (r: Real) => Promise<void>,
  ) {}
  check = () => true;
  async run(_m: Model, r: Real): Promise<void> {
    await this.stop(r);
    await this.start(r);
  }
  toString = () => this.name;
}

const reconnect = new Restart(
  'sender.reconnect',
  (r) => r.sender.close(),
  (r) => r.sender.connect(),
);
const killServer = new Restart(
  'kill -9 server',
  (r) => r.server.kill(),
  (r) => r.server.start(),
);

class Pause implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(): Promise<void> {
    await new Promise((res) => setTimeout(res, this.ms));
  }
  toString = () => `pause(${this.ms})`;
}

// In cluster mode the process killed runs every role (gateway, persister, fan-out, notifier) on a
// deployment of its own in the machine's PostgreSQL, NATS and Redis.
describe('model: the app sees exactly what was sent, once, in order', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    const dir = tempDir('model-');
    server = new ServerProcess(await freePort(), { DATA_DIR: dir, ...(CLUSTER ? clusterProcessEnv(dir) : {}) });
    await server.start();
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { checks: Record<string, string> };
    expect(Object.keys(ready.checks).sort()).toEqual(CLUSTER ? ['blobs', 'nats', 'postgres', 'redis'] : ['sqlite']);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('holds across sends, reconnects and server kills', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.commands(
          [
            fc
              .string({ minLength: 1, maxLength: 12 })
              .filter((s) => s.trim().length > 0)
              .map((s) => new Send(s)),
            fc.constant(reconnect),
            fc.constant(killServer),
            fc.integer({ min: 0, max: 150 }).map((ms) => new Pause(ms)),
          ],
          { maxCommands: 25 },
        ),
        async (cmds) => {
          run += 1;
          const tag = `${run}${Math.random().toString(36).slice(2, 6)}`;
          const a = await MessengerClient.createUser(server.url, { username: `ma${tag}` });
          const b = await MessengerClient.createUser(server.url, { username: `mb${tag}` });
          const app = (apiKey: string) =>
            new MessengerClient({ baseUrl: server.url, apiKey, WebSocket: WebSocket as never, ...quick });
          const [sender, receiver] = [app(a.apiKey), app(b.apiKey)];
          const { conversation } = await sender.api.createConversation({ memberIds: [b.user.id] });
          const seen: string[] = [];
          const seqs: number[] = [];
          receiver.on('message.created', (e) => {
            if (e.conversationId !== conversation.id) return;
            seen.push(e.message.body);
            seqs.push(e.message.seq);
          });
          receiver.trackConversation(conversation.id, 0);
          await Promise.all([sender.connect(), receiver.connect()]);
          const model: Model = { sent: [] };
          try {
            await fc.asyncModelRun(
              () => ({ model, real: { sender, receiver, seen, conversationId: conversation.id, server } }),
              cmds,
            );
            const deadline = Date.now() + 30_000;
            while ((seen.length < model.sent.length || sender.pending().length > 0) && Date.now() < deadline)
              await new Promise((r) => setTimeout(r, 50));
            expect(sender.pending()).toEqual([]);
            expect(seen).toEqual(model.sent);
            expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
            // Paging forward from 0, as a client catching up does: in cluster mode the store trails the
            // log by the persister's lag (a plain newest-page read may not hold what was just delivered,
            // least of all right after a kill -9), and this read waits for the persister first.
            const history = await receiver.api.getMessages(conversation.id, { afterSeq: 0, limit: 200 });
            expect(history.map((m) => m.body)).toEqual(model.sent);
          } finally {
            await Promise.all([sender.close(), receiver.close()]);
          }
        },
      ),
      { numRuns: 5, endOnFailure: true },
    );
  }, 240_000);
});

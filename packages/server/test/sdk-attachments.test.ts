// The SDK's files against the real server: upload() with progress, and sends with files through
// the outbox, which uploads what is missing first and resumes after a failure without uploading
// a file twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MessengerClient, type OutboxItem, type WebSocketCtor } from '@messenger/sdk';
import { directChat, serverForFile, signUpMany, type TestUser } from './harness.js';

const server = serverForFile();
let ann: TestUser;
let bob: TestUser;
let chat: string;
const clients: MessengerClient[] = [];
beforeAll(async () => {
  [ann, bob] = await signUpMany(server, 2);
  chat = await directChat(ann, bob);
});
afterAll(async () => {
  for (const c of clients) await c.close();
});

function client(apiKey: string, fetchImpl?: typeof fetch): MessengerClient {
  const c = new MessengerClient({
    baseUrl: server.urls[0]!,
    apiKey,
    WebSocket: WebSocket as unknown as WebSocketCtor,
    reconnect: { minDelayMs: 50, maxDelayMs: 300 },
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  clients.push(c);
  return c;
}

const file = (text: string, name: string) => new File([text], name, { type: 'text/plain' });

describe('SDK files', () => {
  it('upload() streams a file and reports progress', async () => {
    const c = client(ann.apiKey);
    const seen: number[] = [];
    const up = await c.upload(file('hello', 'hello.txt'), { onProgress: (f) => seen.push(f) });
    expect([up.name, up.size, up.contentType]).toEqual(['hello.txt', 5, 'text/plain']);
    expect(seen.at(-1)).toBe(1);
  });

  it('a send with files uploads them, then sends; a failed upload is retried alone', async () => {
    let uploads = 0;
    let failNext = true;
    const flaky: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/v1/uploads')) {
        uploads++;
        if (uploads === 2 && failNext) {
          failNext = false;
          throw new TypeError('network down');
        }
      }
      return fetch(input, init);
    };
    const c = client(ann.apiKey, flaky);
    const states: OutboxItem[][] = [];
    c.on('outbox', (items) => states.push(items));
    // Queued before the socket is up: it waits, then goes once connected.
    const sent = c.send(chat, '', { files: [file('one', 'one.txt'), file('two', 'two.txt')] });
    await c.connect();
    const message = await sent;
    expect(message.attachments.map((a) => a.name)).toEqual(['one.txt', 'two.txt']);
    expect(uploads).toBe(3);
    expect(states.some((items) => items[0]?.attachments?.[0]?.uploadId && !items[0].attachments[1]?.uploadId)).toBe(
      true,
    );
    expect(c.pending()).toEqual([]);
    const res = await fetch(`${server.urls[0]}${message.attachments[1]!.url}`);
    expect(await res.text()).toBe('two');
  });

  it('a send whose file cannot be uploaded fails in the outbox, and retry() sends it', async () => {
    let refuse = true;
    const c = client(ann.apiKey, async (input, init) => {
      if (String(input).endsWith('/v1/uploads') && refuse)
        return new Response(JSON.stringify({ error: { code: 'message_too_big', message: 'too big' } }), {
          status: 413,
        });
      return fetch(input, init);
    });
    await c.connect();
    const sent = c.send(chat, 'caption', { files: [file('big', 'big.bin')] });
    await expect(sent).rejects.toMatchObject({ code: 'message_too_big' });
    expect(c.pending()[0]?.state).toBe('failed');
    refuse = false;
    const clientMsgId = c.pending()[0]!.clientMsgId;
    const again = new Promise<void>((resolve) => {
      const off = c.on('outbox', (items) => {
        if (items.length === 0) {
          off();
          resolve();
        }
      });
    });
    c.retry(clientMsgId);
    await again;
    const history = await bob.call('GET', `/v1/conversations/${chat}/messages`);
    const stored = history.body.messages.find((m: any) => m.clientMsgId === clientMsgId);
    expect(stored.body).toBe('caption');
    expect(stored.attachments[0].name).toBe('big.bin');
  });
});

// History reads are monotonic: a page never ends below a message the reader was already delivered.
// In cluster mode the store trails the log (the persister), so a reload right after a burst of
// live messages must wait for the store rather than show fewer messages than are on the screen.
// The reads here go straight to a gateway, without the harness's read barrier.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directChat, RawSocket, serverForFile, signUpMany, type TestUser } from './harness.js';

// Back-pressure off (cluster): bursts of 40 pipelined sends, several in a row, can put the store past
// half its bound on a busy machine, and this raw client does not retry the refused sends (503), so
// they would never be delivered; store-backpressure.test.ts covers the refusals.
const server = serverForFile({ storeLagBoundMs: 0 });
let ann: TestUser;
let bob: TestUser;
let conv: string;
let sender: RawSocket;
let reader: RawSocket;
let sent = 0;

beforeAll(async () => {
  [ann, bob] = await signUpMany(server, 2);
  conv = await directChat(ann, bob);
  // The sender and the reader are on different gateways (in cluster mode).
  sender = await RawSocket.open(server.urls[0]!, ann.apiKey);
  reader = await RawSocket.open(server.urls.at(-1)!, bob.apiKey);
});

afterAll(async () => {
  sender?.close();
  reader?.close();
});

/** The newest seq delivered live to the reader so far. */
function delivered(): number {
  let max = 0;
  for (const e of reader.events('message.created')) if (e.conversationId === conv) max = Math.max(max, e.message.seq);
  return max;
}

/** How many messages were delivered live to the reader so far. */
function live(): number {
  return reader.events('message.created').filter((e) => e.conversationId === conv).length;
}

/** A history page read straight from a gateway (no read barrier); its seqs. */
async function page(baseUrl: string, query: string): Promise<number[]> {
  const res = await fetch(`${baseUrl}/v1/conversations/${conv}/messages?${query}`, {
    headers: { authorization: `Bearer ${bob.apiKey}` },
    signal: AbortSignal.timeout(20_000),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { messages: { seq: number }[] };
  return body.messages.map((m) => m.seq);
}

type Op =
  | { kind: 'send'; n: number; settle: boolean }
  | { kind: 'read'; how: 'newest' | 'before' | 'after'; gateway: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), n: fc.integer({ min: 1, max: 40 }), settle: fc.boolean() }),
  fc.record({
    kind: fc.constant('read' as const),
    how: fc.constantFrom('newest' as const, 'before' as const, 'after' as const),
    gateway: fc.integer({ min: 0, max: 1 }),
  }),
);

describe('history reads', () => {
  it('never end below a seq the reader was delivered before the read, whatever sends interleave', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 8 }), async (ops) => {
        const inFlight: Promise<unknown>[] = [];
        for (const o of ops) {
          if (o.kind === 'send') {
            // Pipelined and not awaited: reads interleave with sends still in flight.
            for (let i = 0; i < o.n; i++) {
              sent += 1;
              inFlight.push(
                sender.request('send', { conversationId: conv, clientMsgId: `c${sent}`, body: `m${sent}` }),
              );
            }
            // Settled: all of them delivered live, then a read at once (a reload after a burst).
            if (o.settle) await reader.waitFor(() => live() >= sent, 20_000);
            continue;
          }
          const seen = delivered();
          if (seen === 0) continue;
          const url = server.urls[o.gateway % server.urls.length]!;
          if (o.how === 'newest') {
            const seqs = await page(url, 'limit=25');
            expect(Math.max(...seqs)).toBeGreaterThanOrEqual(seen);
          } else if (o.how === 'before') {
            const seqs = await page(url, `beforeSeq=${seen + 1}&limit=25`);
            expect(Math.max(...seqs)).toBe(seen);
          } else {
            const seqs = await page(url, `afterSeq=${Math.max(0, seen - 10)}&limit=25`);
            expect(Math.max(...seqs)).toBeGreaterThanOrEqual(seen);
          }
        }
        const replies = await Promise.all(inFlight);
        expect(replies.every((r: any) => r.ok)).toBe(true);
      }),
      { numRuns: 8 },
    );
  }, 120_000);
});

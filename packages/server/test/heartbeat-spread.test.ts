// A heartbeat round pings (and refreshes the routes and presence of) its sockets in slices of
// 500 spread over half the ping interval, not all in one event-loop turn: at 100,000 sockets over
// six gateways, all at once queued seconds of Redis work every round ahead of fan-out. Here 1,000
// sockets on one gateway make two slices, half an interval apart; every socket still gets its
// ping each round and none is closed.
import { WebSocket } from 'ws';
import { expect, it } from 'vitest';
import { serverForFile, signUpMany } from './harness.js';

const INTERVAL_MS = 2_000;
const SOCKETS = 1_000;
const server = serverForFile({ pingIntervalMs: INTERVAL_MS, maxSocketsPerUser: SOCKETS });

/** An authenticated socket that records when each ping arrives. */
async function pinged(url: string, token: string, pings: number[]): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
    ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'ready') resolve();
    });
    ws.once('error', reject);
  });
  ws.on('ping', () => pings.push(Date.now()));
  return ws;
}

it('spreads a round of pings over half the interval; every socket is pinged and stays', async () => {
  const [user] = await signUpMany(server, 1);
  const url = server.urls[0]!;
  const pings: number[] = [];
  const sockets: WebSocket[] = [];
  // In batches: unauthenticated sockets per address are bounded.
  for (let i = 0; i < SOCKETS; i += 40)
    sockets.push(
      ...(await Promise.all(Array.from({ length: Math.min(40, SOCKETS - i) }, () => pinged(url, user!.apiKey, pings)))),
    );
  const from = Date.now();
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 2.5));
  const seen = pings.filter((at) => at >= from).sort((a, b) => a - b);
  // Two whole rounds at least: every socket pinged twice or more.
  expect(seen.length).toBeGreaterThanOrEqual(SOCKETS * 2);
  // The densest 300 ms holds one slice (500 sockets), not a whole round (1,000).
  let densest = 0;
  for (let i = 0, j = 0; j < seen.length; j++) {
    while (seen[j]! - seen[i]! > 300) i++;
    densest = Math.max(densest, j - i + 1);
  }
  expect(densest).toBeLessThanOrEqual(SOCKETS * 0.6);
  expect(sockets.every((ws) => ws.readyState === WebSocket.OPEN)).toBe(true);
  for (const ws of sockets) ws.close();
}, 30_000);

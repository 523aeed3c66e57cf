// Order under concurrency: many senders on many sockets into one conversation.
import { describe, expect, it } from 'vitest';
import { createGroup, RawSocket, signUp, serverForFile, type TestUser } from './harness.js';

const server = serverForFile();

describe('concurrent sends', () => {
  it('get unique, increasing seqs; every socket sees them in seq order; history equals the acknowledged set', async () => {
    const users: TestUser[] = [];
    for (let i = 0; i < 4; i++) users.push(await signUp(server.url));
    const conv = await createGroup(users[0]!, users.slice(1), 'race');
    // Two sockets per user.
    const sockets: RawSocket[] = [];
    for (const u of users) for (let d = 0; d < 2; d++) sockets.push(await RawSocket.open(server.url, u.apiKey));

    const PER_SOCKET = 10;
    const sends = sockets.flatMap((s, si) =>
      Array.from({ length: PER_SOCKET }, (_, k) =>
        s.request('send', { conversationId: conv, clientMsgId: `s${si}-${k}`, body: `socket ${si} #${k}` }),
      ),
    );
    // Some HTTP sends race with them too.
    const httpSends = users.map((u, ui) =>
      u
        .call('POST', `/v1/conversations/${conv}/messages`, { clientMsgId: `h${ui}`, body: `http ${ui}` })
        .then((r) => ({ ok: r.status === 201, result: r.body })),
    );
    const replies = await Promise.all([...sends, ...httpSends]);
    expect(replies.every((r) => r.ok)).toBe(true);
    const acked = replies.map((r: any) => r.result.message);
    const total = sockets.length * PER_SOCKET + users.length;
    expect(acked).toHaveLength(total);
    const seqs = acked.map((m) => m.seq);
    expect(new Set(seqs).size).toBe(total);
    expect(new Set(acked.map((m) => m.id)).size).toBe(total);
    const sorted = [...seqs].sort((a, b) => a - b);
    // Each socket's own sends were acknowledged in increasing seq, in request order.
    for (let si = 0; si < sockets.length; si++) {
      const mine = acked.slice(si * PER_SOCKET, (si + 1) * PER_SOCKET).map((m) => m.seq);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }

    for (const s of sockets) {
      await s.waitFor(() => s.events('message.created').length >= total, 10_000);
      const got = s
        .events('message.created')
        .filter((e) => e.conversationId === conv)
        .map((e) => e.message.seq);
      expect(got).toEqual(sorted);
    }

    const history = (await users[0]!.call('GET', `/v1/conversations/${conv}/messages?limit=200`)).body.messages;
    expect(history.map((m: any) => m.seq)).toEqual(sorted);
    const byId = new Map(acked.map((m) => [m.id, m]));
    for (const m of history) expect(m).toEqual(byId.get(m.id));
    for (const s of sockets) s.close();
  });
});

// The client when its session ends: elsewhere (socket 4401 after ready, or an HTTP 401) or by signOut().
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ScriptedPeer, until } from '../test/scripted-peer.js';
import { MessengerClient, type ClientState, type UnauthenticatedEvent } from './client.js';

let peer: ScriptedPeer;
const clients: MessengerClient[] = [];

beforeEach(async () => {
  peer = await new ScriptedPeer().start();
  peer.keys.set('token-u1', 'u1');
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await peer.stop();
});

function client(token = 'token-u1'): { c: MessengerClient; refused: UnauthenticatedEvent[]; states: ClientState[] } {
  const c = new MessengerClient({
    baseUrl: peer.baseUrl,
    token,
    WebSocket,
    reconnect: { minDelayMs: 10, maxDelayMs: 40 },
  });
  clients.push(c);
  const refused: UnauthenticatedEvent[] = [];
  const states: ClientState[] = [];
  c.on('unauthenticated', (e) => refused.push(e));
  c.on('state', (s) => states.push(s));
  return { c, refused, states };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('MessengerClient sessions', () => {
  it('authenticates the socket and HTTP with the session token', async () => {
    const { c } = client();
    await c.connect();
    expect(peer.frames[0]).toEqual({ type: 'auth', token: 'token-u1' });
    // The peer answers 401 to any other Bearer credential.
    await expect(c.api.listConversations()).resolves.toMatchObject({ conversations: [] });
  });

  it('emits unauthenticated once and stops reconnecting when the session is ended elsewhere (4401 after ready)', async () => {
    const { c, refused, states } = client();
    await c.connect();
    const sending = c.send('c1', 'after the end', { clientMsgId: 'late' }).catch((e: unknown) => e);
    peer.onSend = () => 'ignore';
    peer.revoke('token-u1');
    await until(() => refused.length === 1);
    expect(refused[0]).toMatchObject({ source: 'socket', wasAccepted: true, error: { code: 'unauthenticated' } });
    expect(c.state).toBe('closed');
    expect(states.at(-1)).toBe('closed');
    expect(await sending).toMatchObject({ code: 'unauthenticated' });
    await pause(150);
    expect(peer.connections).toBe(1);
    expect(refused).toHaveLength(1);
    // A later connect() cannot help with the same credential.
    await expect(c.connect()).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(peer.connections).toBe(1);
  });

  it('emits unauthenticated on an HTTP 401 and closes the socket for good', async () => {
    const { c, refused } = client();
    await c.connect();
    peer.keys.delete('token-u1');
    await expect(c.api.me()).rejects.toMatchObject({ code: 'unauthenticated', status: 401 });
    expect(refused).toMatchObject([{ source: 'http', wasAccepted: true }]);
    expect(c.state).toBe('closed');
    await until(() => peer.openSockets === 0);
    await pause(150);
    expect(peer.connections).toBe(1);
  });

  it('a token refused from the start rejects connect() and says it was never accepted', async () => {
    const { c, refused } = client('nobody');
    await expect(c.connect()).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(refused).toMatchObject([{ source: 'socket', wasAccepted: false }]);
  });

  it('signOut() ends the session on the server and closes, without an unauthenticated event', async () => {
    const { c, refused } = client();
    await c.connect();
    await c.signOut();
    expect(c.state).toBe('closed');
    expect(peer.keys.has('token-u1')).toBe(false);
    await pause(100);
    expect(refused).toEqual([]);
    expect(peer.connections).toBe(1);
  });

  it('signOut() closes the client even when the server cannot be reached, and rejects', async () => {
    const { c, refused } = client();
    await c.connect();
    await peer.stop();
    await expect(c.signOut()).rejects.toMatchObject({ code: 'unavailable' });
    expect(c.state).toBe('closed');
    expect(refused).toEqual([]);
    peer = await new ScriptedPeer().start();
  });
});

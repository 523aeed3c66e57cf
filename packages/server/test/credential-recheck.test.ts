// A credential that ends without its revocation broadcast (lost in transit, or a session that
// expired) still closes its sockets, on every gateway, within 5 s: each gateway re-checks the
// credentials of its open sockets every few seconds. Here the store is written directly, so no
// broadcast is ever sent.
import { CLOSE_CODES } from '@messenger/protocol';
import { expect, it } from 'vitest';
import { http, RawSocket, serverForFile, uniqueName } from './harness.js';

const server = serverForFile();

it('closes the sockets of a session ended behind the broadcast within 5 s; others stay', async () => {
  const username = uniqueName('rc');
  const up = await http(server.url)('POST', '/v1/users', { username, password: 'correct horse battery' });
  expect(up.status).toBe(201);
  const other = await http(server.url)('POST', '/v1/sessions', {
    username,
    password: 'correct horse battery',
    deviceName: 'phone',
  });
  const ended = await Promise.all(server.urls.map((url) => RawSocket.open(url, up.body.token)));
  const kept = await RawSocket.open(server.urls.at(-1)!, other.body.token);
  const at = Date.now();
  expect(await server.backend.credentials.deleteSession(up.body.user.id, up.body.session.id)).toBe(true);
  for (const socket of ended) expect(await socket.waitClosed(5_000)).toBe(CLOSE_CODES.unauthenticated);
  expect(Date.now() - at).toBeLessThan(5_000);
  expect(kept.closeCode).toBeNull();
  expect((await kept.request('ping')).ok).toBe(true);
  kept.close();
});

// A session that expires while its socket is open (the socket's own use does not extend it) closes
// that socket within one re-check round of the expiry, on every gateway; a key's socket stays.
// Sessions here last 4 s without use (SESSION_IDLE_DAYS is fractional only through the config).
import { CLOSE_CODES } from '@messenger/protocol';
import { expect, it } from 'vitest';
import { http, RawSocket, serverForFile, uniqueName } from './harness.js';

const IDLE_MS = 4_000;
const server = serverForFile({ sessionIdleDays: IDLE_MS / 86_400_000 });

it('closes the sockets of a session that expired, within 5 s of its expiry; a key stays', async () => {
  const username = uniqueName('ex');
  const up = await http(server.url)('POST', '/v1/users', { username, password: 'correct horse battery' });
  expect(up.status).toBe(201);
  const expiresAt = Date.parse(up.body.session.expiresAt);
  expect(expiresAt - Date.now()).toBeLessThanOrEqual(IDLE_MS);
  const key = await http(server.url, up.body.token)('POST', '/v1/me/api-keys', { name: 'bot' });
  expect(key.status).toBe(201);
  const expiring = await Promise.all(server.urls.map((url) => RawSocket.open(url, up.body.token)));
  const kept = await RawSocket.open(server.urls.at(-1)!, key.body.key);
  for (const socket of expiring) expect(await socket.waitClosed(IDLE_MS + 5_000)).toBe(CLOSE_CODES.unauthenticated);
  expect(Date.now() - expiresAt).toBeLessThan(5_000);
  expect(kept.closeCode).toBeNull();
  expect((await kept.request('ping')).ok).toBe(true);
  kept.close();
});

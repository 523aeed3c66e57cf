// People search: by username or display-name prefix, one page at most, rate-limited per user; the
// undiscoverable, the suspended, the deleted and whoever blocked the caller are left out. Both modes.
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, serverForFile, signUp, signUpMany, type TestUser, uniqueName } from './harness.js';

const OPERATOR = uniqueName('op');
const server = serverForFile({ adminUsernames: [OPERATOR] }, { RATE_LIMIT_SEARCHES: '6' });
let operator: TestUser;
beforeAll(async () => {
  operator = await signUp(server.url, OPERATOR);
});

const found = async (caller: TestUser, q: string, limit?: number) => {
  const res = await caller.call('GET', `/v1/users/search?q=${encodeURIComponent(q)}${limit ? `&limit=${limit}` : ''}`);
  expect(res.status).toBe(200);
  return (res.body.users as { username: string }[]).map((u) => u.username);
};

describe('people search', () => {
  it('finds by username or display-name prefix, case-insensitively, one page at most', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const caller = await signUp(server.url);
    const ann = await signUp(server.url, `ann_${tag}`, `Zed ${tag}`);
    const amy = await signUp(server.url, `amy_${tag}`);
    expect(await found(caller, `ANN_${tag}`)).toEqual([ann.username]);
    expect(await found(caller, `zed ${tag}`)).toEqual([ann.username]);
    expect(await found(caller, `nn_${tag}`)).toEqual([]);
    const many = await Promise.all(Array.from({ length: 22 }, (_, i) => signUp(server.url, `p${tag}_${i}`)));
    expect(await found(caller, `p${tag}`, 20)).toHaveLength(20);
    expect(await found(caller, `p${tag}`)).toHaveLength(10);
    expectError(await caller.call('GET', `/v1/users/search?q=p${tag}&limit=21`), 400, 'invalid_request');
    expectError(await amy.call('GET', '/v1/users/search?q='), 400, 'invalid_request');
    expect(many).toHaveLength(22);
  });

  it('leaves out the undiscoverable, whoever blocked the caller, the suspended and the deleted', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const caller = await signUp(server.url);
    const [hid, blocker, bad, gone] = await Promise.all(
      ['hid', 'blocker', 'bad', 'gone'].map((n) => signUp(server.url, `${n}_${tag}`, `Q${tag} ${n}`)),
    );
    expect((await found(caller, `q${tag}`)).sort()).toEqual(
      [bad!, blocker!, gone!, hid!].map((u) => u.username).sort(),
    );

    const off = await hid!.call('PUT', '/v1/me/settings', { discoverable: false });
    expect(off.body).toEqual({ settings: { discoverable: false } });
    expect((await blocker!.call('PUT', `/v1/blocks/${caller.id}`)).status).toBe(204);
    expect((await operator.call('POST', `/v1/admin/users/${bad!.id}/suspend`, { reason: 'spam' })).status).toBe(204);
    expect((await gone!.call('DELETE', '/v1/me', {})).status).toBe(204);
    expect(await found(caller, `q${tag}`)).toEqual([]);
    // The blocker still finds the caller: a block hides you from those you blocked, not the reverse.
    expect(await found(blocker!, caller.username)).toEqual([caller.username]);

    await hid!.call('PUT', '/v1/me/settings', { discoverable: true, presenceVisible: true });
    expect(await found(caller, `q${tag}`)).toEqual([hid!.username]);
  });

  it('is rate-limited per user', async () => {
    const [a, b] = await signUpMany(server, 2);
    for (let i = 0; i < 6; i++) await found(a, 'x');
    const res = await a.call('GET', '/v1/users/search?q=x');
    expectError(res, 429, 'rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await found(b, 'x')).toEqual([]);
  });
});

describe('GET /v1/me', () => {
  it('tells an operator from everyone else', async () => {
    const someone = await signUp(server.url);
    expect((await someone.call('GET', '/v1/me')).body).toMatchObject({ user: { id: someone.id }, operator: false });
    expect((await operator.call('GET', '/v1/me')).body).toMatchObject({ user: { id: operator.id }, operator: true });
  });

  it('refuses a settings body with neither setting', async () => {
    const someone = await signUp(server.url);
    expectError(await someone.call('PUT', '/v1/me/settings', {}), 400, 'invalid_request');
  });
});

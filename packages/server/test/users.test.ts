// Users: sign-up, username rules, lookup, authentication on every route, sign-up rate limit, key storage.
import path from 'node:path';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CLUSTER,
  expectError,
  http,
  serverForFile,
  signUp,
  signUpMany,
  startTestServer,
  storedRows,
  uniqueName,
} from './harness.js';

const server = serverForFile();

describe('sign-up', () => {
  it('answers 201 with the user and a one-time API key', async () => {
    const username = uniqueName('ann');
    const res = await http(server.url)('POST', '/v1/users', { username, displayName: 'Ann Example' });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['apiKey', 'user']);
    expect(res.body.user).toEqual({
      id: expect.any(String),
      username,
      displayName: 'Ann Example',
      createdAt: expect.any(String),
      avatarUrl: null,
    });
    expect(new Date(res.body.user.createdAt).toISOString()).toBe(res.body.user.createdAt);
    expect(res.body.apiKey).toMatch(/^\S{20,}$/);
  });

  it('defaults displayName to the username', async () => {
    const username = uniqueName('bob');
    const res = await http(server.url)('POST', '/v1/users', { username });
    expect(res.status).toBe(201);
    expect(res.body.user.displayName).toBe(username);
  });

  it('enforces the username rules with 400 invalid_request', async () => {
    const call = http(server.url);
    for (const username of ['ab', 'a'.repeat(33), 'Upper', 'has space', 'dash-name', 'émile', '', 42, null]) {
      expectError(await call('POST', '/v1/users', { username }), 400, 'invalid_request');
    }
    expectError(await call('POST', '/v1/users', {}), 400, 'invalid_request');
    expectError(
      await call('POST', '/v1/users', { username: uniqueName('x'), displayName: 'd'.repeat(65) }),
      400,
      'invalid_request',
    );
    // The edges are allowed.
    expect((await call('POST', '/v1/users', { username: `abc${Math.random().toString(36).slice(2, 4)}` })).status).toBe(
      201,
    );
    expect((await call('POST', '/v1/users', { username: `a.b_9${'z'.repeat(27)}` })).status).toBe(201);
  });

  it('refuses a taken username with 409 conflict', async () => {
    const username = uniqueName('dup');
    expect((await http(server.url)('POST', '/v1/users', { username })).status).toBe(201);
    expectError(await http(server.url)('POST', '/v1/users', { username }), 409, 'conflict');
  });
});

describe('me and lookup', () => {
  it('GET /v1/me returns the caller', async () => {
    const ann = await signUp(server.url, uniqueName('me'), 'Me Myself');
    const res = await ann.call('GET', '/v1/me');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: {
        id: ann.id,
        username: ann.username,
        displayName: 'Me Myself',
        createdAt: expect.any(String),
        avatarUrl: null,
      },
      // Not named in ADMIN_USERNAMES.
      operator: false,
    });
  });

  it('looks users up by username, 404 for an unknown one', async () => {
    const [ann, bob] = await signUpMany(server, 2);
    const res = await ann.call('GET', `/v1/users?username=${bob.username}`);
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(bob.id);
    expect(res.body.user.username).toBe(bob.username);
    expectError(await ann.call('GET', '/v1/users?username=nobody_here_at_all'), 404, 'not_found');
    expectError(await ann.call('GET', '/v1/users'), 400, 'invalid_request');
  });
});

describe('authentication', () => {
  const routes: [string, string, unknown?][] = [
    ['GET', '/v1/me'],
    ['GET', '/v1/users?username=someone'],
    ['PUT', '/v1/me/settings', { presenceVisible: true }],
    ['POST', '/v1/conversations', { memberIds: ['u_x'] }],
    ['GET', '/v1/conversations'],
    ['GET', '/v1/conversations/c_x'],
    ['POST', '/v1/conversations/c_x/members', { userIds: ['u_x'] }],
    ['DELETE', '/v1/conversations/c_x/members/me'],
    ['PUT', '/v1/conversations/c_x/settings', { muted: true }],
    ['POST', '/v1/conversations/c_x/messages', { clientMsgId: 'a', body: 'b' }],
    ['GET', '/v1/conversations/c_x/messages'],
    ['PATCH', '/v1/conversations/c_x/messages/m_x', { body: 'b' }],
    ['DELETE', '/v1/conversations/c_x/messages/m_x?for=everyone'],
    ['DELETE', '/v1/conversations/c_x/messages/m_x?for=me'],
    ['PUT', '/v1/conversations/c_x/messages/m_x/reaction', { emoji: '👍' }],
    ['DELETE', '/v1/conversations/c_x/messages/m_x/reaction'],
    ['POST', '/v1/conversations/c_x/read', { seq: 1 }],
    ['POST', '/v1/conversations/c_x/typing'],
    ['GET', '/v1/presence?userIds=u_x'],
    ['GET', '/v1/search?q=hello'],
  ];

  it('answers 401 unauthenticated without a key, with a wrong key and with a malformed header on every route', async () => {
    const anonymous = http(server.url);
    const wrong = http(server.url, 'mk_not_a_real_key');
    for (const [method, url, body] of routes) {
      expectError(await anonymous(method, url, body), 401, 'unauthenticated');
      expectError(await wrong(method, url, body), 401, 'unauthenticated');
      expectError(await anonymous(method, url, body, { authorization: 'Basic abc' }), 401, 'unauthenticated');
    }
  });

  it('accepts the key it issued', async () => {
    const ann = await signUp(server.url);
    expect((await ann.call('GET', '/v1/me')).status).toBe(200);
  });
});

describe('API key storage', () => {
  it('keeps only the SHA-256 of each key', async () => {
    const ann = await signUp(server.url);
    // The embedded SQLite file, or the cluster's PostgreSQL schema.
    const db = CLUSTER
      ? null
      : new Database(path.join(server.dataDir, 'messenger.db'), { readonly: true, fileMustExist: true });
    const all = db ? null : await storedRows(server);
    try {
      const rows = (db ? db.prepare('SELECT * FROM api_keys').all() : all!.api_keys!) as Record<string, unknown>[];
      expect(rows.length).toBeGreaterThan(0);
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain(ann.apiKey);
      const hash = createHash('sha256').update(ann.apiKey).digest('hex');
      const mine = rows.filter((r) => r.user_id === ann.id);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.key_hash).toBe(hash);
      // Nowhere else in the database either.
      if (db) {
        const tables = db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%'")
          .all() as { name: string }[];
        for (const { name } of tables)
          expect(JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())).not.toContain(ann.apiKey);
      } else {
        for (const [name, tableRows] of Object.entries(all!))
          expect(JSON.stringify(tableRows), name).not.toContain(ann.apiKey);
      }
    } finally {
      db?.close();
    }
  });
});

describe('sign-up rate limit', () => {
  it('allows RATE_LIMIT_SIGNUPS per IP, then 429 with Retry-After', async () => {
    const limited = await startTestServer({}, { RATE_LIMIT_SIGNUPS: '2' });
    try {
      const call = http(limited.url);
      expect((await call('POST', '/v1/users', { username: uniqueName('r') })).status).toBe(201);
      expect((await call('POST', '/v1/users', { username: uniqueName('r') })).status).toBe(201);
      const third = await call('POST', '/v1/users', { username: uniqueName('r') });
      expectError(third, 429, 'rate_limited');
      const retryAfter = Number(third.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    } finally {
      await limited.close();
    }
  });
});

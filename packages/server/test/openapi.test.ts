// docs/openapi.yaml against the server as built: a valid OpenAPI 3.1 document whose (method, path)
// pairs are exactly the routes the server registers, whose security matches what the server
// enforces, and whose examples and answer schemas match real answers.
import fs from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { http, serverForFile, signUp, type TestUser } from './harness.js';

// Every route the real server registers, seen through Fastify's onRoute hook.
const registered = vi.hoisted(() => [] as { method: string; url: string }[]);
vi.mock('fastify', async (importOriginal) => {
  const mod = await importOriginal<typeof import('fastify')>();
  const create = ((opts: Parameters<typeof mod.default>[0]) => {
    const app = mod.default(opts);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat())
        registered.push({ method: String(method).toLowerCase(), url: route.url });
    });
    return app;
  }) as typeof mod.default;
  return { ...mod, default: create };
});

type Json = any;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;
const specPath = new URL('../../../docs/openapi.yaml', import.meta.url);
const spec: Json = parse(fs.readFileSync(specPath, 'utf8'));

function operations(): { method: string; path: string; op: Json }[] {
  return Object.entries<Json>(spec.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
  );
}

function resolve(ref: string): Json {
  if (!ref.startsWith('#/')) throw new Error(`non-local $ref ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<Json>((node, key) => (node === undefined || node === null ? undefined : node[key]), spec);
}

function refsIn(node: Json, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(node)) return node.flatMap((v, i) => refsIn(v, `${at}/${i}`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' ? [{ ref: v, at }] : refsIn(v, `${at}/${k}`),
  );
}

const deref = (node: Json): Json => (node && typeof node.$ref === 'string' ? deref(resolve(node.$ref)) : node);

/** A small JSON Schema check for the keywords this document uses; returns the problems found. */
function validate(schema: Json, value: unknown, where = '$'): string[] {
  schema = deref(schema);
  if (schema === undefined || schema === true) return [];
  const errors: string[] = [];
  if (schema.oneOf) {
    const passing = schema.oneOf.filter((s: Json) => validate(s, value, where).length === 0).length;
    if (passing !== 1) errors.push(`${where}: matches ${passing} of oneOf`);
  }
  if ('const' in schema && value !== schema.const) errors.push(`${where}: not ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${where}: ${JSON.stringify(value)} not in enum`);
  if (schema.type) {
    const types: string[] = [schema.type].flat();
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    const ok = types.some((t) => t === actual || (t === 'integer' && Number.isInteger(value)));
    if (!ok) return [...errors, `${where}: ${actual} is not ${types.join('|')}`];
  }
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value))
      errors.push(`${where}: does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${where}: too short`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${where}: too long`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${where}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${where}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${where}: too few items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${where}: too many items`);
    value.forEach((item, i) => {
      const itemSchema = schema.prefixItems?.[i] ?? schema.items;
      if (itemSchema) errors.push(...validate(itemSchema, item, `${where}[${i}]`));
    });
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in obj)) errors.push(`${where}: missing ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      if (schema.properties?.[key]) errors.push(...validate(schema.properties[key], v, `${where}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${where}: unexpected ${key}`);
      else if (typeof schema.additionalProperties === 'object')
        errors.push(...validate(schema.additionalProperties, v, `${where}.${key}`));
    }
  }
  return errors;
}

function operation(method: string, path: string): Json {
  const op = spec.paths?.[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  return op;
}

function responseSchema(method: string, path: string, status: number): Json {
  const response = deref(operation(method, path).responses?.[String(status)]);
  if (!response) throw new Error(`${method.toUpperCase()} ${path} does not document ${status}`);
  return response.content?.['application/json']?.schema;
}

function requestExample(method: string, path: string): Json {
  return deref(operation(method, path).requestBody).content['application/json'].example;
}

/** Asserts a live answer is documented for its operation and matches the documented schema. */
function expectDocumented(method: string, path: string, answer: { status: number; body: unknown }): void {
  expect(
    validate(responseSchema(method, path, answer.status), answer.body),
    `${method} ${path} ${answer.status} ${JSON.stringify(answer.body)}`,
  ).toEqual([]);
}

describe('docs/openapi.yaml is a valid OpenAPI 3.1 document', () => {
  it('declares OpenAPI 3.1.x with info and paths', () => {
    expect(String(spec.openapi)).toMatch(/^3\.1\.\d+$/);
    expect(typeof spec.info?.title).toBe('string');
    expect(typeof spec.info?.version).toBe('string');
    expect(Object.keys(spec.paths ?? {}).length).toBeGreaterThan(0);
  });

  it('resolves every $ref', () => {
    const refs = refsIn(spec);
    expect(refs.length).toBeGreaterThan(0);
    const broken = refs.filter(({ ref }) => resolve(ref) === undefined);
    expect(broken).toEqual([]);
  });

  it('has the component schemas and a bearer security scheme', () => {
    for (const name of [
      'User',
      'Message',
      'Reaction',
      'Conversation',
      'Member',
      'PresenceInfo',
      'SearchResult',
      'Error',
    ]) {
      expect(spec.components?.schemas?.[name], name).toBeTypeOf('object');
    }
    const schemes = Object.values<Json>(spec.components?.securitySchemes ?? {});
    expect(schemes.some((s) => s.type === 'http' && s.scheme === 'bearer')).toBe(true);
  });

  it('gives every operation responses, a unique operationId, and its path parameters', () => {
    const ids = new Set<string>();
    for (const { method, path, op } of operations()) {
      const label = `${method.toUpperCase()} ${path}`;
      expect(Object.keys(op.responses ?? {}).length, label).toBeGreaterThan(0);
      expect(typeof op.operationId, label).toBe('string');
      expect(ids.has(op.operationId), `duplicate operationId ${op.operationId}`).toBe(false);
      ids.add(op.operationId);
      const params = [...(spec.paths[path].parameters ?? []), ...(op.parameters ?? [])].map(deref);
      const declared = params
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      expect(declared, label).toEqual(inPath);
      for (const p of params.filter((p) => p.in === 'path')) expect(p.required, `${label} ${p.name}`).toBe(true);
    }
  });

  it('answers every error status with the Error schema', () => {
    for (const { method, path, op } of operations()) {
      for (const [status, raw] of Object.entries<Json>(op.responses)) {
        if (Number(status) < 400 || path === '/readyz') continue;
        const schema = deref(raw).content?.['application/json']?.schema;
        expect(schema?.$ref, `${method.toUpperCase()} ${path} ${status}`).toBe('#/components/schemas/Error');
      }
    }
  });
});

describe('docs/openapi.yaml matches the running server', () => {
  const server = serverForFile();

  it('documents exactly the routes the server registers (and nothing else)', () => {
    const live = new Set(
      registered
        .filter((r) => r.method !== 'head' && r.url !== '/v1/*')
        .map((r) => `${r.method.toUpperCase()} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`),
    );
    // The hook saw the server being built: the routes are real, not an empty list.
    expect(live.has('POST /v1/users')).toBe(true);
    const documented = new Set(operations().map(({ method, path }) => `${method.toUpperCase()} ${path}`));
    expect([...live].filter((r) => !documented.has(r)).sort(), 'registered but not documented').toEqual([]);
    expect([...documented].filter((r) => !live.has(r)).sort(), 'documented but not registered').toEqual([]);
  });

  it('documents every app.<method>(path) call in src/http (a guard for the route hook)', () => {
    const httpDir = new URL('../src/http/', import.meta.url);
    const source = fs
      .readdirSync(httpDir)
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .map((file) => fs.readFileSync(new URL(file, httpDir), 'utf8'))
      .join('\n');
    const parsed = [...source.matchAll(/\bapp\.(get|post|put|patch|delete)\(\s*'([^']+)'/g)].map(
      ([, method, path]) => `${method!.toUpperCase()} ${path!.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`,
    );
    const documented = new Set(operations().map(({ method, path }) => `${method.toUpperCase()} ${path}`));
    expect(parsed.filter((r) => !documented.has(r))).toEqual([]);
  });

  it('requires the bearer key exactly where it documents it', async () => {
    const anonymous = http(server.url);
    for (const { method, path, op } of operations()) {
      const open = Array.isArray(op.security) && op.security.length === 0;
      const url = path.replace(/\{[^}]+\}/g, 'x_1');
      const res = await anonymous(method.toUpperCase(), url);
      if (open) expect(res.status, `${method} ${path}`).not.toBe(401);
      else {
        expect(res.status, `${method} ${path}`).toBe(401);
        expectDocumented(method, path, res);
      }
    }
  });

  it('accepts the documented example bodies and answers in the documented shapes', async () => {
    const anonymous = http(server.url);
    const signup = await anonymous('POST', '/v1/users', requestExample('post', '/v1/users'));
    expect(signup.status).toBe(201);
    expectDocumented('post', '/v1/users', signup);
    const alice: TestUser = {
      id: signup.body.user.id,
      username: signup.body.user.username,
      apiKey: signup.body.apiKey,
      call: http(server.url, signup.body.apiKey),
    };
    const bob = await signUp(server.url);

    expectDocumented('get', '/v1/me', await alice.call('GET', '/v1/me'));
    expectDocumented('get', '/v1/users', await alice.call('GET', `/v1/users?username=${bob.username}`));

    const settings = await alice.call('PUT', '/v1/me/settings', requestExample('put', '/v1/me/settings'));
    expect(settings.status).toBe(200);
    expectDocumented('put', '/v1/me/settings', settings);

    const created = await alice.call('POST', '/v1/conversations', {
      ...requestExample('post', '/v1/conversations'),
      memberIds: [bob.id],
    });
    expect(created.status).toBe(201);
    expectDocumented('post', '/v1/conversations', created);
    const again = await alice.call('POST', '/v1/conversations', { memberIds: [bob.id] });
    expect(again.status).toBe(200);
    expect(again.body.conversation.id).toBe(created.body.conversation.id);
    const conv = created.body.conversation.id as string;
    // A chat opened by a stranger is a request for Bob, whose messages search leaves out until accepted.
    const accepted = await bob.call('POST', `/v1/conversations/${conv}/accept`);
    expectDocumented('post', '/v1/conversations/{id}/accept', accepted);

    const messages = `/v1/conversations/{id}/messages`;
    const sendExample = requestExample('post', messages);
    const sent = await alice.call('POST', `/v1/conversations/${conv}/messages`, sendExample);
    expect(sent.status).toBe(201);
    expectDocumented('post', messages, sent);
    const resent = await alice.call('POST', `/v1/conversations/${conv}/messages`, sendExample);
    expect(resent.status).toBe(200);
    expect(resent.body.message).toMatchObject({ id: sent.body.message.id, seq: sent.body.message.seq });
    const msgPath = `/v1/conversations/${conv}/messages/${sent.body.message.id}`;

    const reacted = await bob.call(
      'PUT',
      `${msgPath}/reaction`,
      requestExample('put', `${messages}/{messageId}/reaction`),
    );
    expect(reacted.status).toBe(200);
    expectDocumented('put', `${messages}/{messageId}/reaction`, reacted);
    const edited = await alice.call('PATCH', msgPath, requestExample('patch', `${messages}/{messageId}`));
    expect(edited.status).toBe(200);
    expectDocumented('patch', `${messages}/{messageId}`, edited);

    expectDocumented('get', messages, await bob.call('GET', `/v1/conversations/${conv}/messages?afterSeq=0`));
    expectDocumented('get', '/v1/conversations', await bob.call('GET', '/v1/conversations?limit=10'));
    expectDocumented('get', '/v1/conversations/{id}', await bob.call('GET', `/v1/conversations/${conv}`));
    expect(
      (await bob.call('POST', `/v1/conversations/${conv}/read`, requestExample('post', '/v1/conversations/{id}/read')))
        .status,
    ).toBe(204);
    const muted = await bob.call(
      'PUT',
      `/v1/conversations/${conv}/settings`,
      requestExample('put', '/v1/conversations/{id}/settings'),
    );
    expectDocumented('put', '/v1/conversations/{id}/settings', muted);

    const search = await bob.call('GET', '/v1/search?q=hello');
    expectDocumented('get', '/v1/search', search);
    expect(search.body.results.length).toBeGreaterThan(0);
    expectDocumented('get', '/v1/presence', await bob.call('GET', `/v1/presence?userIds=${alice.id}`));

    expectDocumented('get', '/v1/push/vapid-public-key', await bob.call('GET', '/v1/push/vapid-public-key'));
    const pushExample = requestExample('post', '/v1/push/subscriptions');
    expect((await bob.call('POST', '/v1/push/subscriptions', pushExample)).status).toBe(201);
    const unsubscribed = await bob.call(
      'DELETE',
      `/v1/push/subscriptions?endpoint=${encodeURIComponent(pushExample.endpoint)}`,
    );
    expect(unsubscribed.status).toBe(204);

    expectDocumented('get', '/healthz', await anonymous('GET', '/healthz'));
    const ready = await anonymous('GET', '/readyz');
    expect(validate(responseSchema('get', '/readyz', ready.status), ready.body)).toEqual([]);

    // Error answers follow the Error schema too.
    const taken = await anonymous('POST', '/v1/users', requestExample('post', '/v1/users'));
    expect(taken.status).toBe(409);
    expectDocumented('post', '/v1/users', taken);
    const forbidden = await bob.call('DELETE', `${msgPath}?for=everyone`);
    expect(forbidden.status).toBe(403);
    expectDocumented('delete', `${messages}/{messageId}`, forbidden);
  });
});

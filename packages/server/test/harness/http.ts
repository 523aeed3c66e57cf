// The HTTP side of a test client: a small fetch wrapper bound to a server and an API key, and the
// calls most tests start with (sign up, open a chat, send, page through history).
import type { Message } from '@messenger/protocol';
import { CLUSTER } from '../deployment.mjs';
import { storeCaughtUp } from './read-barrier.js';

export interface HttpAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * A tiny HTTP client bound to one server and, optionally, one API key. A request gets 20 s: a
 * server that never answers fails the test with that, not with the test's own timeout.
 */
export function http(baseUrl: string, apiKey?: string) {
  return async function call<T = any>(
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer<T>> {
    const init: RequestInit = {
      method,
      headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
    };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    if (CLUSTER) await storeCaughtUp(baseUrl);
    init.signal = AbortSignal.timeout(20_000);
    const res = await fetch(baseUrl + url, init);
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* keep the text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
}

let counter = 0;
export function uniqueName(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestUser {
  id: string;
  username: string;
  apiKey: string;
  call: ReturnType<typeof http>;
}

export function signUp(baseUrl: string, username = uniqueName(), displayName?: string): Promise<TestUser> {
  return register(baseUrl, { username, ...(displayName ? { displayName } : {}) });
}

/** Signs up with a password, as the apps do: the user holds a session, whose token is its `apiKey`. */
export function signUpWithPassword(
  baseUrl: string,
  password: string,
  username = uniqueName(),
  displayName?: string,
): Promise<TestUser> {
  return register(baseUrl, { username, password, ...(displayName ? { displayName } : {}) });
}

async function register(baseUrl: string, fields: { username: string; password?: string }): Promise<TestUser> {
  const res = await http(baseUrl)('POST', '/v1/users', fields);
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  const key: string = fields.password === undefined ? res.body.apiKey : res.body.token;
  return { id: res.body.user.id, username: fields.username, apiKey: key, call: http(baseUrl, key) };
}

export type Users<N extends number, T extends TestUser[] = []> = T['length'] extends N ? T : Users<N, [...T, TestUser]>;

/**
 * `count` users signed up one after another at `at`: a URL, or a server whose `url` is read for each
 * (in cluster mode the next gateway's), so the users are spread as separate signUp calls would be.
 */
export async function signUpMany<N extends number>(at: string | { readonly url: string }, count: N): Promise<Users<N>> {
  const users: TestUser[] = [];
  for (let i = 0; i < count; i++) users.push(await signUp(typeof at === 'string' ? at : at.url));
  return users as Users<N>;
}

/** The same user, calling another server (another gateway of the same deployment). */
export function via(user: TestUser, baseUrl: string): TestUser {
  return { ...user, call: http(baseUrl, user.apiKey) };
}

/**
 * The direct chat of two users who know each other: `b` accepts it (a chat opened by a stranger is
 * a message request until then). `requestStays` leaves it a request.
 */
export async function directChat(a: TestUser, b: TestUser, opts: { requestStays?: boolean } = {}): Promise<string> {
  const res = await a.call('POST', '/v1/conversations', { memberIds: [b.id] });
  const id = res.body.conversation.id;
  if (!opts.requestStays) await accept(b, id);
  return id;
}

/** A group whose members all accepted it (see directChat). */
export async function createGroup(creator: TestUser, members: TestUser[], title = 'group'): Promise<string> {
  const res = await creator.call('POST', '/v1/conversations', { memberIds: members.map((m) => m.id), title });
  if (res.status !== 201) throw new Error(`group failed: ${res.status} ${JSON.stringify(res.body)}`);
  const id = res.body.conversation.id;
  await Promise.all(members.map((m) => accept(m, id)));
  return id;
}

async function accept(user: TestUser, conversationId: string): Promise<void> {
  const res = await user.call('POST', `/v1/conversations/${conversationId}/accept`);
  if (res.status !== 200) throw new Error(`accept failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Sends over HTTP and returns the stored message; throws unless the answer is 201. */
export async function sendHttp(
  user: TestUser,
  conversationId: string,
  body: string,
  clientMsgId = uniqueName('c'),
): Promise<any> {
  const res = await user.call('POST', `/v1/conversations/${conversationId}/messages`, { clientMsgId, body });
  if (res.status !== 201) throw new Error(`send failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.message;
}

/** POSTs a file to /v1/uploads at `baseUrl` with `apiKey`: `type` is its Content-Type, `name` its X-Filename. */
export async function uploadFile(
  baseUrl: string,
  apiKey: string,
  body: Uint8Array | string,
  type: string,
  name: string,
): Promise<HttpAnswer> {
  const res = await fetch(`${baseUrl}/v1/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': type, 'x-filename': encodeURIComponent(name) },
    body,
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Every stored message of a conversation, paged with afterSeq as a syncing client does. */
export async function fullHistory(user: TestUser, conversationId: string): Promise<Message[]> {
  const all: Message[] = [];
  let after = 0;
  for (;;) {
    const res = await user.call('GET', `/v1/conversations/${conversationId}/messages?afterSeq=${after}&limit=200`);
    if (res.status !== 200) throw new Error(`history: ${res.status} ${JSON.stringify(res.body)}`);
    const page: Message[] = res.body.messages;
    if (page.length === 0) return all;
    all.push(...page);
    after = page.at(-1)!.seq;
  }
}

/** A request as a route table holds it: method, URL and, for most writes, a JSON body. */
export type Route = [method: string, url: string, body?: unknown];

/** Every route that takes a JSON body but the push ones, on the conversation `conv` and its message `msg`. */
export function bodyRoutes(conv: string, msg: string): Route[] {
  return [
    ['POST', '/v1/users'],
    ['PUT', '/v1/me/settings'],
    ['POST', '/v1/conversations'],
    ['POST', `/v1/conversations/${conv}/members`],
    ['PUT', `/v1/conversations/${conv}/settings`],
    ['POST', `/v1/conversations/${conv}/messages`],
    ['PATCH', `/v1/conversations/${conv}/messages/${msg}`],
    ['PUT', `/v1/conversations/${conv}/messages/${msg}/reaction`],
    ['POST', `/v1/conversations/${conv}/read`],
  ];
}

/** expectError() on the answer to `user` of each of `routes`, in turn; a failure names the route. */
export async function expectErrorOn(user: TestUser, routes: Route[], status: number, code: string): Promise<void> {
  for (const [method, url, body] of routes) {
    const res = await user.call(method, url, body);
    try {
      expectError(res, status, code);
    } catch (error) {
      throw new Error(`${method} ${url}: ${(error as Error).message}`);
    }
  }
}

/** Asserts the contract's error shape: exact status and code, a human message. */
export function expectError(res: HttpAnswer, status: number, code: string): void {
  if (res.status !== status || res.body?.error?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
  const keys = Object.keys(res.body).join(',');
  if (keys !== 'error' || typeof res.body.error.message !== 'string' || res.body.error.message.length === 0) {
    throw new Error(`not the contract's error body: ${JSON.stringify(res.body)}`);
  }
}

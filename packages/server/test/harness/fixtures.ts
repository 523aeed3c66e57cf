// The starting points most tests share, built from the HTTP and WebSocket clients: users who know
// each other and their direct chat, sockets opened for users, and the users a whole file shares.
import { beforeAll } from 'vitest';
import { directChat, signUpMany, type TestUser, type Users } from './http.js';
import { RawSocket } from './socket.js';

type Server = string | { readonly url: string };
const urlOf = (at: Server) => (typeof at === 'string' ? at : at.url);

/**
 * What a test of people who talk starts from: the id of an accepted direct chat, then the `count`
 * users (two unless told) signed up one after another at `at`; the first two are in the chat, any
 * others are strangers to it.
 */
export async function friends<N extends number = 2>(at: Server, count: N = 2 as N): Promise<[string, ...Users<N>]> {
  const users = await signUpMany(at, count);
  const [a, b] = users as TestUser[];
  return [await directChat(a!, b!), ...users];
}

/**
 * One authenticated RawSocket per user, opened one after another at `at` (a server's `url` is read
 * for each, so in cluster mode they alternate between the gateways, as separate opens would).
 */
export async function online<U extends TestUser[]>(at: Server, ...users: U): Promise<{ [K in keyof U]: RawSocket }> {
  const sockets: RawSocket[] = [];
  for (const user of users) sockets.push(await RawSocket.open(urlOf(at), user.apiKey));
  return sockets as { [K in keyof U]: RawSocket };
}

/**
 * `count` users that the file's tests share, signed up one after another at `at` (a server, or its
 * URL when called) before the first test: the objects are handed out now and filled in then, so a
 * file names its users once, as `const [ann, bob] = usersForFile(server, 2)`.
 */
export function usersForFile<N extends number>(at: { readonly url: string } | (() => string), count: N): Users<N> {
  const users = Array.from({ length: count }, () => ({}) as TestUser);
  beforeAll(async () => {
    const signedUp: TestUser[] = await signUpMany(typeof at === 'function' ? at() : at, count);
    for (const [i, user] of signedUp.entries()) Object.assign(users[i]!, user);
  });
  return users as Users<N>;
}

// The opening most fault tests share: users signed up, each with an SDK app connected to one of the
// private cluster's two gateways.
import { App } from '../harness/apps.js';
import { signUp, type TestUser, uniqueName } from '../harness/http.js';
import type { Cluster } from './cluster.js';

/** `count` users signed up on gateway 0 (named `prefix`1, 2, ...), their apps connected: even ones to gateway 0, odd ones to gateway 1. */
export async function connectedUsers(
  cluster: Cluster,
  count: number,
  prefix: string,
): Promise<{ users: TestUser[]; apps: App[] }> {
  const [g0, g1] = cluster.gateways;
  const users: TestUser[] = [];
  for (let i = 0; i < count; i++) users.push(await signUp(g0.url, uniqueName(prefix)));
  const apps = users.map((u, i) => new App(u, { baseUrl: (i % 2 === 0 ? g0 : g1).url }));
  await Promise.all(apps.map((a) => a.connect()));
  return { users, apps };
}

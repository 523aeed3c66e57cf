// The opening most fault tests share: users signed up, each with an SDK app connected to one of the
// private cluster's two gateways, in a group of them all, which has carried traffic before the fault.
import { expect } from 'vitest';
import { App, sendFromAll } from '../harness/apps.js';
import { settleAndCheck } from '../harness/checks.js';
import { createGroup, signUp, type TestUser, uniqueName } from '../harness/http.js';
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

/** connectedUsers() and `conv`, a group titled `title` that the first of them made with all the others. */
export async function connectedGroup(
  cluster: Cluster,
  count: number,
  prefix: string,
  title: string,
): Promise<{ users: TestUser[]; apps: App[]; conv: string }> {
  const { users, apps } = await connectedUsers(cluster, count, prefix);
  return { users, apps, conv: await createGroup(users[0]!, users.slice(1), title) };
}

/** Every app sends `count` messages to `conv` ('before' the fault), and within 15 s all is stored and delivered, once, in order. */
export async function settledBefore(users: TestUser[], apps: App[], conv: string, count: number): Promise<void> {
  await sendFromAll(apps, [conv], count, 20, 'before');
  expect(await settleAndCheck(users[0]!, [conv], apps, 15_000)).toEqual([]);
}

// The Routes contract: memory and Redis run this suite unchanged.
import { expect, it } from 'vitest';
import { describeFresh, uniqueName } from '../close-after-each.contract.js';
import type { Routes } from './routes.js';

export function routesContract(name: string, open: () => Promise<Routes>): void {
  describeFresh(`Routes contract: ${name}`, { open }, (fresh) => {
    const user = () => uniqueName('u');

    it('maps a user to every gateway holding one of their sockets', async () => {
      const routes = await fresh();
      const [u, v, w] = [user(), user(), user()];
      await routes.add(u, 'g1', 10_000);
      await routes.add(u, 'g2', 10_000);
      await routes.add(v, 'g1', 10_000);
      const found = await routes.lookup([u, v, w]);
      expect(found.get(u)!.sort()).toEqual(['g1', 'g2']);
      expect(found.get(v)).toEqual(['g1']);
      expect(found.has(w)).toBe(false);
      await routes.remove(u, 'g1');
      expect((await routes.lookup([u])).get(u)).toEqual(['g2']);
    });

    it('drops the routes of a gateway whose liveness lapsed or that said it is gone', async () => {
      const routes = await fresh();
      const u = user();
      const [dying, leaving, healthy] = [`gd_${u}`, `gl_${u}`, `gh_${u}`];
      for (const g of [dying, leaving, healthy]) {
        await routes.add(u, g, 10_000);
        await routes.markGatewayAlive(g, 10_000);
      }
      await routes.markGatewayAlive(dying, 300);
      await routes.markGatewayAlive(leaving, 0);
      await new Promise((r) => setTimeout(r, 450));
      expect((await routes.lookup([u])).get(u)).toEqual([healthy]);
    });

    it('says whether the registry already knew a gateway', async () => {
      const routes = await fresh();
      const g = `gk_${user()}`;
      expect(await routes.markGatewayAlive(g, 10_000)).toEqual({ known: false });
      expect(await routes.markGatewayAlive(g, 10_000)).toEqual({ known: true });
    });

    it('adds many users at once as add does for each, and refreshes their expiry', async () => {
      const routes = await fresh();
      const users = [user(), user(), user()];
      await routes.addMany(users, 'g1', 300);
      await routes.addMany([], 'g1', 300);
      expect([...(await routes.lookup(users)).values()]).toEqual([['g1'], ['g1'], ['g1']]);
      await new Promise((r) => setTimeout(r, 200));
      await routes.addMany(users.slice(1), 'g1', 10_000);
      await new Promise((r) => setTimeout(r, 250));
      const found = await routes.lookup(users);
      expect(found.has(users[0]!)).toBe(false);
      expect(found.get(users[2]!)).toEqual(['g1']);
    });

    it("removes many users' routes to one gateway at once, leaving their other gateways", async () => {
      const routes = await fresh();
      const users = [user(), user(), user()];
      await routes.addMany(users, 'g1', 10_000);
      await routes.add(users[0]!, 'g2', 10_000);
      await routes.removeMany([], 'g1');
      await routes.removeMany([users[0]!, users[1]!, user()], 'g1');
      const found = await routes.lookup(users);
      expect(found.get(users[0]!)).toEqual(['g2']);
      expect(found.has(users[1]!)).toBe(false);
      expect(found.get(users[2]!)).toEqual(['g1']);
    });

    it('drops a route that is not refreshed within its TTL', async () => {
      const routes = await fresh();
      const u = user();
      await routes.add(u, 'g1', 300);
      await new Promise((r) => setTimeout(r, 450));
      expect((await routes.lookup([u])).has(u)).toBe(false);
    });
  });
}

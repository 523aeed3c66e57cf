// The Presence contract: memory and Redis run this suite unchanged (real time, short TTLs).
import { expect, it } from 'vitest';
import { describeFresh, uniqueName } from '../close-after-each.contract.js';
import type { Presence } from './presence.js';

export function presenceContract(name: string, open: () => Promise<Presence>): void {
  describeFresh(`Presence contract: ${name}`, { open }, (fresh) => {
    const user = () => uniqueName('u');

    it('claims an announcement only when the status differs from the last one claimed', async () => {
      const p = await fresh();
      const u = user();
      expect(await p.claimAnnouncement(u, 'online')).toBe(true);
      expect(await p.claimAnnouncement(u, 'online')).toBe(false);
      expect(await p.claimAnnouncement(u, 'offline')).toBe(true);
      expect(await p.claimAnnouncement(u, 'online')).toBe(true);
      await p.clearAnnouncement(u);
      expect(await p.claimAnnouncement(u, 'online')).toBe(true);
      expect(await p.claimAnnouncement(user(), 'online')).toBe(true);
    });

    it('claims the combined presence of many users at once, only where it changed', async () => {
      const p = await fresh();
      const [a, b, c, d] = [user(), user(), user(), user()];
      await p.setDevices(
        [
          { userId: a, deviceId: 'd1', status: 'away' },
          { userId: a, deviceId: 'd2', status: 'online' },
          { userId: b, deviceId: 'd1', status: 'away' },
        ],
        10_000,
      );
      await p.setDevices([], 10_000);
      const at = new Date(Date.now() - 1000);
      await p.setDevice(c, 'd1', 'online', 10_000);
      await p.removeDevice(c, 'd1', at);
      const first = await p.claimAnnouncements([a, b, c, d]);
      expect(Object.fromEntries(first)).toEqual({
        [a]: { status: 'online', lastSeenAt: null },
        [b]: { status: 'away', lastSeenAt: null },
        [c]: { status: 'offline', lastSeenAt: at.toISOString() },
        [d]: { status: 'offline', lastSeenAt: null },
      });
      // Nothing changed: nothing to announce. Then b comes online and c was claimed by someone else.
      expect((await p.claimAnnouncements([a, b, c, d])).size).toBe(0);
      await p.setDevice(b, 'd2', 'online', 10_000);
      expect(await p.claimAnnouncement(c, 'hidden')).toBe(true);
      expect(Object.fromEntries(await p.claimAnnouncements([a, b, c]))).toEqual({
        [b]: { status: 'online', lastSeenAt: null },
        [c]: { status: 'offline', lastSeenAt: at.toISOString() },
      });
      expect(await p.claimAnnouncement(b, 'online')).toBe(false); // the batch claim is the same record
    });

    it('is offline with no last seen for an unknown user', async () => {
      const p = await fresh();
      const u = user();
      expect((await p.get([u])).get(u)).toEqual({ status: 'offline', lastSeenAt: null });
    });

    it('combines devices: online if any is online, away if all are away', async () => {
      const p = await fresh();
      const u = user();
      await p.setDevice(u, 'd1', 'away', 10_000);
      expect((await p.get([u])).get(u)!.status).toBe('away');
      await p.setDevice(u, 'd2', 'online', 10_000);
      expect((await p.get([u])).get(u)).toEqual({ status: 'online', lastSeenAt: null });
      await p.removeDevice(u, 'd2', new Date());
      expect((await p.get([u])).get(u)!.status).toBe('away');
    });

    it('goes offline with lastSeenAt when the last device leaves cleanly', async () => {
      const p = await fresh();
      const u = user();
      await p.setDevice(u, 'd1', 'online', 10_000);
      const at = new Date(Date.now() - 1000);
      await p.removeDevice(u, 'd1', at);
      expect((await p.get([u])).get(u)).toEqual({ status: 'offline', lastSeenAt: at.toISOString() });
    });

    it('removes many devices at once as removeDevice does for each', async () => {
      const p = await fresh();
      const [a, b, c] = [user(), user(), user()];
      await p.setDevices(
        [
          { userId: a, deviceId: 'd1', status: 'online' },
          { userId: b, deviceId: 'd1', status: 'online' },
          { userId: b, deviceId: 'd2', status: 'away' },
          { userId: c, deviceId: 'd1', status: 'online' },
        ],
        10_000,
      );
      const at = new Date(Date.now() - 1000);
      await p.removeDevices([], at);
      await p.removeDevices(
        [
          { userId: a, deviceId: 'd1' },
          { userId: b, deviceId: 'd1' },
          { userId: c, deviceId: 'd1' },
          { userId: c, deviceId: 'd9' },
        ],
        at,
      );
      expect(Object.fromEntries(await p.get([a, b, c]))).toEqual({
        [a]: { status: 'offline', lastSeenAt: at.toISOString() },
        [b]: { status: 'away', lastSeenAt: null },
        [c]: { status: 'offline', lastSeenAt: at.toISOString() },
      });
    });

    it('expires a device that stops refreshing', async () => {
      const p = await fresh();
      const u = user();
      await p.setDevice(u, 'd1', 'online', 300);
      expect((await p.get([u])).get(u)!.status).toBe('online');
      expect((await p.claimAnnouncements([u])).get(u)!.status).toBe('online');
      await new Promise((r) => setTimeout(r, 450));
      const info = (await p.get([u])).get(u)!;
      expect(info.status).toBe('offline');
      expect(info.lastSeenAt).not.toBeNull();
      expect((await p.claimAnnouncements([u])).get(u)).toEqual(info); // the expiry is the last seen
    });
  });
}

// The GatewayBus contract: in-process and NATS run this suite unchanged.
import { expect, it } from 'vitest';
import { describeFresh } from '../close-after-each.contract.js';
import type { Delivery, GatewayBus } from './gateway-bus.js';

export function gatewayBusContract(name: string, open: () => Promise<GatewayBus>): void {
  describeFresh(`GatewayBus contract: ${name}`, { open }, (fresh) => {
    const typing = (n: number): Delivery => ({
      userIds: ['u_1'],
      event: { type: 'typing', conversationId: `c_${n}`, userId: 'u_2' },
    });
    // What a gateway sees of a delivery: its users and its event. A bus that carries the event
    // encoded must carry exactly its JSON, since the gateway writes those bytes to sockets as they are.
    const seen = (d: Delivery) => {
      if (d.eventJson) expect(Buffer.from(d.eventJson).toString('utf8')).toBe(JSON.stringify(d.event));
      return { userIds: d.userIds, event: d.event };
    };
    const until = async (check: () => boolean) => {
      const deadline = Date.now() + 3000;
      while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    };

    it('delivers to the addressed gateway only, in publish order', async () => {
      const bus = await fresh();
      const g1: Delivery[] = [];
      const g2: Delivery[] = [];
      const gw1 = `g1_${Math.random()}`;
      const gw2 = `g2_${Math.random()}`;
      await bus.subscribe(gw1, (d) => g1.push(d));
      await bus.subscribe(gw2, (d) => g2.push(d));
      for (let i = 0; i < 20; i++) await bus.publish(gw1, [typing(i)]);
      await bus.publish(gw1, [typing(20), typing(21), typing(22)]);
      await bus.publish(gw1, []);
      await bus.publish(gw2, [typing(99)]);
      await until(() => g1.length === 23 && g2.length === 1);
      expect(g1.map((d) => (seen(d).event as { conversationId: string }).conversationId)).toEqual(
        Array.from({ length: 23 }, (_, i) => `c_${i}`),
      );
      expect(g2.map(seen)).toEqual([typing(99)]);
    });

    it('carries events whose text needs escaping, and several users, exactly', async () => {
      const bus = await fresh();
      const got: Delivery[] = [];
      const gw = `g_${Math.random()}`;
      await bus.subscribe(gw, (d) => got.push(d));
      const message = {
        id: 'm_1',
        conversationId: 'c_1',
        seq: 7,
        senderId: 'u_1',
        clientMsgId: 'x\n"y"',
        body: 'line one\nline two \u2028 "quoted" \\ café 東京 😀',
        createdAt: '2026-11-28T00:00:00.000Z',
        editedAt: null,
        deletedAt: null,
        replyToId: null,
        reactions: [],
        attachments: [],
      };
      const sent: Delivery[] = [
        { userIds: ['u_1', 'u_2', 'u_3'], event: { type: 'message.created', conversationId: 'c_1', message } },
        typing(1),
      ];
      await bus.publish(gw, sent);
      await until(() => got.length === 2);
      expect(got.map(seen)).toEqual(sent);
    });

    it('asks every subscribed gateway to resync, and stops asking after unsubscribe', async () => {
      const bus = await fresh();
      const asked: string[] = [];
      const a = await bus.subscribe(
        `ga_${Math.random()}`,
        () => {},
        () => asked.push('a'),
      );
      await bus.subscribe(
        `gb_${Math.random()}`,
        () => {},
        () => asked.push('b'),
      );
      await bus.requestResync();
      await until(() => asked.length === 2);
      expect(asked.sort()).toEqual(['a', 'b']);
      await a.stop();
      await bus.requestResync();
      await until(() => asked.length === 3);
      await new Promise((r) => setTimeout(r, 50));
      expect(asked.sort()).toEqual(['a', 'b', 'b']);
    });

    it('stops delivering after unsubscribe, and publishing to nobody is fine', async () => {
      const bus = await fresh();
      const got: Delivery[] = [];
      const gw = `g_${Math.random()}`;
      const sub = await bus.subscribe(gw, (d) => got.push(d));
      await sub.stop();
      await bus.publish(gw, [typing(1)]);
      await bus.publish('nobody', [typing(2)]);
      await new Promise((r) => setTimeout(r, 50));
      expect(got).toEqual([]);
    });
  });
}

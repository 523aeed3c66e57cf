// The gateway bus wire format without a network: round trips, splitting, malformed messages, numbering.
import type { ServerEvent } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../core/routing/gateway-bus.js';
import { bodyLimit, Counters, decodeBusMessage, encodeBodies, encodeBusMessage } from './bus-codec.js';

const typing = { type: 'typing', conversationId: 'c_1', userId: 'u_2' } as const;
const bytes = (text: string) => new TextEncoder().encode(text);
const header = { sender: 's1', n: 1 };
/** Every message of `deliveries` under `limit`, decoded again. */
const roundTrip = (deliveries: Delivery[], limit = bodyLimit(undefined)) =>
  [...encodeBodies(deliveries, limit)].map((body, i) =>
    decodeBusMessage(bytes(encodeBusMessage({ sender: 's1', n: i + 1 }, body))),
  );

describe('gateway bus codec', () => {
  it('writes a header line, then the user ids and the event JSON of each delivery on lines of their own', () => {
    const [body, ...rest] = encodeBodies([{ userIds: ['u_1'], event: typing }], 10_000);
    expect(rest).toEqual([]);
    expect(encodeBusMessage({ sender: 'ab12', n: 3 }, body!).split('\n')).toEqual([
      '{"bus":"ab12","n":3}',
      '["u_1"]',
      JSON.stringify(typing),
      '',
    ]);
  });

  it('carries the exact JSON bytes of events whose text needs escaping or is not ASCII', () => {
    const body = 'line one\nline two \u2028 "quoted" \\ café 東京 😀 \u0000';
    const event = { ...typing, conversationId: body } as ServerEvent;
    const [message] = roundTrip([
      { userIds: ['u_1', 'u_"2"', 'ü'], event },
      { userIds: [], event: typing },
    ]);
    expect(message!.header).toEqual(header);
    expect(message!.deliveries.map((d) => d.userIds)).toEqual([['u_1', 'u_"2"', 'ü'], []]);
    expect(Buffer.from(message!.deliveries[0]!.eventJson!).toString('utf8')).toBe(JSON.stringify(event));
    expect(message!.deliveries.map((d) => d.event)).toEqual([event, typing]);
  });

  it('splits deliveries over the byte limit into several bodies, in order, and a delivery too big alone by users', () => {
    const long = { ...typing, conversationId: 'é'.repeat(100) } as ServerEvent; // 200 bytes of UTF-8
    const users = Array.from({ length: 40 }, (_, i) => `u_${i}`);
    const deliveries: Delivery[] = [
      ...Array.from({ length: 5 }, (_, i) => ({ userIds: [`u_${i}`], event: long })),
      { userIds: users, event: typing },
    ];
    const limit = 600;
    const bodies = [...encodeBodies(deliveries, limit)];
    expect(bodies.length).toBeGreaterThan(2);
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(limit);
    const got = roundTrip(deliveries, limit).flatMap((m) => m.deliveries);
    expect(got.slice(0, 5).map((d) => [d.userIds, d.event])).toEqual(
      deliveries.slice(0, 5).map((d) => [d.userIds, long]),
    );
    expect(got.slice(5).flatMap((d) => d.userIds)).toEqual(users);
    expect(got.slice(5).every((d) => JSON.stringify(d.event) === JSON.stringify(typing))).toBe(true);
    // One user and still too big: nothing can carry it.
    expect(() => [...encodeBodies([{ userIds: ['u_1'], event: long }], 100)]).toThrow(/does not fit/);
    expect([...encodeBodies([], limit)]).toEqual([]);
  });

  it('leaves room under max_payload for the header', () => {
    expect(bodyLimit(undefined)).toBe(1024 * 1024 - 1024);
    expect(bodyLimit(8192)).toBe(8192 - 1024);
  });

  it('refuses malformed messages whole: a bad header, truncated, bad user ids', () => {
    const numbered = (n: unknown) => `${JSON.stringify({ bus: 's1', n })}\n`;
    expect(decodeBusMessage(bytes(`${numbered(9)}["u_1"]\n${JSON.stringify(typing)}\n`))).toMatchObject({
      header: { sender: 's1', n: 9 },
      deliveries: [{ userIds: ['u_1'] }],
    });
    expect(decodeBusMessage(bytes(numbered(1))).deliveries).toEqual([]);
    for (const bad of [
      numbered(0),
      numbered('1'),
      numbered(1.5),
      '{"bus":"","n":1}\n',
      '{"bus":"s1","n":1}',
      '',
      '[]\n',
    ])
      expect(() => decodeBusMessage(bytes(bad))).toThrow(/number/);
    expect(() => decodeBusMessage(bytes('not json\n'))).toThrow(SyntaxError);
    expect(() => decodeBusMessage(bytes(`${numbered(1)}["u_1"]\n${JSON.stringify(typing)}`))).toThrow(/truncated/);
    expect(() => decodeBusMessage(bytes(`${numbered(1)}["u_1"]`))).toThrow(/truncated/);
    expect(() => decodeBusMessage(bytes(`${numbered(1)}[1]\n${JSON.stringify(typing)}\n`))).toThrow(/user ids/);
    expect(() => decodeBusMessage(bytes(`${numbered(1)}{"u":1}\n${JSON.stringify(typing)}\n`))).toThrow(/user ids/);
  });

  it('finds skipped numbers per sender; a sender may be first heard of mid-count, or start again at 1', () => {
    const heard = new Counters();
    const skips = (
      [
        ['a', 1],
        ['a', 2],
        ['b', 7],
        ['a', 4],
        ['a', 5],
        ['b', 8],
        ['a', 1],
        ['a', 2],
      ] as const
    ).map(([sender, n]) => heard.skipped(sender, n));
    expect(skips).toEqual([false, false, false, true, false, false, false, false]);
    heard.forget('b');
    expect(heard.skipped('b', 12)).toBe(false);
    heard.clear();
    expect(heard.last('a')).toBe(0);
  });
});

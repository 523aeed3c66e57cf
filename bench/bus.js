// The gateway bus's cost per event, without a network: what a gateway does with one gw.<id> message
// of N message.created deliveries (each event's JSON copied into its WebSocket frame as bytes, and,
// for comparison, each event decoded and encoded again), and what the fan-out spends encoding it.
// Uses the server's own code from packages/server/dist (the bus codec, eventFrame, textFrame).
const dist = (p) => new URL(`../packages/server/dist/${p}`, import.meta.url).href;
const FILLER = 'the quick brown fox jumps over the lazy dog; le café est prêt à midi. 東京で会いましょう';

export async function busBench(opts = {}) {
  const { textFrame, eventFrame } = await import(dist('gateway/frames.js'));
  const { bodyLimit, decodeBusMessage, encodeBodies, encodeBusMessage } = await import(
    dist('adapters/nats/bus-codec.js')
  );
  const perMessage = opts.deliveries ?? 20;
  const rounds = opts.rounds ?? 20_000;
  const event = (i) => ({
    type: 'message.created',
    conversationId: 'c_01jx8k2m4n5p6q7r8s9t0v1w2x',
    message: {
      id: `m_01jx8k2m4n5p6q7r8s9t0v${i}`,
      conversationId: 'c_01jx8k2m4n5p6q7r8s9t0v1w2x',
      seq: 1000 + i,
      senderId: 'u_01jx8k2m4n5p6q7r8s9t0v1w2x',
      clientMsgId: `cm-${i}-abcdefgh`,
      body: `${Date.now()}.123 cm-${i}-abcdefgh ${FILLER}`,
      createdAt: new Date().toISOString(),
      editedAt: null,
      deletedAt: null,
      replyToId: null,
      reactions: [],
    },
  });
  const deliveries = Array.from({ length: perMessage }, (_, i) => ({
    userIds: ['u_01jx8k2m4n5p6q7r8s9t0v1w2x', 'u_01jx8k2m4n5p6q7r8s9t0v1w2y'],
    event: event(i),
  }));
  const limit = bodyLimit(undefined);
  const encode = () =>
    [...encodeBodies(deliveries, limit)].map((body) => encodeBusMessage({ sender: '0123456789ab', n: 42 }, body));
  const [wire, ...more] = encode().map((text) => new TextEncoder().encode(text));
  if (more.length > 0) throw new Error('the deliveries should fit in one bus message');
  let sink = 0;
  const cases = [
    [
      'gateway, event bytes copied into the frame',
      () => {
        for (const d of decodeBusMessage(wire).deliveries) sink += eventFrame(d.eventJson).length;
      },
    ],
    [
      'gateway, event decoded and encoded again',
      () => {
        for (const d of decodeBusMessage(wire).deliveries)
          sink += textFrame(JSON.stringify({ type: 'event', event: d.event })).length;
      },
    ],
    [
      'fan-out, encoding',
      () => {
        for (const text of encode()) sink += text.length;
      },
    ],
  ];
  console.log(`# bus benchmark: ${perMessage} message.created deliveries per bus message, ${rounds} messages per case`);
  const rows = [];
  for (const [name, fn] of cases) {
    for (let i = 0; i < 2_000; i++) fn();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) fn();
    const usPerEvent = Number(process.hrtime.bigint() - t0) / 1000 / (rounds * perMessage);
    rows.push({ name, usPerEvent });
    console.log(`${name.padEnd(48)} ${usPerEvent.toFixed(2)} µs per event`);
  }
  if (sink === 0) throw new Error('nothing was encoded');
  return rows;
}

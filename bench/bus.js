// The gateway bus's cost per event, without a network: what a gateway does with one gw.<id> message
// of N message.created deliveries, in the wire format the fan-out publishes (each event's JSON
// copied into its WebSocket frame as bytes) and in the JSON-array format before it (still read:
// decoded, then encoded again for the frame), and what the fan-out spends encoding each. Uses the
// server's own code from packages/server/dist (decodeDeliveries, eventFrame, textFrame).
const dist = (p) => new URL(`../packages/server/dist/${p}`, import.meta.url).href;
const FILLER = 'the quick brown fox jumps over the lazy dog; le café est prêt à midi. 東京で会いましょう';

export async function busBench(opts = {}) {
  const { textFrame, eventFrame } = await import(dist('gateway/frames.js'));
  const { decodeDeliveries } = await import(dist('adapters/nats/gateway-bus.js'));
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
  const lines = () => {
    let text = 'D1\n[]\n{"bus":"0123456789ab","n":42}\n';
    for (const d of deliveries) text += `${JSON.stringify(d.userIds)}\n${JSON.stringify(d.event)}\n`;
    return text;
  };
  const array = () => JSON.stringify(deliveries);
  const utf8 = new TextEncoder();
  const linesWire = utf8.encode(lines());
  const arrayWire = utf8.encode(array());
  let sink = 0;
  const cases = [
    [
      'gateway, lines (bytes copied into the frame)',
      () => {
        for (const d of decodeDeliveries(linesWire)) sink += eventFrame(d.eventJson).length;
      },
    ],
    [
      'gateway, JSON array (decoded, encoded again)',
      () => {
        for (const d of decodeDeliveries(arrayWire))
          sink += textFrame(JSON.stringify({ type: 'event', event: d.event })).length;
      },
    ],
    [
      'fan-out, encoding lines',
      () => {
        sink += lines().length;
      },
    ],
    [
      'fan-out, encoding a JSON array',
      () => {
        sink += array().length;
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

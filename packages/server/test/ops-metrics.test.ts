// Operator metrics beyond the basics: store latency per operation, fan-out counts, log lag per
// durable consumer of this process.
import { describe, expect, it } from 'vitest';
import { friends, metricsText, online, serverForFile } from './harness.js';

function value(text: string, pattern: RegExp): number | null {
  const line = text.split('\n').find((l) => pattern.test(l));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}

describe('operator metrics', () => {
  const server = serverForFile();

  it('counts store calls, fan-out records and deliveries, and reports consumer lag', async () => {
    const [conv, ann, bob] = await friends(server);
    const [socket] = await online(server, bob);
    for (let i = 0; i < 3; i++)
      await ann.call('POST', `/v1/conversations/${conv}/messages`, { clientMsgId: `om${i}`, body: `hello ${i}` });
    await socket.waitFor(() => socket.events('message.created').length === 3);
    let text = '';
    const deadline = Date.now() + 5000;
    do {
      text = await metricsText(server); // summed over the processes in cluster mode
    } while (
      value(text, /^messenger_log_lag\{consumer="notifier"\}/) !== 0 &&
      Date.now() < deadline &&
      (await new Promise((r) => setTimeout(r, 50))) === undefined
    );
    expect(value(text, /^messenger_fanout_records_total\{type="message.created"\}/)).toBe(3);
    // Bob's one socket on the one gateway: one delivery per message (plus the conversation.updated ones).
    expect(value(text, /^messenger_fanout_deliveries_total /)).toBeGreaterThanOrEqual(3);
    expect(value(text, /^messenger_store_seconds_count\{op="membership"\}/)).toBeGreaterThanOrEqual(3);
    expect(value(text, /^messenger_log_lag\{consumer="notifier"\}/)).toBe(0);
    socket.close();
  });
});

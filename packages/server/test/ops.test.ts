// Operations endpoints and the catch-all: health, readiness, Prometheus metrics, unknown routes.
import { describe, expect, it } from 'vitest';
import { expectError, friends, http, metricsText, online, sendHttp, serverForFile, signUp } from './harness.js';

const server = serverForFile();

const metricValue = (text: string, line: RegExp): number | null => {
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.trim().split(/\s+/).at(-1)) : null;
};

describe('health', () => {
  it('/healthz and /readyz answer 200 without a key', async () => {
    const call = http(server.url);
    const health = await call('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(Object.values(ready.body.checks).every((v) => v === 'ok')).toBe(true);
  });
});

describe('metrics', () => {
  it('exposes connections, sends and ack latency in Prometheus text', async () => {
    const [conv, ann, bob] = await friends(server);
    const [ws, ws2] = await online(server, ann, bob);
    await ws.request('send', { conversationId: conv, clientMsgId: 'metric-ws', body: 'counted' });
    await sendHttp(ann, conv, 'counted too', 'metric-http');
    await ann.call('POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'metric-http', body: 'counted too' });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    await res.text();
    // Summed over the processes in cluster mode (what a Prometheus sum() across instances shows).
    const text = await metricsText(server);
    expect(metricValue(text, /^messenger_ws_connections /)).toBe(2);
    expect(metricValue(text, /^messenger_messages_sent_total\{.*transport="ws".*outcome="created"/)).toBe(1);
    expect(metricValue(text, /^messenger_messages_sent_total\{.*transport="http".*outcome="created"/)).toBe(1);
    expect(metricValue(text, /^messenger_messages_sent_total\{.*transport="http".*outcome="duplicate"/)).toBe(1);
    expect(metricValue(text, /^messenger_send_ack_seconds_count\{.*transport="ws"/)).toBe(1);
    expect(metricValue(text, /^messenger_send_ack_seconds_count\{.*transport="http"/)).toBe(2);
    expect(text).toMatch(/^messenger_send_ack_seconds_bucket\{.*le="\+Inf".*\} \d+/m);
    await ws.closeAndWait();
    await new Promise((r) => setTimeout(r, 100));
    expect(metricValue(await metricsText(server), /^messenger_ws_connections /)).toBe(1);
    ws2.close();
  });
});

describe('unknown routes', () => {
  it('answer 404 with the contract body', async () => {
    const ann = await signUp(server.url);
    for (const [method, url] of [
      ['GET', '/v1/nope'],
      ['POST', '/v1/conversations/c_x/unknown'],
      ['GET', '/v1/conversations/c_x/messages/m_x/extra'],
      ['PATCH', '/v1/me/nothing'],
      ['GET', '/v1'],
      ['GET', '/v1/'],
      ['GET', '/nothing-here'],
    ] as const) {
      expectError(await ann.call(method, url), 404, 'not_found');
      expectError(await http(server.url)(method, url), 404, 'not_found');
    }
  });
});

// Tracing: with an OTLP endpoint configured, one send makes one trace that joins the gateway's
// request, its log append, and (in other processes) the persister's write and the fan-out's
// delivery, through the traceparent carried in the log record. The test is its own OTLP receiver:
// an HTTP server taking the exporter's JSON, so the real exporter and its wire format are used.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER, clusterProcessEnv, directChat, signUpMany, tempDir, waitFor } from './harness.js';
import { freePort, ServerProcess } from './process.js';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
}

interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string }[] }[];
  }[];
}

function receiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) {
        const data = JSON.parse(body) as OtlpExport;
        for (const rs of data.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans)
            for (const s of ss.spans)
              spans.push({
                service,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? '',
                name: s.name,
              });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        spans,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

describe('tracing a send', () => {
  let otlp: Awaited<ReturnType<typeof receiver>>;
  const processes: ServerProcess[] = [];
  beforeAll(async () => {
    otlp = await receiver();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await otlp.close();
  });

  async function start(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
    const p = new ServerProcess(await freePort(), {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    });
    processes.push(p);
    await p.start(30_000);
    return p;
  }

  it('joins the gateway, the log append, the store write and the fan-out in one trace', async () => {
    const dataDir = tempDir();
    // Cluster: a gateway process and a worker process, so the trace must cross the log to join.
    const gateway = CLUSTER
      ? await start({ ...clusterProcessEnv(dataDir), DATA_DIR: dataDir, ROLES: 'gateway' })
      : await start({ DATA_DIR: dataDir });
    if (CLUSTER) await start({ ...clusterProcessEnv(dataDir), DATA_DIR: dataDir, ROLES: 'persister,fanout,notifier' });
    const [ann, bob] = await signUpMany(gateway, 2);
    const conv = await directChat(ann, bob);
    const sent = await ann.call('POST', `/v1/conversations/${conv}/messages`, { clientMsgId: 'traced', body: 'hi' });
    expect(sent.status).toBe(201);

    // Embedded mode writes the store inside the log's commit (no persister), so its append span
    // covers the store write; a cluster has a persister span of its own.
    const expected = CLUSTER
      ? ['message.send', 'log.append', 'persist', 'fanout']
      : ['message.send', 'log.append', 'fanout'];
    const trace = await waitFor(
      'the spans of the send',
      () => {
        const send = otlp.spans.find((s) => s.name === 'message.send');
        if (!send) return null;
        const same = otlp.spans.filter((s) => s.traceId === send.traceId);
        return expected.every((n) => same.some((s) => s.name === n)) ? same : null;
      },
      15_000,
    );
    const byName = new Map(trace.map((s) => [s.name, s]));
    const send = byName.get('message.send')!;
    expect(byName.get('log.append')!.parentSpanId).toBe(send.spanId);
    // The consumers are children of the append: their parent came out of the log record.
    expect(byName.get('fanout')!.parentSpanId).toBe(byName.get('log.append')!.spanId);
    if (CLUSTER) {
      expect(byName.get('persist')!.parentSpanId).toBe(byName.get('log.append')!.spanId);
      expect(send.service).toBe('messenger-gateway');
      expect(byName.get('persist')!.service).toBe('messenger-persister-fanout-notifier');
    }
  }, 90_000);
});

// OpenTelemetry tracing of the send path: a send's span on the gateway, its log append, and the
// persister's write and the fan-out's delivery in other processes, joined into one trace through
// the W3C traceparent carried in the log record. Off (no provider, no cost beyond a boolean check)
// unless an OTLP endpoint is configured with the standard OTEL_EXPORTER_OTLP_* variables.
import { context, propagation, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

const tracer = trace.getTracer('messenger');
let enabled = false;

export interface Tracing {
  readonly enabled: boolean;
  /** Sends the spans still buffered; call before the process exits. */
  shutdown(): Promise<void>;
}

/** Registers the process's tracer provider when `env` configures an OTLP endpoint; once per process. */
export function startTracing(env: NodeJS.ProcessEnv, serviceName: string): Tracing {
  const configured = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (!configured || env.OTEL_TRACES_EXPORTER === 'none' || enabled) return { enabled, shutdown: async () => {} };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName }),
    // The exporter reads its endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  enabled = true;
  return {
    enabled: true,
    shutdown: async () => {
      await provider.shutdown();
      enabled = false;
    },
  };
}

export function tracingEnabled(): boolean {
  return enabled;
}

/** Runs `fn` inside a new active span (a child of the active one), ended when it settles. */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number>,
  fn: () => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!enabled) return fn();
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The active span's context as a W3C traceparent, to carry in a log record; undefined when off. */
export function traceparent(): string | undefined {
  if (!enabled) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * Runs a consumer's batch handler inside one span per traced record (`name`: persist, fanout), each
 * a child of the request that wrote the record, ended when the handler settles.
 */
export async function withRecordSpans<R extends { trace?: string; type: string; conversationId: string; pos: number }>(
  name: string,
  records: readonly R[],
  handle: () => Promise<void>,
): Promise<void> {
  if (!enabled) return handle();
  const spans = recordSpans(name, records);
  try {
    await handle();
    spans.end();
  } catch (error) {
    spans.end(error);
    throw error;
  }
}

function recordSpans(
  name: string,
  records: readonly { trace?: string; type: string; conversationId: string; pos: number }[],
): { end(error?: unknown): void } {
  if (!enabled) return NO_SPANS;
  const spans: Span[] = [];
  for (const r of records) {
    if (!r.trace) continue;
    const parent = propagation.extract(ROOT_CONTEXT, { traceparent: r.trace });
    spans.push(
      tracer.startSpan(
        name,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messenger.record.type': r.type,
            'messenger.conversation': r.conversationId,
            'messenger.pos': r.pos,
          },
        },
        parent,
      ),
    );
  }
  return {
    end(error?: unknown) {
      for (const span of spans) {
        if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        span.end();
      }
    },
  };
}

const NO_SPANS = { end() {} };

export { SpanKind };

// Prometheus metrics of one process. One registry per server instance, so tests can run several.
import client from 'prom-client';

export interface Metrics {
  registry: client.Registry;
  logLag: client.Gauge<'consumer'>;
  /** Read when /metrics is scraped: entries each durable consumer of this process has not completed. */
  lagSource: { read: () => Promise<Record<string, number>> };
  storeLag: client.Gauge<'partition'>;
  /** Read when /metrics is scraped: per log partition, how long the persister needs to complete what the log holds. */
  storeLagSource: { read: () => { partition: number; ms: number }[] };
  storeSeconds: client.Histogram<'op'>;
  fanoutRecords: client.Counter<'type'>;
  recordsQuarantined: client.Counter<'type'>;
  fanoutDeliveries: client.Counter;
  connections: client.Gauge;
  messagesSent: client.Counter<'transport' | 'outcome'>;
  sendAckSeconds: client.Histogram<'transport'>;
  eventsDelivered: client.Counter;
  slowConsumerCloses: client.Counter;
  /** Requests and sockets refused for a limit, by the limit's name (see docs/api.md, Configuration). */
  limitRefusals: client.Counter<'limit'>;
  httpRequests: client.Counter<'method' | 'route' | 'status'>;
  logBatchSize: client.Histogram;
  logCommitSeconds: client.Histogram;
  pushNotifications: client.Counter<'outcome'>;
}

export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const lagSource = { read: async (): Promise<Record<string, number>> => ({}) };
  const storeLagSource = { read: (): { partition: number; ms: number }[] => [] };
  const counter = <L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new client.Counter<L>({ name, help, labelNames, registers: [registry] });
  const gauge = <L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new client.Gauge<L>({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string = string>(
    name: string,
    help: string,
    buckets: number[],
    labelNames: readonly L[] = [],
  ) => new client.Histogram<L>({ name, help, buckets, labelNames, registers: [registry] });
  return {
    registry,
    lagSource,
    storeLagSource,
    storeLag: new client.Gauge({
      name: 'messenger_store_lag_seconds',
      help: 'Per log partition: how long the persister needs to complete what the log holds (sends are refused past STORE_LAG_BOUND_MS)',
      labelNames: ['partition'],
      registers: [registry],
      collect() {
        for (const { partition, ms } of storeLagSource.read()) this.set({ partition: String(partition) }, ms / 1000);
      },
    }),
    logLag: new client.Gauge({
      name: 'messenger_log_lag',
      help: 'Log entries a durable consumer of this process has not completed yet',
      labelNames: ['consumer'],
      registers: [registry],
      async collect() {
        for (const [consumer, n] of Object.entries(await lagSource.read().catch(() => ({})))) this.set({ consumer }, n);
      },
    }),
    storeSeconds: histogram(
      'messenger_store_seconds',
      'Store call latency by operation',
      [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      ['op'],
    ),
    fanoutRecords: counter('messenger_fanout_records_total', 'Log records fanned out, by type', ['type']),
    recordsQuarantined: counter(
      'messenger_records_quarantined_total',
      'Log records the store refused for good, set aside by the persister (quarantined_records), by type',
      ['type'],
    ),
    fanoutDeliveries: counter(
      'messenger_fanout_deliveries_total',
      'Deliveries published to gateways (one per gateway per event)',
    ),
    connections: gauge('messenger_ws_connections', 'Open WebSocket connections (authenticated)'),
    messagesSent: counter(
      'messenger_messages_sent_total',
      'Send requests by transport and outcome (created, duplicate, error)',
      ['transport', 'outcome'],
    ),
    sendAckSeconds: histogram(
      'messenger_send_ack_seconds',
      'From a send request arriving to its durable acknowledgement',
      [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      ['transport'],
    ),
    eventsDelivered: counter('messenger_events_delivered_total', 'Event frames written to sockets'),
    slowConsumerCloses: counter(
      'messenger_slow_consumer_closes_total',
      'Sockets closed for exceeding their send buffer',
    ),
    limitRefusals: counter(
      'messenger_limit_refusals_total',
      'Requests answered 429, frames answered rate_limited and sockets refused or closed (4429), by limit',
      ['limit'],
    ),
    httpRequests: counter('messenger_http_requests_total', 'HTTP requests by route and status', [
      'method',
      'route',
      'status',
    ]),
    logBatchSize: histogram(
      'messenger_log_batch_size',
      'Entries per group-committed log batch',
      [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    ),
    logCommitSeconds: histogram(
      'messenger_log_commit_seconds',
      'Duration of one durable log commit (fsync included)',
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
    ),
    pushNotifications: counter(
      'messenger_push_notifications_total',
      'Web Push notifications by final outcome (sent, gone, rejected, failed after retries, dropped)',
      ['outcome'],
    ),
  };
}

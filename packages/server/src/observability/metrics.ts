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
    storeSeconds: new client.Histogram({
      name: 'messenger_store_seconds',
      help: 'Store call latency by operation',
      labelNames: ['op'],
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    fanoutRecords: new client.Counter({
      name: 'messenger_fanout_records_total',
      help: 'Log records fanned out, by type',
      labelNames: ['type'],
      registers: [registry],
    }),
    recordsQuarantined: new client.Counter({
      name: 'messenger_records_quarantined_total',
      help: 'Log records the store refused for good, set aside by the persister (quarantined_records), by type',
      labelNames: ['type'],
      registers: [registry],
    }),
    fanoutDeliveries: new client.Counter({
      name: 'messenger_fanout_deliveries_total',
      help: 'Deliveries published to gateways (one per gateway per event)',
      registers: [registry],
    }),
    connections: new client.Gauge({
      name: 'messenger_ws_connections',
      help: 'Open WebSocket connections (authenticated)',
      registers: [registry],
    }),
    messagesSent: new client.Counter({
      name: 'messenger_messages_sent_total',
      help: 'Send requests by transport and outcome (created, duplicate, error)',
      labelNames: ['transport', 'outcome'],
      registers: [registry],
    }),
    sendAckSeconds: new client.Histogram({
      name: 'messenger_send_ack_seconds',
      help: 'From a send request arriving to its durable acknowledgement',
      labelNames: ['transport'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    eventsDelivered: new client.Counter({
      name: 'messenger_events_delivered_total',
      help: 'Event frames written to sockets',
      registers: [registry],
    }),
    slowConsumerCloses: new client.Counter({
      name: 'messenger_slow_consumer_closes_total',
      help: 'Sockets closed for exceeding their send buffer',
      registers: [registry],
    }),
    limitRefusals: new client.Counter({
      name: 'messenger_limit_refusals_total',
      help: 'Requests answered 429, frames answered rate_limited and sockets refused or closed (4429), by limit',
      labelNames: ['limit'],
      registers: [registry],
    }),
    httpRequests: new client.Counter({
      name: 'messenger_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    logBatchSize: new client.Histogram({
      name: 'messenger_log_batch_size',
      help: 'Entries per group-committed log batch',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: [registry],
    }),
    logCommitSeconds: new client.Histogram({
      name: 'messenger_log_commit_seconds',
      help: 'Duration of one durable log commit (fsync included)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    pushNotifications: new client.Counter({
      name: 'messenger_push_notifications_total',
      help: 'Web Push notifications by final outcome (sent, gone, rejected, failed after retries, dropped)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

// JetStream publishes with their acknowledgements, on one reply subscription. A JetStream publish is
// a core NATS publish whose reply subject receives the stream's PubAck ({stream, seq, duplicate} or
// {error}). nats.js's js.publish() makes each one a request: a reply token, a timer, a Promise.race,
// and an Error with a stack trace built on every request, failed or not (RequestOne.cancel), which
// was 5.7% of a gateway's CPU under load. Here every publish shares one wildcard inbox, and one timer
// sweeps the ones unanswered in time.
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

interface Pending {
  resolve: (ack: PubAck) => void;
  reject: (error: Error) => void;
  deadline: number;
}

const SWEEP_MS = 100;

export class JetStreamPublisher {
  private readonly inbox = createInbox();
  private readonly pending = new Map<string, Pending>();
  private readonly subscription: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => (error ? this.failAll(error) : this.answer(msg)),
    });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
    void nc.closed().then(() => this.failAll(new Error('the NATS connection is closed')));
  }

  /**
   * Publishes `data` to a stream's subject; resolves with the stream's acknowledgement. `msgId`
   * deduplicates (Nats-Msg-Id). The publishes of one event-loop turn leave together, in call order,
   * in the check phase: one socket write for all of them (nats.js writes once per microtask
   * checkpoint, and each send's publish comes in its own, after its checks).
   */
  publish(subject: string, data: string, msgId?: string): Promise<PubAck> {
    if (this.nc.isClosed()) return Promise.reject(new Error('the NATS connection is closed'));
    const token = (this.next++).toString(36);
    const done = new Promise<PubAck>((resolve, reject) =>
      this.pending.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs }),
    );
    this.outbox.push({ token, subject, data, msgId });
    if (this.outbox.length === 1) setTimeout(() => this.flush(), 1);
    return done;
  }

  private outbox: { token: string; subject: string; data: string; msgId: string | undefined }[] = [];

  private flush(): void {
    const out = this.outbox;
    this.outbox = [];
    for (const { token, subject, data, msgId } of out) {
      try {
        let hdrs: ReturnType<typeof headers> | undefined;
        if (msgId) {
          hdrs = headers();
          hdrs.set('Nats-Msg-Id', headerSafe(msgId));
        }
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, ...(hdrs ? { headers: hdrs } : {}) });
      } catch (error) {
        this.settle(token)?.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  /** Lets the publishes in flight be answered (until their timeout at most), then stops. */
  async close(): Promise<void> {
    while (this.pending.size > 0 && !this.nc.isClosed()) await new Promise((resolve) => setTimeout(resolve, 10));
    clearInterval(this.sweeper);
    this.subscription.unsubscribe();
    this.failAll(new Error('the publisher is closed'));
  }

  private answer(msg: Msg): void {
    const waiter = this.settle(msg.subject.slice(this.inbox.length + 1));
    if (!waiter) return; // answered after its timeout
    // No stream (or no stream leader) listens on the subject: the server answers 503 "no responders".
    if (msg.headers?.code === 503)
      return waiter.reject(new Error(`no responders for the publish (${msg.headers.description})`));
    try {
      const ack = JSON.parse(msg.string()) as Partial<PubAck> & {
        error?: { code: number; err_code?: number; description: string };
      };
      if (ack.error)
        return waiter.reject(
          new Error(
            `JetStream refused the publish: ${ack.error.description} (${ack.error.code}/${ack.error.err_code ?? '-'})`,
          ),
        );
      if (typeof ack.stream !== 'string' || typeof ack.seq !== 'number')
        return waiter.reject(new Error('invalid JetStream publish acknowledgement'));
      waiter.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true });
    } catch (error) {
      waiter.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private settle(token: string): Pending | undefined {
    const waiter = this.pending.get(token);
    this.pending.delete(token);
    return waiter;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, waiter] of this.pending) {
      // Map order is publish order and every publish has the same timeout: the rest are younger.
      if (waiter.deadline > now) break;
      this.pending.delete(token);
      waiter.reject(new Error(`no JetStream acknowledgement within ${this.timeoutMs} ms`));
    }
  }

  private failAll(error: Error): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.reject(error);
  }
}

/**
 * A Nats-Msg-Id value that stands for `msgId` alone. A header value cannot hold CR or LF (nats.js
 * throws) and loses its leading and trailing spaces (nats.js trims it), so "x" and "x " would
 * dedup as one message. Ids of printable ASCII with no space at either end are sent as they are;
 * any other is sent as "~" and its UTF-8 in base64url. The callers' ids never start with "~"
 * (the log's start with a user id), so no two ids share a header value.
 */
export function headerSafe(msgId: string): string {
  return SAFE_HEADER_VALUE.test(msgId) && !msgId.startsWith('~')
    ? msgId
    : `~${Buffer.from(msgId, 'utf8').toString('base64url')}`;
}

const SAFE_HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/u;

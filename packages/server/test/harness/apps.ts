// SDK clients as the apps of the fault tests drive them: an app that records what it was handed and
// what the server acknowledged, and a load balancer in front of several gateways.
import type { Message } from '@messenger/protocol';
import { MessengerClient, type MessengerClientOptions } from '@messenger/sdk';
import { WebSocket } from 'ws';
import type { TestUser } from './http.js';
import { sleep } from './wait.js';

/**
 * A load balancer in front of the gateways, as a deployment has: the SDK takes one baseUrl, so the
 * client is given a `WebSocket` and a `fetch` that send each new connection to the client's preferred
 * gateway unless the balancer has marked it down, then to a live one. The SDK itself is unchanged:
 * it reconnects, catches up over HTTP and re-sends its outbox as it would behind a real balancer.
 */
export class Balancer {
  readonly down = new Set<string>();
  constructor(readonly upstreams: string[]) {}

  pick(preferred: number): string {
    const order = [...this.upstreams.slice(preferred), ...this.upstreams.slice(0, preferred)];
    return order.find((u) => !this.down.has(u)) ?? order[0]!;
  }

  /** Client options that route through the balancer with `preferred` as the sticky upstream. */
  route(preferred: number): Pick<MessengerClientOptions, 'baseUrl' | 'WebSocket' | 'fetch'> {
    const LB = 'http://balancer.invalid';
    const rewrite = (url: string) => {
      const target = new URL(this.pick(preferred));
      const u = new URL(url);
      u.host = target.host;
      u.protocol = u.protocol.startsWith('ws') ? 'ws:' : 'http:';
      return u.toString();
    };
    class BalancedWebSocket extends WebSocket {
      constructor(url: string) {
        super(rewrite(url));
      }
    }
    const balancedFetch: typeof fetch = (input, init) =>
      fetch(rewrite(typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url), init);
    return {
      baseUrl: LB,
      WebSocket: BalancedWebSocket as unknown as MessengerClientOptions['WebSocket'],
      fetch: balancedFetch,
    };
  }
}

/** One user's app: an SDK client, what it was handed (message.created per conversation) and what the server acked. */
export class App {
  readonly client: MessengerClient;
  readonly seen = new Map<string, Message[]>();
  readonly acked: Message[] = [];
  readonly states: string[] = [];
  private sent = 0;

  constructor(
    readonly user: TestUser,
    route: Pick<MessengerClientOptions, 'baseUrl' | 'WebSocket' | 'fetch'>,
  ) {
    this.client = new MessengerClient({
      WebSocket: WebSocket as unknown as MessengerClientOptions['WebSocket'],
      ...route,
      apiKey: user.apiKey,
      autoDelivered: false,
      reconnect: { minDelayMs: 100, maxDelayMs: 1000, stableAfterMs: 2000 },
      requestTimeoutMs: 8000,
    });
    this.client.on('message.created', (e) => {
      const list = this.seen.get(e.conversationId) ?? [];
      list.push(e.message);
      this.seen.set(e.conversationId, list);
    });
    this.client.on('state', (s) => this.states.push(s));
  }

  connect(): Promise<void> {
    return this.client.connect();
  }

  /** Sends `count` messages one after another (each awaited: the outbox owns it until acked), round robin over conversations. */
  sendLoop(conversations: string[], count: number, pauseMs: number, tag: string, stop?: () => boolean): Promise<void> {
    const loop = (async () => {
      for (let i = 0; i < count && !stop?.(); i++) {
        const conv = conversations[i % conversations.length]!;
        const n = this.sent++;
        const message = await this.client.send(conv, `${tag} ${this.user.username} #${n}`, {
          clientMsgId: `${this.user.username}-${tag}-${n}`,
        });
        this.acked.push(message);
        if (pauseMs > 0) await sleep(pauseMs);
      }
    })();
    // A loop abandoned by a failed test rejects when the client is closed; that is not news.
    loop.catch(() => {});
    return loop;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Every app sends `count` messages (App.sendLoop), all at once; resolves when all are acknowledged. */
export async function sendFromAll(
  apps: App[],
  conversations: string[],
  count: number,
  pauseMs: number,
  tag: string,
): Promise<void> {
  await Promise.all(apps.map((a) => a.sendLoop(conversations, count, pauseMs, tag)));
}

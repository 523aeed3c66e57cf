// NatsRevocations: revoked credential ids broadcast over NATS core to every gateway of a deployment
// (revocationSubject). At most once; the port says what covers a lost message.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { RevocationHandler, Revocations } from '../../core/users/revocations.js';
import { unavailable } from '../../domain/errors.js';
import type { Logger } from '../../observability/logger.js';
import { revocationSubject } from './subjects.js';

/** How long a revocation waits for more gateways' answers after the last one came. */
const CONFIRM_STALL_MS = 100;
/** How long it waits for the first answer (its own gateway's, normally). */
const CONFIRM_MAX_MS = 1_000;

export class NatsRevocations implements Revocations {
  private readonly nc: NatsConnection;
  private readonly logger: Logger;
  private readonly subject: string;
  private readonly subscriptions = new Set<Subscription>();

  /** The connection belongs to the backend, which closes it. `scope`: the deployment (the log's stream prefix). */
  constructor(deps: { connection: NatsConnection; logger: Logger; scope: string }) {
    this.nc = deps.connection;
    this.logger = deps.logger;
    this.subject = revocationSubject(deps.scope);
  }

  /**
   * Sent as a request that every subscribed gateway answers once it has forgotten the credentials,
   * and resolved when no answer came for CONFIRM_STALL_MS after the last (CONFIRM_MAX_MS at most):
   * so the caller's 204 leaves after the other gateways stopped trusting them, not merely after
   * the broadcast left ("the key answers 401 at once", on any gateway). A gateway slower than that
   * still forgets them when the message reaches it; answers are not counted, so one that is down
   * delays nobody past the bound.
   */
  async publish(credentialIds: string[]): Promise<void> {
    if (credentialIds.length === 0) return;
    let answers: AsyncIterable<unknown>;
    try {
      answers = await this.nc.requestMany(this.subject, JSON.stringify({ credentialIds }), {
        strategy: 'stall',
        stall: CONFIRM_STALL_MS,
        maxWait: CONFIRM_MAX_MS,
      });
    } catch (error) {
      throw Object.assign(unavailable('the revocation bus is down'), { cause: error });
    }
    try {
      for await (const _ of answers);
    } catch (error) {
      // No subscriber (503) or a timeout: the broadcast itself went out.
      this.logger.debug({ err: error }, 'revocation not confirmed by every gateway');
    }
  }

  async subscribe(handler: RevocationHandler): Promise<{ stop(): Promise<void> }> {
    const sub = this.nc.subscribe(this.subject, {
      callback: (error, msg) => {
        if (error) return this.logger.error({ err: error }, 'revocation subscription failed');
        let ids: unknown;
        try {
          ids = (JSON.parse(msg.string()) as { credentialIds?: unknown }).credentialIds;
        } catch {
          ids = undefined;
        }
        if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))
          return this.logger.error('undecodable revocation message; cached credentials age out instead');
        try {
          handler(ids);
        } catch (err) {
          this.logger.error({ err }, 'revocation handler failed');
        }
        if (msg.reply) msg.respond();
      },
    });
    this.subscriptions.add(sub);
    // The server has registered the interest once the flush returns.
    await this.nc.flush();
    return {
      stop: async () => {
        this.subscriptions.delete(sub);
        sub.unsubscribe();
      },
    };
  }

  async close(): Promise<void> {
    for (const sub of this.subscriptions) sub.unsubscribe();
    this.subscriptions.clear();
  }
}

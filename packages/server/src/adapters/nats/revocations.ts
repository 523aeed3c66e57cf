// NatsRevocations: revoked credential ids broadcast over NATS core to every gateway of a deployment
// (revocationSubject). At most once; the port says what covers a lost message.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { RevocationHandler, Revocations } from '../../core/users/revocations.js';
import { unavailable } from '../../domain/errors.js';
import type { Logger } from '../../observability/logger.js';
import { revocationSubject } from './subjects.js';

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

  async publish(credentialIds: string[]): Promise<void> {
    if (credentialIds.length === 0) return;
    try {
      this.nc.publish(this.subject, JSON.stringify({ credentialIds }));
    } catch (error) {
      throw Object.assign(unavailable('the revocation bus is down'), { cause: error });
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

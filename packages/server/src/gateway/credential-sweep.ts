// The periodic re-check of the credentials this gateway's sockets authenticated with. Revocation
// is broadcast at most once; a gateway that missed the broadcast, or a session that merely
// expired, would otherwise keep its sockets open for as long as they live. One batched store read
// per round, over the distinct credentials with open sockets, closes them within a round.
import { CLOSE_CODES } from '@messenger/protocol';
import type { Authenticator } from '../core/users/authenticator.js';
import type { Logger } from '../observability/logger.js';
import type { Hub } from './hub.js';

/** The store's answer: which of these credentials still hold at `now`. */
export interface LiveCredentials {
  liveCredentials(ids: string[], now: string): Promise<Set<string>>;
}

/** Within the contract's 5 s for a revoked credential's sockets to close. */
export const CREDENTIAL_CHECK_MS = 3_000;
const IDS_PER_READ = 1_000;

export class CredentialSweep {
  private readonly hub: Pick<Hub, 'credentialIds' | 'closeCredentials'>;
  private readonly store: LiveCredentials;
  private readonly authenticator: Pick<Authenticator, 'forget'>;
  private readonly logger: Logger;
  private readonly everyMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(deps: {
    hub: Pick<Hub, 'credentialIds' | 'closeCredentials'>;
    store: LiveCredentials;
    authenticator: Pick<Authenticator, 'forget'>;
    logger: Logger;
    everyMs?: number;
    now?: () => number;
  }) {
    this.hub = deps.hub;
    this.store = deps.store;
    this.authenticator = deps.authenticator;
    this.logger = deps.logger;
    this.everyMs = deps.everyMs ?? CREDENTIAL_CHECK_MS;
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => (this.running = null));
    }, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** A store that cannot answer closes nothing: an outage is not a revocation. */
  async sweep(): Promise<void> {
    const ids = this.hub.credentialIds();
    const now = new Date(this.now()).toISOString();
    for (let i = 0; i < ids.length; i += IDS_PER_READ) {
      const batch = ids.slice(i, i + IDS_PER_READ);
      let live: Set<string>;
      try {
        live = await this.store.liveCredentials(batch, now);
      } catch (err) {
        this.logger.warn({ err }, 'credential re-check failed; trying again next round');
        return;
      }
      const gone = batch.filter((id) => !live.has(id));
      if (gone.length === 0) continue;
      this.authenticator.forget(gone);
      this.hub.closeCredentials(gone, CLOSE_CODES.unauthenticated, 'signed out: the session or key ended');
    }
  }
}

// The periodic re-check of the credentials this gateway's sockets authenticated with. Revocation
// is broadcast at most once; a gateway that missed the broadcast, a credential deleted behind the
// server's back, or a session that merely expired would otherwise keep its sockets open for as
// long as they live. Each round costs one small read whatever the number of sockets: the store's
// journal of ended credentials since the last round. Only credentials whose known expiry has
// passed are read one by one (in batches), since a use elsewhere may have extended them.
import { CLOSE_CODES } from '@messenger/protocol';
import type { AccountStore } from '../core/users/account-store.js';
import type { Authenticator } from '../core/users/authenticator.js';
import type { Logger } from '../observability/logger.js';
import type { Hub } from './hub.js';

/** The store's side: the journal of ends, and the expiry of credentials still live. */
export type LiveCredentials = Pick<AccountStore, 'liveCredentials' | 'endedCredentials' | 'forgetEndedCredentials'>;

/** Within the contract's 5 s for a revoked credential's sockets to close. */
export const CREDENTIAL_CHECK_MS = 3_000;
const IDS_PER_READ = 1_000;
/**
 * Each round reads the journal from this long before the last reading: an end written by a
 * transaction that began before that reading but committed after it carries the earlier time.
 */
const LATE_COMMIT_MS = 10_000;
/** The journal is read seconds back; ends older than this are dropped, every PRUNE_EVERY rounds. */
const KEEP_ENDS_MS = 3_600_000;
const PRUNE_EVERY = 100;

export class CredentialSweep {
  private readonly hub: Pick<Hub, 'closeCredentials' | 'credentialsExpiredBy' | 'extendCredentials'>;
  private readonly store: LiveCredentials;
  private readonly authenticator: Pick<Authenticator, 'forget'>;
  private readonly logger: Logger;
  private readonly everyMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Where the next journal read starts (the store's clock); null before the first. */
  private since: string | null = null;
  /** The ends the last read returned: the overlap of the next read is not forgotten twice. */
  private lastEnded = new Set<string>();
  private rounds = 0;

  constructor(deps: {
    hub: Pick<Hub, 'closeCredentials' | 'credentialsExpiredBy' | 'extendCredentials'>;
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
    try {
      await this.closeEnded();
      await this.closeExpired();
      if ((this.rounds += 1) % PRUNE_EVERY === 0) await this.prune();
    } catch (err) {
      this.logger.warn({ err }, 'credential re-check failed; trying again next round');
    }
  }

  private async closeEnded(): Promise<void> {
    const since = this.since ?? new Date(this.now() - LATE_COMMIT_MS).toISOString();
    const { ids, at } = await this.store.endedCredentials(since);
    this.since = new Date(Date.parse(at) - LATE_COMMIT_MS).toISOString();
    const ended = new Set(ids);
    const fresh = [...ended].filter((id) => !this.lastEnded.has(id));
    this.lastEnded = ended;
    if (fresh.length > 0) this.authenticator.forget(fresh);
    // Every time, not only for fresh ones: a socket may have joined after a read that saw its end.
    this.hub.closeCredentials([...ended], CLOSE_CODES.unauthenticated, 'signed out: the session or key ended');
  }

  private async closeExpired(): Promise<void> {
    const now = this.now();
    const due = this.hub.credentialsExpiredBy(now);
    for (let i = 0; i < due.length; i += IDS_PER_READ) {
      const batch = due.slice(i, i + IDS_PER_READ);
      const live = await this.store.liveCredentials(batch, new Date(now).toISOString());
      const gone = batch.filter((id) => !live.has(id));
      const extended = new Map<string, number>();
      for (const [id, expiresAt] of live) extended.set(id, expiresAt === null ? Infinity : Date.parse(expiresAt));
      this.hub.extendCredentials(extended);
      if (gone.length === 0) continue;
      this.authenticator.forget(gone);
      this.hub.closeCredentials(gone, CLOSE_CODES.unauthenticated, 'signed out: the session expired');
    }
  }

  private async prune(): Promise<void> {
    await this.store.forgetEndedCredentials(new Date(this.now() - KEEP_ENDS_MS).toISOString());
  }
}

// Runs Media.sweep now and then. One place per deployment runs it (the persister role's process);
// were there two, their deletes would only repeat each other: every step of a delete is idempotent.
import type { Logger } from '../../observability/logger.js';
import type { Media } from './media.js';

export class MediaSweeper {
  private readonly deps: { media: Media; logger: Logger; intervalMs: number };
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(deps: { media: Media; logger: Logger; intervalMs: number }) {
    this.deps = deps;
  }

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.deps.intervalMs);
    this.timer.unref();
  }

  /** One sweep (none at the same time as another); failures are logged and retried next time. */
  runOnce(): Promise<void> {
    this.running ??= this.deps.media
      .sweep()
      .then((n) => {
        if (n > 0) this.deps.logger.info({ deleted: n }, 'deleted uploads never attached');
      })
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'upload sweep failed; retrying later'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}

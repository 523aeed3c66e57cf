// Catch-up on one socket, tried again on that same socket when it fails with a retryable error,
// before the client gives the socket up.
import { type Backoff, jitteredDelay } from './backoff.js';
import { type CatchUpDeps, type CatchUpResult, catchUp } from './catch-up.js';
import { MessengerError } from './errors.js';

/** Retryable catch-up failures tried again on the same socket (backoff ceilings 1, 2, 4, 8, 16, 30 s by default) before it is dropped. */
const CATCH_UP_RETRIES = 6;

export interface CatchUpRunDeps extends Pick<CatchUpDeps, 'api' | 'tracker' | 'emit' | 'isCurrent'> {
  /** Its bounds space the retries. */
  backoff: Backoff;
  onCaughtUp(result: CatchUpResult): void;
  /** Retries used up, or a failure retrying cannot fix. */
  onGiveUp(): void;
}

export class CatchUpRetries {
  /** The next try of a catch-up that failed with a retryable error, on the same socket. */
  #timer: ReturnType<typeof setTimeout> | undefined;

  run(deps: CatchUpRunDeps, attempt = 0): void {
    const { api, tracker, emit, isCurrent } = deps;
    catchUp({ api, tracker, emit, isCurrent }).then(
      (result) => {
        if (!result || !isCurrent()) return;
        deps.onCaughtUp(result);
      },
      (error: unknown) => {
        if (!isCurrent()) return;
        // 503 (the store is still writing what the log holds, a backing service is down) or a
        // lost request: try again on this socket, its live events held back meanwhile. A run
        // continues from what was handed out, so nothing is skipped or repeated. Reconnecting
        // instead would only move the same wait to a fresh socket, for every client at once.
        if (error instanceof MessengerError && error.retryable && attempt < CATCH_UP_RETRIES) {
          const bounds = { minDelayMs: deps.backoff.minDelayMs, maxDelayMs: deps.backoff.maxDelayMs };
          this.#timer = setTimeout(
            () => {
              this.#timer = undefined;
              if (isCurrent()) this.run(deps, attempt + 1);
            },
            error.retryAfterMs ?? jitteredDelay(attempt + 1, bounds),
          );
          return;
        }
        deps.onGiveUp();
      },
    );
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

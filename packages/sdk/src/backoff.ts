// Reconnect delays: exponential growth with full jitter, so a restarted server is not hit by every client at once.

export interface BackoffOptions {
  /** The ceiling of the first delay; each failure doubles the ceiling. */
  minDelayMs?: number;
  /** The ceiling never grows past this. */
  maxDelayMs?: number;
  /** Injected so tests can pin the jitter. Must return a number in [0, 1). */
  random?: () => number;
}

export class Backoff {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.minDelayMs = Math.max(1, opts.minDelayMs ?? 500);
    this.maxDelayMs = Math.max(this.minDelayMs, opts.maxDelayMs ?? 30_000);
    this.#random = opts.random ?? Math.random;
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The ceiling the next delay is drawn under. */
  ceiling(attempt = this.#attempt): number {
    return delayCeiling(attempt, this);
  }

  /**
   * "Full jitter" (uniform in [0, ceiling]): spreads a herd of clients best of the usual schemes,
   * see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/.
   */
  next(): number {
    const delay = jitteredDelay(this.#attempt, this, this.#random);
    this.#attempt += 1;
    return delay;
  }

  /** Called once a connection has proved stable, so the next outage starts with short delays again. */
  reset(): void {
    this.#attempt = 0;
  }
}

export function delayCeiling(attempt: number, bounds: { minDelayMs: number; maxDelayMs: number }): number {
  return Math.min(bounds.maxDelayMs, bounds.minDelayMs * 2 ** attempt);
}

/** The stateless form, for callers that count attempts themselves (the outbox counts per message). */
export function jitteredDelay(
  attempt: number,
  bounds: { minDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  return Math.floor(random() * delayCeiling(attempt, bounds));
}

// AttemptLimiter: counts sign-in attempts per key (a username, an IP) in fixed windows, so that a
// guesser is stopped after a few tries. Memory for one process; Redis when several gateways must
// share the counts (a guesser spreading over gateways must still hit one limit).

export interface AttemptLimiter {
  /**
   * Counts one attempt of `key` and answers 0, or, when `limit` attempts were counted in the
   * current window, counts nothing and answers the milliseconds until the window ends. A window
   * starts with its first attempt and lasts `windowMs`. Atomic: concurrent attempts cannot pass
   * the limit together.
   */
  take(key: string, limit: number, windowMs: number): Promise<number>;
  /** Un-counts one attempt that turned out not to be a failure (never below zero). */
  refund(key: string): Promise<void>;
  /** Forgets the key's attempts. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

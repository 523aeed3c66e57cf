// MemoryAttemptLimiter: sign-in attempt counts in this process (embedded mode; lost on restart).
import type { AttemptLimiter } from '../../core/users/attempt-limiter.js';

/** Past this many keys, windows that ended are swept so that memory stays bounded. */
const SWEEP_AT = 100_000;

export class MemoryAttemptLimiter implements AttemptLimiter {
  private readonly windows = new Map<string, { count: number; until: number }>();
  private readonly now: () => number;

  constructor(deps: { now?: () => number } = {}) {
    this.now = deps.now ?? Date.now;
  }

  async take(key: string, limit: number, windowMs: number): Promise<number> {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.until <= now) {
      window = { count: 0, until: now + windowMs };
      this.windows.set(key, window);
      if (this.windows.size > SWEEP_AT) this.sweep(now);
    }
    if (window.count >= limit) return window.until - now;
    window.count += 1;
    return 0;
  }

  async refund(key: string): Promise<void> {
    const window = this.windows.get(key);
    if (window && window.count > 0) window.count -= 1;
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  async close(): Promise<void> {}

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.until <= now) this.windows.delete(key);
  }
}

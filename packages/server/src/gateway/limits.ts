// The gateway's own limits, counted in this process: sockets per key (an address before it
// authenticates, a user after) and each socket's budget of frames per second.

/** Open sockets per key, each taken once and released once. */
export class SocketCounts {
  private readonly counts = new Map<string, number>();
  private readonly limit: number;

  /** `limit` 0: unlimited. */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** False (and nothing taken) when `key` already holds `limit` sockets. */
  take(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (this.limit > 0 && n >= this.limit) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }
}

export type FrameVerdict = 'ok' | 'refuse' | 'close';

/**
 * Frames one socket may send: `perSecond` on average with bursts of ten seconds' worth, so a
 * client that reconnects and acknowledges hundreds of chats at once passes. A frame past the burst
 * is refused (the client hears rate_limited); refusals have a budget of their own, refilled at the
 * same rate, and a socket that spends it (keeps sending at well over the rate after being told)
 * is closed.
 */
export class FrameBudget {
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private strikes: number;
  private at: number;

  /** `perSecond` 0: unlimited. */
  constructor(perSecond: number, now: () => number = Date.now) {
    this.rate = perSecond / 1000;
    this.burst = perSecond * 10;
    this.now = now;
    this.tokens = this.burst;
    this.strikes = this.burst;
    this.at = now();
  }

  take(): FrameVerdict {
    if (this.burst === 0) return 'ok';
    const now = this.now();
    const refill = (now - this.at) * this.rate;
    this.at = now;
    this.tokens = Math.min(this.burst, this.tokens + refill);
    this.strikes = Math.min(this.burst, this.strikes + refill);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    this.strikes -= 1;
    return this.strikes >= 0 ? 'refuse' : 'close';
  }

  /** Seconds until the next frame would pass. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((1 - this.tokens) / this.rate / 1000));
  }
}

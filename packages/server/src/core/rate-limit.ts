// Token buckets keyed by user or IP: `capacity` tokens, refilled evenly over `windowMs`.
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly capacity: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly onRefused: () => void;

  /** `onRefused` is told of each refusal (metrics). */
  constructor(deps: { capacity: number; windowMs: number; now?: () => number; onRefused?: () => void }) {
    this.capacity = deps.capacity;
    this.windowMs = deps.windowMs;
    this.now = deps.now ?? Date.now;
    this.onRefused = deps.onRefused ?? (() => undefined);
  }

  /** 0 when allowed (a token is taken), else the seconds to wait before retrying. */
  take(key: string): number {
    if (this.capacity <= 0) return 0;
    const now = this.now();
    const rate = this.capacity / this.windowMs;
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.buckets.set(key, bucket);
      if (this.buckets.size > 100_000) this.sweep(now);
      return 0;
    }
    this.buckets.set(key, bucket);
    this.onRefused();
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000));
  }

  /** Full buckets carry no information; drop them so memory stays bounded. */
  private sweep(now: number): void {
    const rate = this.capacity / this.windowMs;
    for (const [key, b] of this.buckets) if (b.tokens + (now - b.at) * rate >= this.capacity) this.buckets.delete(key);
  }
}

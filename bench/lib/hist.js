// Mergeable log-bucket latency histogram (about 1% relative precision, 1 µs .. ~10 min).
const GROWTH = 1.01;
const LN = Math.log(GROWTH);
const BUCKETS = 2100;

export class Histogram {
  constructor(counts) {
    this.counts = counts ? Uint32Array.from(counts) : new Uint32Array(BUCKETS);
    this.n = 0;
    this.max = 0;
    this.sum = 0;
    if (counts) for (const c of this.counts) this.n += c;
  }

  /** Records a value in milliseconds. */
  record(ms) {
    const us = Math.max(1, ms * 1000);
    const b = Math.min(BUCKETS - 1, Math.floor(Math.log(us) / LN));
    this.counts[b]++;
    this.n++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  merge(other) {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.n += other.n;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
    return this;
  }

  /** Value (ms) at quantile q in [0,1]; the upper edge of the bucket, capped by the max seen. */
  quantile(q) {
    if (this.n === 0) return NaN;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank && this.counts[i] > 0) return Math.min(this.max, GROWTH ** (i + 1) / 1000);
    }
    return this.max;
  }

  mean() {
    return this.n ? this.sum / this.n : NaN;
  }

  toJSON() {
    return { counts: Array.from(this.counts), n: this.n, max: this.max, sum: this.sum };
  }

  static from(json) {
    const h = new Histogram();
    h.counts = Uint32Array.from(json.counts);
    h.n = json.n;
    h.max = json.max;
    h.sum = json.sum;
    return h;
  }

  /** Exact percentiles of a plain array of ms values (for small samples). */
  static exact(values) {
    const s = [...values].sort((a, b) => a - b);
    const at = (q) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN);
    return {
      n: s.length,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: s[s.length - 1] ?? NaN,
      mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
    };
  }
}

export const fmt = (ms) =>
  Number.isFinite(ms) ? (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)) : '-';

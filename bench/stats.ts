/**
 * Small statistics for the benchmarks: a log-linear latency histogram cheap enough for the
 * load client's hot path, and the median/spread/slope helpers the orchestrator reports with.
 *
 * @module
 */

/** Sub-buckets per power of two: 64 gives a worst-case relative error of about 1.6 %. */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/** Histogram unit: 100 ns, so that 2^31 units (214 s) covers any run. */
const UNITS_PER_MS = 10_000;
const MAX_UNITS = 0x7fff_ffff;
const BUCKETS = (32 - SUB_BITS) * SUB + SUB;

/** Latency percentiles in microseconds. */
export interface Percentiles {
  /** Number of samples. */
  count: number;
  /** Median, µs. */
  p50: number;
  /** 90th percentile, µs. */
  p90: number;
  /** 99th percentile, µs. */
  p99: number;
  /** 99.9th percentile, µs. */
  p999: number;
  /** Largest sample, µs. */
  max: number;
}

/** A log-linear histogram of durations (HDR-like, 1.6 % resolution, 100 ns to 214 s). */
export class Histogram {
  #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #max = 0;

  /** Records one duration given in milliseconds (as `performance.now()` differences are). */
  record(ms: number): void {
    let units = Math.round(ms * UNITS_PER_MS);
    if (units < 0) units = 0;
    else if (units > MAX_UNITS) units = MAX_UNITS;
    this.#counts[bucketOf(units)]!++;
    this.#count++;
    if (units > this.#max) this.#max = units;
  }

  /** Number of recorded samples. */
  get count(): number {
    return this.#count;
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: Histogram): void {
    const theirs = other.#counts;
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += theirs[i]!;
    this.#count += other.#count;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /** The value (µs) at quantile `q` in [0, 1]: the middle of the bucket that holds it. */
  quantile(q: number): number {
    if (this.#count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        const [lo, hi] = boundsOf(i);
        return Math.min((lo + hi) / 2, this.#max) / (UNITS_PER_MS / 1000);
      }
    }
    return this.#max / (UNITS_PER_MS / 1000);
  }

  /** The usual percentiles, in µs. */
  percentiles(): Percentiles {
    return {
      count: this.#count,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      max: this.#max / (UNITS_PER_MS / 1000),
    };
  }
}

function bucketOf(units: number): number {
  if (units < SUB) return units;
  const exp = 31 - Math.clz32(units); // >= SUB_BITS
  const shift = exp - SUB_BITS;
  return (shift + 1) * SUB + ((units >>> shift) - SUB);
}

function boundsOf(bucket: number): [number, number] {
  if (bucket < SUB) return [bucket, bucket + 1];
  const shift = Math.floor(bucket / SUB) - 1;
  const lo = ((bucket % SUB) + SUB) * 2 ** shift;
  return [lo, lo + 2 ** shift];
}

/** The median of `xs` (NaN when empty); the mean of the middle pair for an even count. */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median, minimum and maximum of repeated measurements. */
export interface Spread {
  /** Median of the repetitions. */
  median: number;
  /** Smallest repetition. */
  min: number;
  /** Largest repetition. */
  max: number;
  /** Number of repetitions. */
  n: number;
}

/** Summarizes repetitions as median and range. */
export function spread(xs: readonly number[]): Spread {
  const finite = xs.filter((x) => Number.isFinite(x));
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : NaN,
    max: finite.length ? Math.max(...finite) : NaN,
    n: finite.length,
  };
}

/** Least-squares slope of `ys` against `xs` (NaN with fewer than two points). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return NaN;
  let sx = 0, sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n, my = sy / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/**
 * Histograms for monitoring: a log-scale latency histogram (constant memory, ~4.5 % relative error on
 * percentiles) and a small exact histogram of integer sizes (batch sizes).
 * @module
 */
import { describe, typeError } from '../errors.js';

/** Buckets per power of two: 8 gives bucket bounds 9 % apart, so a percentile is within ±4.5 % of the truth. */
const SUB = 8;
/** Values are bucketed in microseconds from 1 µs to 2^27 µs (134 s); the first bucket holds everything below 1 µs. */
const OCTAVES = 27;
const NBUCKETS = 2 + OCTAVES * SUB;

/** Percentiles of a latency distribution, in milliseconds (0 when empty). */
export interface LatencySummary {
  /** Samples recorded. */
  count: number;
  /** Sum of all samples (ms). */
  totalMs: number;
  /** Mean (ms). */
  meanMs: number;
  /** Median (ms). */
  p50Ms: number;
  /** 90th percentile (ms). */
  p90Ms: number;
  /** 99th percentile (ms). */
  p99Ms: number;
  /** Largest sample (ms, exact). */
  maxMs: number;
}

/**
 * A latency histogram over log-scale buckets (8 per power of two, 1 µs to 134 s). Recording is a `Math.log2`
 * and an increment; memory is fixed (~1.8 KB). Percentiles report the geometric middle of their bucket, clamped
 * to the exact min and max.
 */
export class LatencyHistogram {
  /** Count per bucket. */
  readonly buckets = new Float64Array(NBUCKETS);
  /** Samples recorded. */
  count = 0;
  /** Sum of the samples (ms). */
  sum = 0;
  /** Smallest sample (ms); Infinity when empty. */
  min = Infinity;
  /** Largest sample (ms); 0 when empty. */
  max = 0;

  /**
   * Records one sample in milliseconds (negative or NaN samples count as 0).
   * @throws TypeError when `ms` is not a number (a BigInt cannot be bucketed or summed with the others).
   */
  add(ms: number): void {
    if (typeof ms !== 'number') throw typeError('LatencyHistogram.add', `ms must be a number, got ${describe(ms)}`);
    if (!(ms > 0)) ms = 0;
    const us = ms * 1000;
    let i = us < 1 ? 0 : 1 + Math.floor(Math.log2(us) * SUB);
    if (i >= NBUCKETS) i = NBUCKETS - 1;
    this.buckets[i]++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }

  /** The value (ms) below which a fraction `q` (0..1) of the samples fall; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    if (rank >= this.count) return this.max;
    let seen = 0;
    for (let i = 0; i < NBUCKETS; i++) {
      seen += this.buckets[i];
      if (seen >= rank) {
        if (i === NBUCKETS - 1) return this.max; // the overflow bucket has no upper bound
        // Bucket i (>= 1) spans [2^((i-1)/SUB), 2^(i/SUB)) µs; report its geometric middle.
        const mid = i === 0 ? 0.5 : 2 ** ((i - 0.5) / SUB);
        const ms = mid / 1000;
        return ms < this.min ? this.min : ms > this.max ? this.max : ms;
      }
    }
    return this.max;
  }

  /** Count, total, mean, p50/p90/p99 and max. */
  summary(): LatencySummary {
    return {
      count: this.count,
      totalMs: this.sum,
      meanMs: this.count ? this.sum / this.count : 0,
      p50Ms: this.quantile(0.5),
      p90Ms: this.quantile(0.9),
      p99Ms: this.quantile(0.99),
      maxMs: this.max,
    };
  }

  /** Forgets every sample. */
  reset(): void {
    this.buckets.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }
}

/**
 * An exact histogram of sizes 1..maxSize (larger sizes are clamped to maxSize). Sparse: memory grows with the
 * distinct sizes seen, not with maxSize (a scheduler may allow batches of 2^31 rows and see only a few sizes).
 */
export class SizeHistogram {
  /** size → how many times it was recorded. */
  private readonly counts = new Map<number, number>();
  private readonly maxSize: number;
  /** Samples recorded. */
  count = 0;
  /** Sum of the sizes. */
  sum = 0;

  /** A histogram for sizes up to `maxSize`. */
  constructor(maxSize: number) {
    this.maxSize = maxSize;
  }

  /**
   * Records one size.
   * @throws TypeError when `size` is not a number.
   */
  add(size: number): void {
    if (typeof size !== 'number') throw typeError('SizeHistogram.add', `size must be a number, got ${describe(size)}`);
    const i = size < 0 ? 0 : size > this.maxSize ? this.maxSize : size;
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1);
    this.count++;
    this.sum += size;
  }

  /** Nonzero sizes and their counts, smallest first, e.g. `{ 1: 3, 32: 40 }`. */
  toObject(): Record<number, number> {
    const o: Record<number, number> = {};
    for (const k of [...this.counts.keys()].sort((a, b) => a - b)) o[k] = this.counts.get(k)!;
    return o;
  }

  /** Mean size (0 when empty). */
  mean(): number {
    return this.count ? this.sum / this.count : 0;
  }
}

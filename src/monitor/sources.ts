/**
 * Registry of the things that report statistics besides ops: schedulers and caches. Held weakly, so a source
 * that is no longer referenced drops out of `stats()` once it is garbage collected.
 * @module
 */
import type { LatencySummary } from './histogram.js';

/** Statistics of one {@link BatchScheduler}. Times in milliseconds. */
export interface SchedulerStats {
  /** The scheduler's name (option `name`, or `scheduler-<n>`). */
  name: string;
  /** True once `close()` was called. */
  closed: boolean;
  /** Requests waiting to be batched. */
  queueDepth: number;
  /** Rows in those requests. */
  queuedRows: number;
  /** The wait for company now, ms (`maxDelayMs`, or what batchDelay 'adaptive' learned). */
  batchDelayMs: number;
  /** Requests waiting for room in the queue (`onFull: 'wait'`). */
  waitingForRoom: number;
  /** Batches running now. */
  runningBatches: number;
  /** Requests accepted by `submit` (not rejected up front). */
  submitted: number;
  /** Requests resolved with their rows. */
  completed: number;
  /** Requests rejected, by reason. */
  rejected: { queueFull: number; timeout: number; aborted: number; batchFailed: number; closed: number; invalid: number };
  /** Batches started. */
  batches: number;
  /** Rows per batch: size → count. */
  batchSizes: Record<number, number>;
  /** Mean rows per batch. */
  meanBatchSize: number;
  /** Time from submit until the request's batch started. */
  queueWait: LatencySummary;
  /** Time runBatch took, per batch. */
  runTime: LatencySummary;
  /** Time from submit until the request was resolved (completed requests only). */
  latency: LatencySummary;
}

/** Statistics of one cache (the packed-weights cache, or a {@link memoize}d function). */
export interface CacheStats {
  /** 'packed' for the packed-weights cache, else the memoized function's name. */
  name: string;
  /** 'packed' or 'memoize'. */
  kind: 'packed' | 'memoize';
  /** Lookups answered from the cache. */
  hits: number;
  /** Lookups that had to compute. */
  misses: number;
  /** Entries dropped to stay within maxEntries / maxBytes. */
  evictions: number;
  /** Entries held now (for 'packed': packed weights not yet released). */
  entries: number;
  /** Bytes held now (inputs and results for 'memoize', packed panels for 'packed'). */
  bytes: number;
}

/** @internal Anything that reports statistics. */
export interface StatsSource<T> {
  stats(): T;
  resetStats(): void;
}

const schedulers = new Set<WeakRef<StatsSource<SchedulerStats>>>();
const caches = new Set<WeakRef<StatsSource<CacheStats>>>();

/** @internal */
export function registerScheduler(s: StatsSource<SchedulerStats>): void {
  schedulers.add(new WeakRef(s));
}
/** @internal */
export function registerCache(c: StatsSource<CacheStats>): void {
  caches.add(new WeakRef(c));
}

function collect<T>(set: Set<WeakRef<StatsSource<T>>>): T[] {
  const out: T[] = [];
  for (const ref of set) {
    const s = ref.deref();
    if (s === undefined) set.delete(ref);
    else out.push(s.stats());
  }
  return out;
}

/** @internal Statistics of every live scheduler, in creation order. */
export function schedulerStats(): SchedulerStats[] {
  return collect(schedulers);
}
/** @internal Statistics of every live cache, in creation order. */
export function cacheStats(): CacheStats[] {
  return collect(caches);
}
/** @internal Zeroes the counters and histograms of every live source (gauges such as queue depth stay). */
export function resetSources(): void {
  for (const set of [schedulers, caches] as Array<Set<WeakRef<StatsSource<unknown>>>>)
    for (const ref of set) ref.deref()?.resetStats();
}

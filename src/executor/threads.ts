/**
 * Thread-count knobs of the native pool (process-wide: one pool serves the main thread and every worker).
 * @module
 */
import { describe, rangeError, typeError } from '../errors.js';
import { native, NativeAsyncStats } from '../native.js';

/** Largest thread count the pool accepts. */
export const MAX_THREADS = 256;

/**
 * Sets how many threads one op may use (the calling thread included). Process-wide: it affects every
 * worker_thread too. Returns the value now in effect.
 */
export function setNumThreads(n: number): number {
  const fn = 'setNumThreads';
  if (typeof n !== 'number') throw typeError(fn, `n must be a number, got ${describe(n)}`);
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw rangeError(fn, `n must be an integer in [1, ${MAX_THREADS}], got ${n}`);
  return native.setNumThreads(n);
}

/** Threads one op may use now. */
export function getNumThreads(): number {
  return native.getNumThreads();
}

/**
 * The default thread count: CPUs this process may use (affinity mask, capped by the cgroup CPU quota), or
 * SIMDTENSOR_NUM_THREADS when set.
 */
export function defaultNumThreads(): number {
  return native.defaultNumThreads();
}

/** Counters of the pool and of this thread's async queue (for monitoring and tests). */
export type ExecutorStats = NativeAsyncStats;

/** Pool and async-queue counters. */
export function executorStats(): ExecutorStats {
  return native.asyncStats();
}

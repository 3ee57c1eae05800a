/**
 * The parallel executor: thread-count knobs, async ops on simdtensor's own threads, and the inter-op Executor.
 * See docs/parallel.md.
 * @module
 */
export { setNumThreads, getNumThreads, defaultNumThreads, executorStats, MAX_THREADS } from './threads.js';
export type { ExecutorStats } from './threads.js';
// The async GEMM entry points live beside the sync ones (src/ops/), re-exported here as before.
export { matmulAsync, linearAsync } from '../ops/matmul.js';
export { registerAsyncMatmul, registerAsyncLinear } from '../ops/registry.js';
export type { AsyncOptions, AsyncGemmOptions, AsyncMatmulImpl, AsyncLinearImpl } from '../ops/registry.js';
export { runNativeAsync, abortError } from './submit.js';
export { Executor } from './executor.js';
export type { ExecutorOptions, RunOptions, Job } from './executor.js';

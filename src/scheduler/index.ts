/**
 * Dynamic batching for serving: {@link BatchScheduler} and its error type.
 * @module
 */
export { BatchScheduler } from './batch-scheduler.js';
export type { BatchSchedulerOptions, SubmitOptions, CloseOptions, RunBatch } from './batch-scheduler.js';
export { SchedulerError } from './errors.js';
export type { SchedulerErrorCode } from './errors.js';

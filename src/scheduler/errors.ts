/**
 * The error every scheduler rejection carries: a `code` that says why, and the original error as `cause`.
 * @module
 */
import { text } from '../errors.js';

/** Why a request was rejected. */
export type SchedulerErrorCode = 'timeout' | 'aborted' | 'queue_full' | 'batch_failed' | 'closed';

/**
 * Rejection reason of a {@link BatchScheduler} request. `code` says why; `name` is 'TimeoutError' or
 * 'AbortError' for those two codes (as with `AbortSignal.timeout`), else 'SchedulerError'. For 'aborted' the
 * signal's reason is the `cause`; for 'batch_failed' it is what runBatch threw (or a TypeError/RangeError
 * describing a malformed result).
 */
export class SchedulerError extends Error {
  /** Why the request was rejected. */
  readonly code: SchedulerErrorCode;

  /**
   * @internal No stack trace is captured: it would only show scheduler internals, and capturing one costs ~5 µs,
   * which matters when shedding load at hundreds of thousands of rejections per second. The message names the
   * scheduler and the reason; `cause` keeps the stack of whatever runBatch threw.
   */
  constructor(code: SchedulerErrorCode, message: string, cause?: unknown) {
    // The message is made a string first: one whose conversion throws (a detached view, a Symbol) must neither
    // escape as an internal error nor leave Error.stackTraceLimit at 0 for the whole process.
    const msg = text(message);
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(msg, cause === undefined ? undefined : { cause });
    Error.stackTraceLimit = limit;
    this.code = code;
    this.name = code === 'timeout' ? 'TimeoutError' : code === 'aborted' ? 'AbortError' : 'SchedulerError';
  }
}

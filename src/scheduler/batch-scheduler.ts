/**
 * Dynamic batching: many small concurrent requests become few large batches (Triton's dynamic batcher, TF
 * Serving's batching), with bounded delay, a bounded queue, priorities, timeouts and cancellation.
 * @module
 */
import { markAsUntransferable } from 'node:worker_threads';
import type { DType, TensorData } from '../dtype.js';
import { describe, rangeError, typeError, options } from '../errors.js';
import { checkTensor, Tensor } from '../tensor.js';
import { LatencyHistogram, SizeHistogram } from '../monitor/histogram.js';
import { allocTid, emitTrace, sinks, threadNames } from '../monitor/recorder.js';
import { registerScheduler, SchedulerStats } from '../monitor/sources.js';
import { SchedulerError, SchedulerErrorCode } from './errors.js';

/**
 * Runs one batch: receives the concatenated rows of the batched requests ([rows, ...rowShape]) and returns
 * (or resolves to) a tensor whose first dimension is that number of rows, row i answering input row i. Any
 * async function fits: an executor op such as `linearAsync`, a worker round trip, or a sync model wrapped in one.
 * The batch may be a view of a request's own memory: do not write into it.
 */
export type RunBatch = (batch: Tensor) => Promise<Tensor> | Tensor;

/** Options of {@link BatchScheduler}. */
export interface BatchSchedulerOptions {
  /** Most rows in one batch (default 32). A request with more rows is rejected. */
  maxBatchSize?: number;
  /**
   * Longest a request waits for others to join it, measured from when the oldest waiting request entered the
   * queue (default 1 ms). 0 dispatches as soon as a batch slot is free: requests that arrive while every slot is
   * busy still batch together ("continuous" batching).
   */
  maxDelayMs?: number;
  /**
   * Batch sizes (rows) worth dispatching at once without waiting out `maxDelayMs` (Triton's
   * preferred_batch_size). When the queued requests, taken in order, add up to one of these, the largest such
   * batch goes immediately.
   */
  preferredBatchSizes?: readonly number[];
  /** Most requests waiting to be batched (default 1024; Infinity for no bound). */
  maxQueue?: number;
  /** When the queue is full: 'reject' the new request at once (default), or make it 'wait' for room. */
  onFull?: 'reject' | 'wait';
  /**
   * With `onFull: 'wait'`: most requests waiting for room (default 1024; Infinity for no bound). Past it a new
   * request is rejected at once with code 'queue_full', so a sustained overload cannot pile up waiters without
   * limit (each holds its input and a promise).
   */
  maxWaiting?: number;
  /** Batches that may run at the same time, so the next batch forms while one runs (default 1). */
  maxConcurrentBatches?: number;
  /** Default per-request timeout in ms, from submit to result (default Infinity: none). */
  timeoutMs?: number;
  /**
   * The last part (ms) of a `maxDelayMs` wait is polled with setImmediate instead of a timer (default 0).
   * Node timers have millisecond resolution and fire ~0.1–0.2 ms late; polling the last ~1 ms makes the delay
   * exact to a few µs at the cost of keeping the event loop busy for that long.
   */
  spinWaitMs?: number;
  /**
   * When a slot frees up, dispatch at once (up to maxBatchSize) if the queue holds requests that were queued while
   * every slot was busy: they have already waited for a whole batch, so they do not wait out `maxDelayMs` on top
   * (default false: they do, which makes fuller batches when the model is fast). Under closed-loop load this bounds
   * a request's wait to the batch running when it arrived plus its own.
   */
  workConserving?: boolean;
  /**
   * 'fixed' (default): every batch that does not fill waits `maxDelayMs` for company. 'adaptive': the wait is
   * learned from the batches, with `maxDelayMs` as its bound: each batch cut under-full with nothing left queued
   * multiplies it by its fill (rows / maxBatchSize, at most ½), and below maxDelayMs/16 it is 0 (a batch goes at
   * the end of the event-loop turn its first request arrived in, with whatever else arrived in that turn: a
   * setImmediate, no timer); each batch that fills (or leaves requests queued) doubles it, from maxDelayMs/8 up
   * to maxDelayMs. So a sequential or low-concurrency load is answered without waiting, and a load that fills
   * batches waits as with 'fixed'. See {@link BatchScheduler.batchDelayMs}.
   */
  batchDelay?: 'fixed' | 'adaptive';
  /** Name in statistics and traces (default `scheduler-<n>`). */
  name?: string;
  /** Shape of one input row (every dimension after the first). Default: taken from the first request. */
  rowShape?: readonly number[];
  /** Input dtype. Default: taken from the first request. */
  dtype?: DType;
}

/** Options of {@link BatchScheduler.submit}. */
export interface SubmitOptions {
  /** Cancels the request: it never enters a batch, or its rows are dropped from the batch's result. */
  signal?: AbortSignal;
  /** Timeout in ms from submit to result (default: the scheduler's `timeoutMs`). */
  timeoutMs?: number;
  /** Higher runs first (default 0); first in, first out within a level. */
  priority?: number;
}

/** Options of {@link BatchScheduler.close}. */
export interface CloseOptions {
  /** true (default): run everything already submitted, then resolve. false: reject what has not started yet. */
  drain?: boolean;
  /**
   * Longest close() waits (ms; default Infinity). When it passes, every request not yet settled — waiting, queued,
   * or in a batch still running — is rejected with code 'closed' and close() resolves; a batch whose runBatch
   * never settles is abandoned (its result, if one ever comes, is dropped).
   */
  timeoutMs?: number;
  /** Aborting it does what `timeoutMs` does, at once. */
  signal?: AbortSignal;
}

const WAITING = 0; // waiting for room in the queue (onFull: 'wait')
const QUEUED = 1;
const RUNNING = 2;
const DONE = 3;
const TIMER_MAX = 2 ** 31 - 1;
/** A delay timer that fires this close to its deadline counts as on time (timers may fire a little early). */
const DEADLINE_SLACK_MS = 0.02;
/** Adaptive delay: below this fraction of maxDelayMs the delay is 0; a full batch grows a 0 delay to ADAPT_START. */
const ADAPT_FLOOR = 1 / 16;
const ADAPT_START = 1 / 8;

/** One submitted request; an intrusive doubly linked list node (O(1) removal on abort or timeout). */
class Req {
  state = QUEUED;
  enqueuedAt = 0;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  prev: Req | null = null;
  next: Req | null = null;
  list: ReqList | null = null;
  constructor(
    readonly input: Tensor,
    readonly rows: number,
    readonly priority: number,
    readonly submittedAt: number,
    readonly signal: AbortSignal | undefined,
    readonly resolve: (t: Tensor) => void,
    readonly reject: (e: unknown) => void,
  ) {}
}

/** A FIFO of requests with O(1) push, shift and unlink. */
class ReqList {
  head: Req | null = null;
  tail: Req | null = null;
  size = 0;
  constructor(readonly priority: number) {}
  push(r: Req): void {
    r.list = this;
    r.prev = this.tail;
    r.next = null;
    if (this.tail) this.tail.next = r;
    else this.head = r;
    this.tail = r;
    this.size++;
  }
  unlink(r: Req): void {
    if (r.prev) r.prev.next = r.next;
    else this.head = r.next;
    if (r.next) r.next.prev = r.prev;
    else this.tail = r.prev;
    r.prev = r.next = null;
    r.list = null;
    this.size--;
  }
}

let schedulerCount = 0;

function checkCount(fn: string, name: string, v: unknown, min: number, allowInf: boolean): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || (!allowInf && !Number.isFinite(v)) || (Number.isFinite(v) && !Number.isInteger(v)))
    throw rangeError(fn, `${name} must be an integer >= ${min}${allowInf ? ' (or Infinity)' : ''}, got ${describe(v)}`);
  return v;
}

function checkMs(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || v > TIMER_MAX)
    throw rangeError(fn, `${name} must be a number of ms in [0, ${TIMER_MAX}], got ${describe(v)}`);
  return v;
}

function checkTimeout(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0) || (v !== Infinity && v > TIMER_MAX))
    throw rangeError(fn, `${name} must be a number of ms > 0 and <= ${TIMER_MAX}, or Infinity, got ${describe(v)}`);
  return v;
}

const resolved = Promise.resolve();

/**
 * A promise rejected with `e` one microtask from now. `Promise.reject` costs ~2 µs in Node because a rejection
 * without a handler goes through the unhandled-rejection tracker (and back out when the caller attaches one);
 * by the next microtask the caller of submit has attached its handler, so this costs ~0.1 µs. Semantics are
 * the same: a rejection nobody handles is still reported as unhandled.
 */
function rejectSoon(e: unknown): Promise<never> {
  return new Promise<never>((_, reject) => {
    resolved.then(() => reject(e));
  });
}

function fmtMs(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(0);
}

/**
 * A dynamic batcher. `submit` queues a request (one or more rows); batches are cut when `maxBatchSize` rows are
 * queued, when the queued requests add up to a preferred size, or when the oldest request has waited
 * `maxDelayMs` (with `workConserving`, also when a slot frees up and the queue holds requests that waited for it), and run by `runBatch` with at most `maxConcurrentBatches` at a time. Each request gets back its
 * own rows of the batch's result, as a view (no copy).
 *
 * Every promise `submit` returns settles exactly once: with the request's rows, or with a
 * {@link SchedulerError} whose `code` says why ('timeout', 'aborted', 'queue_full', 'batch_failed', 'closed'),
 * or with a TypeError/RangeError for a malformed request.
 *
 * @example
 * ```ts
 * const sched = new BatchScheduler(async (x) => model(x), { maxBatchSize: 64, maxDelayMs: 2 });
 * const y = await sched.submit(tensor(features, [1, 256]), { timeoutMs: 100, signal: req.signal });
 * ```
 */
export class BatchScheduler {
  /** Name in statistics and traces. */
  readonly name: string;
  /** Most rows per batch. */
  readonly maxBatchSize: number;
  /** Longest wait for a batch to fill (ms), from when the oldest queued request entered the queue. */
  readonly maxDelayMs: number;
  /** Batch sizes dispatched without waiting, ascending. */
  readonly preferredBatchSizes: readonly number[];
  /** Most queued requests. */
  readonly maxQueue: number;
  /** What a full queue does to a new request. */
  readonly onFull: 'reject' | 'wait';
  /** Most requests waiting for room (`onFull: 'wait'`). */
  readonly maxWaiting: number;
  /** Most batches running at once. */
  readonly maxConcurrentBatches: number;

  private readonly runBatch: RunBatch;
  private readonly defaultTimeoutMs: number;
  private readonly spinWaitMs: number;
  private readonly workConserving: boolean;
  private readonly adaptive: boolean;
  /** The wait for company now: maxDelayMs, or with batchDelay 'adaptive' what the recent batches taught. */
  private delayMs: number;
  private readonly preferred: Set<number>;
  private rowShape: readonly number[] | null;
  private rowSize = 0;
  private dtype: DType | null;

  private readonly levels: ReqList[] = []; // by priority, highest first
  private readonly waitRoom = new ReqList(0);
  private queued = 0;
  private queuedRows = 0;
  private running = 0;
  private pumpScheduled = false;
  /** When a batch last finished while every slot was busy: requests queued before then waited for the model. */
  private freedAt = -Infinity;
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined = undefined;
  private timerIsImmediate = false;
  /** True while the pump runs from a setImmediate: the event-loop turn that queued the requests has ended. */
  private turnEnd = false;
  private timerDeadline = Infinity;
  private closed = false;
  private draining = false;
  private closePromise: Promise<void> | null = null;
  private closeResolve: (() => void) | null = null;
  /** close()'s timeout timer and signal listener, cleared once it resolves. */
  private closeTimers: Array<ReturnType<typeof setTimeout> | (() => void)> = [];
  /** close() gave up waiting for the running batches (see abandon). */
  private abandoned = false;
  /** The requests of each running batch. */
  private readonly inFlight = new Set<Req[]>();
  private readonly slotTids: number[] = [];
  private readonly slotBusy: boolean[] = [];

  private submitted = 0;
  private completed = 0;
  private readonly rejected = { queueFull: 0, timeout: 0, aborted: 0, batchFailed: 0, closed: 0, invalid: 0 };
  private batches = 0;
  private sizeHist: SizeHistogram;
  private readonly waitHist = new LatencyHistogram();
  private readonly runHist = new LatencyHistogram();
  private readonly latencyHist = new LatencyHistogram();

  /** A scheduler that runs batches with `runBatch`. Throws a RangeError or TypeError for a bad option. */
  constructor(runBatch: RunBatch, opts: BatchSchedulerOptions | null = {}) {
    opts = options('BatchScheduler', opts);
    const fn = 'BatchScheduler';
    if (typeof runBatch !== 'function') throw typeError(fn, `runBatch must be a function (batch: Tensor) => Promise<Tensor>, got ${describe(runBatch)}`);
    if (opts === null || typeof opts !== 'object') throw typeError(fn, `opts must be an object, got ${describe(opts)}`);
    this.runBatch = runBatch;
    this.maxBatchSize = checkCount(fn, 'opts.maxBatchSize', opts.maxBatchSize ?? 32, 1, false);
    this.maxDelayMs = checkMs(fn, 'opts.maxDelayMs', opts.maxDelayMs ?? 1);
    this.maxQueue = checkCount(fn, 'opts.maxQueue', opts.maxQueue ?? 1024, 1, true);
    this.maxConcurrentBatches = checkCount(fn, 'opts.maxConcurrentBatches', opts.maxConcurrentBatches ?? 1, 1, false);
    this.defaultTimeoutMs = checkTimeout(fn, 'opts.timeoutMs', opts.timeoutMs ?? Infinity);
    this.spinWaitMs = checkMs(fn, 'opts.spinWaitMs', opts.spinWaitMs ?? 0);
    const wc = opts.workConserving ?? false;
    if (typeof wc !== 'boolean') throw typeError(fn, `opts.workConserving must be true or false, got ${describe(wc)}`);
    this.workConserving = wc;
    const bd = opts.batchDelay ?? 'fixed';
    if (bd !== 'fixed' && bd !== 'adaptive') throw typeError(fn, `opts.batchDelay must be 'fixed' or 'adaptive', got ${describe(bd)}`);
    this.adaptive = bd === 'adaptive';
    this.delayMs = this.maxDelayMs;
    const onFull = opts.onFull ?? 'reject';
    if (onFull !== 'reject' && onFull !== 'wait') throw typeError(fn, `opts.onFull must be 'reject' or 'wait', got ${describe(onFull)}`);
    this.onFull = onFull;
    this.maxWaiting = checkCount(fn, 'opts.maxWaiting', opts.maxWaiting ?? 1024, 0, true);
    const pref = opts.preferredBatchSizes ?? [];
    if (!Array.isArray(pref)) throw typeError(fn, `opts.preferredBatchSizes must be an array of integers, got ${describe(pref)}`);
    for (let i = 0; i < pref.length; i++) {
      const p = pref[i];
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > this.maxBatchSize)
        throw rangeError(fn, `opts.preferredBatchSizes[${i}] must be an integer in [1, maxBatchSize (${this.maxBatchSize})], got ${describe(p)}`);
    }
    this.preferredBatchSizes = Object.freeze([...new Set(pref)].sort((a, b) => a - b));
    this.preferred = new Set(this.preferredBatchSizes);
    if (opts.name !== undefined && typeof opts.name !== 'string') throw typeError(fn, `opts.name must be a string, got ${describe(opts.name)}`);
    this.name = opts.name ?? `scheduler-${++schedulerCount}`;
    this.rowShape = null;
    this.dtype = null;
    if (opts.rowShape !== undefined) {
      const rs = opts.rowShape;
      if (!Array.isArray(rs) || rs.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0))
        throw rangeError(fn, `opts.rowShape must be an array of non-negative integers, got ${describe(rs)}`);
      this.rowShape = Object.freeze(rs.slice());
      this.rowSize = rs.reduce((a: number, b: number) => a * b, 1);
    }
    if (opts.dtype !== undefined) {
      const known = ['float32', 'float16', 'bfloat16', 'int8', 'uint8', 'int32'];
      if (!known.includes(opts.dtype as string)) throw typeError(fn, `opts.dtype must be one of ${known.join(', ')}, got ${describe(opts.dtype)}`);
      this.dtype = opts.dtype;
    }
    this.sizeHist = new SizeHistogram(this.maxBatchSize);
    registerScheduler(this);
  }

  /** Requests waiting to be batched. */
  get queueDepth(): number {
    return this.queued;
  }

  /**
   * How long a request that does not fill a batch waits for company now (ms): `maxDelayMs` with batchDelay
   * 'fixed'; with 'adaptive', between 0 and `maxDelayMs` as the recent batches filled or not.
   */
  get batchDelayMs(): number {
    return this.delayMs;
  }

  /** Batches running now. */
  get runningBatches(): number {
    return this.running;
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Queues `input` ([rows, ...rowShape], 1 ≤ rows ≤ maxBatchSize) and resolves with that request's rows of its
   * batch's result (a view sharing the result's memory). Rejects with a {@link SchedulerError} on timeout,
   * abort, full queue (`onFull: 'reject'`), a failed batch, or a closed scheduler; with a TypeError/RangeError
   * for a malformed request.
   */
  submit(input: Tensor, opts: SubmitOptions | null = {}): Promise<Tensor> {
    opts ??= {}; // null means no options; a non-object rejects below (never a synchronous throw)
    const fn = `BatchScheduler(${this.name}).submit`;
    let rows: number;
    let timeoutMs: number;
    let priority: number;
    let signal: AbortSignal | undefined;
    try {
      if (opts === null || typeof opts !== 'object') throw typeError(fn, `opts must be an object, got ${describe(opts)}`);
      checkTensor(fn, 'input', input);
      if (input.ndim < 1) throw rangeError(fn, 'input must have a first (row) dimension, got a 0-d tensor');
      rows = input.shape[0];
      if (rows < 1 || rows > this.maxBatchSize)
        throw rangeError(fn, `input has ${rows} rows ([${input.shape.join(', ')}]), must have 1 to maxBatchSize (${this.maxBatchSize})`);
      this.checkRow(fn, input);
      timeoutMs = opts.timeoutMs === undefined ? this.defaultTimeoutMs : checkTimeout(fn, 'opts.timeoutMs', opts.timeoutMs);
      priority = opts.priority ?? 0;
      if (typeof priority !== 'number' || !Number.isFinite(priority)) throw typeError(fn, `opts.priority must be a finite number, got ${describe(priority)}`);
      signal = opts.signal;
      if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean'))
        throw typeError(fn, `opts.signal must be an AbortSignal, got ${describe(signal)}`);
    } catch (e) {
      this.rejected.invalid++;
      return rejectSoon(e);
    }
    if (this.closed) {
      this.rejected.closed++;
      return rejectSoon(new SchedulerError('closed', `${fn}: the scheduler is closed`));
    }
    if (signal?.aborted) {
      this.rejected.aborted++;
      return rejectSoon(new SchedulerError('aborted', `${fn}: the signal was already aborted`, signal.reason));
    }
    const full = this.queued >= this.maxQueue;
    if (full && this.onFull === 'reject') {
      this.rejected.queueFull++;
      return rejectSoon(new SchedulerError('queue_full', `${fn}: the queue is full (${this.queued} requests, maxQueue ${this.maxQueue})`));
    }
    if ((full || this.waitRoom.size > 0) && this.waitRoom.size >= this.maxWaiting) {
      this.rejected.queueFull++;
      return rejectSoon(
        new SchedulerError('queue_full', `${fn}: the queue is full (maxQueue ${this.maxQueue}) and so is the wait list (${this.waitRoom.size} requests waiting for room, maxWaiting ${this.maxWaiting})`),
      );
    }
    this.submitted++;
    let resolve!: (t: Tensor) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<Tensor>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const now = performance.now();
    const req = new Req(input, rows, priority, now, signal, resolve, reject);
    if (full || this.waitRoom.size > 0) {
      req.state = WAITING;
      this.waitRoom.push(req);
    } else {
      this.enqueue(req, now);
    }
    if (timeoutMs !== Infinity) req.timer = setTimeout(() => this.onTimeout(req, timeoutMs), timeoutMs);
    if (signal) {
      req.onAbort = () => this.fail(req, 'aborted', `${fn}: aborted ${this.where(req)} after ${fmtMs(performance.now() - req.submittedAt)} ms`, signal.reason);
      signal.addEventListener('abort', req.onAbort, { once: true });
    }
    // A full batch (or a full queue) is cut now, so a synchronous burst of submits does not overflow the queue
    // before a microtask runs; runBatch itself is always called from a microtask, never inside submit.
    if (this.queuedRows >= this.maxBatchSize || this.queued >= this.maxQueue) this.pump();
    else this.schedulePump();
    return promise;
  }

  /**
   * Stops accepting requests. With `drain` (default) everything already submitted still runs, without waiting
   * out `maxDelayMs`; without it, requests not yet in a running batch are rejected with code 'closed'. Resolves
   * once no batch is running and nothing is queued. Calling again returns the same promise (a later
   * `drain: false` still rejects what is left).
   */
  close(opts: CloseOptions | null = {}): Promise<void> {
    opts ??= {}; // null means no options; a non-object rejects below (never a synchronous throw)
    const fn = `BatchScheduler(${this.name}).close`;
    if (opts === null || typeof opts !== 'object') return Promise.reject(typeError(fn, `opts must be an object, got ${describe(opts)}`));
    const drain = opts.drain ?? true;
    if (typeof drain !== 'boolean') return Promise.reject(typeError(fn, `opts.drain must be a boolean, got ${describe(drain)}`));
    const timeoutMs = opts.timeoutMs ?? Infinity;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || (timeoutMs !== Infinity && timeoutMs > TIMER_MAX))
      return Promise.reject(rangeError(fn, `opts.timeoutMs must be a number of ms in [0, ${TIMER_MAX}] or Infinity, got ${describe(timeoutMs)}`));
    const signal = opts.signal;
    if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal))
      return Promise.reject(typeError(fn, `opts.signal must be an AbortSignal, got ${describe(signal)}`));
    this.closed = true;
    if (!this.closePromise) this.closePromise = new Promise<void>((res) => (this.closeResolve = res));
    if (drain) {
      this.draining = true;
    } else {
      this.draining = false;
      const msg = `${fn}: closed without draining before the request's batch started`;
      for (let r = this.waitRoom.head; r; r = this.waitRoom.head) this.fail(r, 'closed', msg);
      for (const lvl of this.levels) for (let r = lvl.head; r; r = lvl.head) this.fail(r, 'closed', msg);
    }
    this.clearTimer();
    this.schedulePump();
    this.checkIdle();
    if (this.closeResolve) {
      if (signal?.aborted) {
        this.abandon(`${fn}: the close signal was aborted before the request settled`);
      } else {
        if (timeoutMs !== Infinity) {
          const t = setTimeout(() => this.abandon(`${fn}: timed out after ${timeoutMs} ms before the request settled`), timeoutMs);
          this.closeTimers.push(t);
        }
        if (signal) {
          const onAbort = () => this.abandon(`${fn}: the close signal was aborted before the request settled`);
          signal.addEventListener('abort', onAbort, { once: true });
          this.closeTimers.push(() => signal.removeEventListener('abort', onAbort));
        }
      }
    }
    return this.closePromise;
  }

  /**
   * close()'s time is up: rejects every request not yet settled with 'closed' (those in running batches too:
   * their batches are abandoned and their results dropped when they come) and resolves close().
   */
  private abandon(message: string): void {
    if (!this.closeResolve) return;
    this.draining = false;
    for (let r = this.waitRoom.head; r; r = this.waitRoom.head) this.fail(r, 'closed', message);
    for (const lvl of this.levels) for (let r = lvl.head; r; r = lvl.head) this.fail(r, 'closed', message);
    for (const reqs of this.inFlight) for (const r of reqs) if (r.state !== DONE) this.fail(r, 'closed', message);
    this.abandoned = true;
    this.checkIdle();
  }

  /** This scheduler's statistics (also part of the package-wide `stats()`). */
  stats(): SchedulerStats {
    return {
      name: this.name,
      closed: this.closed,
      queueDepth: this.queued,
      queuedRows: this.queuedRows,
      batchDelayMs: this.delayMs,
      waitingForRoom: this.waitRoom.size,
      runningBatches: this.running,
      submitted: this.submitted,
      completed: this.completed,
      rejected: { ...this.rejected },
      batches: this.batches,
      batchSizes: this.sizeHist.toObject(),
      meanBatchSize: this.sizeHist.mean(),
      queueWait: this.waitHist.summary(),
      runTime: this.runHist.summary(),
      latency: this.latencyHist.summary(),
    };
  }

  /** Zeroes the counters and histograms (queue depth and other gauges are live and stay). */
  resetStats(): void {
    this.submitted = this.completed = this.batches = 0;
    for (const k of Object.keys(this.rejected) as Array<keyof typeof this.rejected>) this.rejected[k] = 0;
    this.sizeHist = new SizeHistogram(this.maxBatchSize);
    this.waitHist.reset();
    this.runHist.reset();
    this.latencyHist.reset();
  }

  // ---- internals ----

  private checkRow(fn: string, input: Tensor): void {
    const rs = this.rowShape;
    if (this.dtype !== null && input.dtype !== this.dtype) throw typeError(fn, `input.dtype (${input.dtype}) must be ${this.dtype} like the scheduler's other requests`);
    if (rs !== null) {
      let same = input.ndim === rs.length + 1;
      for (let i = 0; same && i < rs.length; i++) same = input.shape[i + 1] === rs[i];
      if (!same)
        throw rangeError(fn, `input shape [${input.shape.join(', ')}] must be [rows, ${rs.join(', ')}] like the scheduler's other requests`);
    }
    if (this.dtype === null) this.dtype = input.dtype;
    if (rs === null) {
      this.rowShape = Object.freeze(input.shape.slice(1));
      this.rowSize = input.size / input.shape[0];
    }
  }

  private enqueue(req: Req, now: number): void {
    req.state = QUEUED;
    req.enqueuedAt = now;
    let lvl: ReqList | undefined;
    let i = 0;
    for (; i < this.levels.length; i++) {
      const l = this.levels[i];
      if (l.priority === req.priority) {
        lvl = l;
        break;
      }
      if (l.priority < req.priority) break;
    }
    if (!lvl) {
      lvl = new ReqList(req.priority);
      this.levels.splice(i, 0, lvl);
    }
    lvl.push(req);
    this.queued++;
    this.queuedRows += req.rows;
  }

  private where(req: Req): string {
    return req.state === WAITING ? 'while waiting for room in the queue' : req.state === QUEUED ? 'in the queue' : 'while its batch ran (its rows were dropped)';
  }

  private onTimeout(req: Req, timeoutMs: number): void {
    req.timer = undefined;
    this.fail(req, 'timeout', `BatchScheduler(${this.name}).submit: timed out after ${timeoutMs} ms ${this.where(req)}`);
  }

  /** Rejects a request that has not settled, taking it out of whichever list holds it. */
  private fail(req: Req, code: SchedulerErrorCode, message: string, cause?: unknown): void {
    if (req.state === DONE) return;
    const wasQueued = req.state === QUEUED;
    const list = req.list;
    if (list) {
      list.unlink(req);
      if (wasQueued) {
        this.queued--;
        this.queuedRows -= req.rows;
        if (list.size === 0) this.dropLevel(list);
      }
    }
    this.settle(req);
    const key = code === 'queue_full' ? 'queueFull' : code === 'batch_failed' ? 'batchFailed' : code;
    this.rejected[key]++;
    req.reject(new SchedulerError(code, message, cause));
    if (wasQueued) {
      this.admitWaiting();
      this.schedulePump(); // the oldest request may have changed
    }
    this.checkIdle();
  }

  /** Marks a request settled and releases its timer and abort listener. */
  private settle(req: Req): void {
    req.state = DONE;
    if (req.timer !== undefined) clearTimeout(req.timer);
    req.timer = undefined;
    if (req.onAbort) req.signal!.removeEventListener('abort', req.onAbort);
    req.onAbort = undefined;
  }

  /** Forgets an empty priority level, so arbitrary numeric priorities (deadlines, say) do not pile up levels. */
  private dropLevel(lvl: ReqList): void {
    const i = this.levels.indexOf(lvl);
    if (i >= 0) this.levels.splice(i, 1);
  }

  private admitWaiting(): void {
    if (!this.waitRoom.head) return;
    const now = performance.now();
    while (this.waitRoom.head && this.queued < this.maxQueue) {
      const r = this.waitRoom.head;
      this.waitRoom.unlink(r);
      this.enqueue(r, now);
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    resolved.then(this.pumpBound);
  }

  private readonly pumpBound = () => this.pump();

  private pump(): void {
    this.pumpScheduled = false;
    while (this.running < this.maxConcurrentBatches && this.queued > 0) {
      const n = this.plan(performance.now());
      if (n === 0) break;
      this.dispatch(n);
    }
    this.armTimer();
    this.checkIdle();
  }

  /** How many requests (in priority order) to dispatch now; 0 to keep waiting. */
  private plan(now: number): number {
    let rows = 0;
    let count = 0;
    let prefCount = 0;
    let oldest = Infinity;
    let blocked = false; // the next request does not fit: this batch cannot grow
    outer: for (const lvl of this.levels) {
      if (lvl.head && lvl.head.enqueuedAt < oldest) oldest = lvl.head.enqueuedAt;
      for (let r = lvl.head; r; r = r.next) {
        if (rows + r.rows > this.maxBatchSize) {
          blocked = true;
          break outer;
        }
        rows += r.rows;
        count++;
        if (this.preferred.has(rows)) prefCount = count;
      }
    }
    if (blocked || rows === this.maxBatchSize || this.draining) return count;
    for (const lvl of this.levels) if (lvl.head && lvl.head.enqueuedAt < oldest) oldest = lvl.head.enqueuedAt;
    // workConserving: a request queued while every slot was busy has already waited (for a whole batch), so when
    // a slot frees up the queue goes at once instead of waiting out maxDelayMs on top. (freedAt stays -Infinity
    // without the option.)
    if (oldest < this.freedAt) return count;
    // A 0 adaptive delay still waits for the end of this event-loop turn (a setImmediate, not a timer): requests
    // that arrived in the same turn (the sockets one poll found readable) go as one batch.
    if (this.delayMs === 0 && this.adaptive) return this.turnEnd ? count : prefCount;
    if (now >= oldest + this.delayMs - DEADLINE_SLACK_MS) return count;
    return prefCount;
  }

  private dispatch(count: number): void {
    const now = performance.now();
    const taken: Req[] = new Array(count);
    let rows = 0;
    let k = 0;
    let emptied = 0;
    for (const lvl of this.levels) {
      while (k < count && lvl.head) {
        const r = lvl.head;
        lvl.unlink(r);
        r.state = RUNNING;
        rows += r.rows;
        taken[k++] = r;
        this.waitHist.add(now - r.submittedAt);
      }
      if (lvl.size === 0) emptied++;
      if (k === count) break;
    }
    // Levels are emptied from the front (highest priority first).
    if (emptied) this.levels.splice(0, emptied);
    this.queued -= count;
    this.queuedRows -= rows;
    if (this.adaptive) this.adapt(rows);
    // An input changed since submit (its buffer detached by a transfer, its shape array edited) is rejected on
    // its own here; the rest of the batch runs.
    let reqs = taken;
    for (let i = 0; i < taken.length; i++) {
      if (this.intact(taken[i])) continue;
      reqs = [];
      for (const r of taken) {
        const why = this.intact(r) ? '' : this.changed(r);
        if (!why) reqs.push(r);
        else {
          rows -= r.rows;
          this.refuse(r, why);
        }
      }
      break;
    }
    this.admitWaiting();
    if (reqs.length === 0) {
      this.checkIdle();
      return;
    }
    let batch: Tensor;
    try {
      batch = this.concat(reqs, rows);
    } catch (e) {
      // Never thrown from a timer: whatever went wrong fails this batch's requests, and only them.
      const msg = `BatchScheduler(${this.name}): could not assemble a batch of ${rows} rows (${reqs.length} requests): ${e instanceof Error ? e.message : describe(e)}`;
      for (const r of reqs) this.fail(r, 'batch_failed', msg, e);
      return;
    }
    this.running++;
    this.batches++;
    this.sizeHist.add(rows);
    this.inFlight.add(reqs);
    let slot = 0;
    while (this.slotBusy[slot]) slot++;
    this.slotBusy[slot] = true;
    if (sinks.length !== 0)
      emitTrace({ name: `${this.name} queue`, ph: 'C', ts: now * 1000, pid: process.pid, tid: 0, args: { requests: this.queued, rows: this.queuedRows } });
    resolved.then(() => this.invoke(batch, reqs, rows, slot));
  }

  /**
   * batchDelay 'adaptive', at each cut of `rows` rows: a batch that filled, or left requests queued, says the load
   * fills batches (the delay doubles toward maxDelayMs); one cut under-full with the queue emptied says waiting
   * did not fill it (the delay shrinks by the batch's fill, at least by half, to 0 below maxDelayMs × ADAPT_FLOOR).
   */
  private adapt(rows: number): void {
    const max = this.maxDelayMs;
    if (rows >= this.maxBatchSize || this.queued > 0) this.delayMs = Math.min(max, Math.max(2 * this.delayMs, max * ADAPT_START));
    else {
      const d = this.delayMs * Math.min(0.5, rows / this.maxBatchSize);
      this.delayMs = d < max * ADAPT_FLOOR ? 0 : d;
    }
  }

  /** The request's input still is what submit checked (fast path of {@link changed}). */
  private intact(r: Req): boolean {
    const t = r.input;
    const n = r.rows * this.rowSize;
    return t.data.length === n && t.size === n && t.shape[0] === r.rows;
  }

  /** Why a request's input is no longer what submit checked ('' when it is). */
  private changed(r: Req): string {
    const t = r.input;
    const fn = `BatchScheduler(${this.name}).submit`;
    try {
      checkTensor(fn, 'input', t);
    } catch (e) {
      return `${(e as Error).message}; the input changed between submit and its batch`;
    }
    if (t.shape[0] !== r.rows || t.size !== r.rows * this.rowSize)
      return `${fn}: input has shape [${t.shape.join(', ')}] at batch time, submitted as ${r.rows} rows of [${this.rowShape!.join(', ')}]; the input changed between submit and its batch`;
    return '';
  }

  /** Rejects a request whose input changed after submit (a malformed request: RangeError). */
  private refuse(r: Req, message: string): void {
    this.settle(r);
    this.rejected.invalid++;
    r.reject(new RangeError(message));
  }

  private invoke(batch: Tensor, reqs: Req[], rows: number, slot: number): void {
    const t0 = performance.now();
    let result: Promise<Tensor> | Tensor;
    try {
      result = this.runBatch(batch);
    } catch (e) {
      result = Promise.reject(e);
    }
    Promise.resolve(result).then(
      (out) => this.finish(reqs, rows, out, t0, slot),
      (err) => this.finish(reqs, rows, err, t0, slot, true),
    );
  }

  /** The batch input: the request itself, a view when the requests are adjacent in one buffer, else one copy. */
  private concat(reqs: Req[], rows: number): Tensor {
    if (reqs.length === 1) return reqs[0].input;
    const first = reqs[0].input.data;
    let end = first.byteOffset + first.byteLength;
    let adjacent = true;
    for (let i = 1; i < reqs.length && adjacent; i++) {
      const d = reqs[i].input.data;
      adjacent = d.buffer === first.buffer && d.byteOffset === end;
      end += d.byteLength;
    }
    const total = rows * this.rowSize;
    const Ctor = first.constructor as { new (n: number): TensorData; new (b: ArrayBufferLike, o: number, n: number): TensorData };
    let data: TensorData;
    if (adjacent) {
      data = new Ctor(first.buffer, first.byteOffset, total);
    } else {
      data = new Ctor(total);
      let off = 0;
      for (const r of reqs) {
        (data as Float32Array).set(r.input.data as Float32Array, off);
        off += r.rows * this.rowSize;
      }
    }
    return new Tensor(data, [rows, ...this.rowShape!], this.dtype!, total);
  }

  private finish(reqs: Req[], rows: number, out: unknown, t0: number, slot: number, threw = false): void {
    const now = performance.now();
    if (this.workConserving && this.running >= this.maxConcurrentBatches) this.freedAt = now;
    this.running--;
    this.inFlight.delete(reqs);
    this.slotBusy[slot] = false;
    this.runHist.add(now - t0);
    if (sinks.length !== 0) {
      let tid = this.slotTids[slot];
      if (tid === undefined) tid = this.slotTids[slot] = allocTid(`${this.name} batch slot ${slot}`);
      emitTrace({ name: `batch[${rows}]`, cat: 'scheduler', ph: 'X', ts: t0 * 1000, dur: (now - t0) * 1000, pid: process.pid, tid, args: { scheduler: this.name, rows, requests: reqs.length, failed: threw } });
    }
    const fn = `BatchScheduler(${this.name})`;
    let error: unknown;
    let message = '';
    if (threw) {
      error = out;
      message = `${fn}: runBatch failed on a batch of ${rows} rows (${reqs.length} requests): ${out instanceof Error ? out.message : describe(out)}`;
    } else if (!(out instanceof Tensor) || !this.wellFormed(out) || out.ndim < 1 || out.shape[0] !== rows) {
      const got = out instanceof Tensor ? `shape [${out.shape.join(', ')}] over ${out.data.length} elements` : describe(out);
      error = out instanceof Tensor ? rangeError(fn, `runBatch result has ${got}`) : typeError(fn, `runBatch result is ${got}`);
      message = `${fn}: runBatch must return a Tensor with ${rows} rows (one per batch row), got ${got}`;
    }
    if (message) {
      for (const r of reqs) if (r.state !== DONE) this.fail(r, 'batch_failed', message, error);
    } else {
      const res = out as Tensor;
      // Several callers get views of one buffer: a transfer list naming it must copy it (or throw), not detach
      // the other callers' rows (as for the slabs of src/alloc.ts).
      if (reqs.length > 1 && res.data.buffer instanceof ArrayBuffer) markAsUntransferable(res.data.buffer);
      let off = 0;
      for (const r of reqs) {
        if (r.state !== DONE) {
          this.settle(r);
          this.completed++;
          this.latencyHist.add(now - r.submittedAt);
          r.resolve(reqs.length === 1 ? res : res.rows(off, off + r.rows));
        }
        off += r.rows;
      }
    }
    this.schedulePump();
  }

  /** checkTensor as a boolean (shape, size and data agree). */
  private wellFormed(t: Tensor): boolean {
    try {
      checkTensor('runBatch', 'result', t);
      return true;
    } catch {
      return false;
    }
  }

  private armTimer(): void {
    if (this.queued === 0 || this.running >= this.maxConcurrentBatches || this.draining) {
      this.clearTimer();
      return;
    }
    let oldest = Infinity;
    for (const lvl of this.levels) if (lvl.head && lvl.head.enqueuedAt < oldest) oldest = lvl.head.enqueuedAt;
    const deadline = oldest + this.delayMs;
    if (deadline === this.timerDeadline && this.timer !== undefined) return;
    this.clearTimer();
    this.timerDeadline = deadline;
    const remaining = deadline - performance.now();
    const fire = () => {
      this.timer = undefined;
      this.timerDeadline = Infinity;
      this.turnEnd = this.timerIsImmediate;
      try {
        this.pump();
      } finally {
        this.turnEnd = false;
      }
    };
    if (remaining <= this.spinWaitMs) {
      this.timerIsImmediate = true;
      this.timer = setImmediate(fire);
    } else {
      this.timerIsImmediate = false;
      this.timer = setTimeout(fire, Math.max(1, remaining - this.spinWaitMs));
    }
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    if (this.timerIsImmediate) clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    else clearTimeout(this.timer as ReturnType<typeof setTimeout>);
    this.timer = undefined;
    this.timerDeadline = Infinity;
  }

  private checkIdle(): void {
    if (!this.closed || !this.closeResolve) return;
    if (this.queued === 0 && this.waitRoom.size === 0 && (this.running === 0 || this.abandoned)) {
      this.clearTimer();
      for (const t of this.closeTimers) typeof t === 'function' ? t() : clearTimeout(t);
      this.closeTimers = [];
      for (const tid of this.slotTids) threadNames.delete(tid);
      const res = this.closeResolve;
      this.closeResolve = null;
      res();
    }
  }
}

/**
 * Inter-op parallelism: run independent jobs (each usually awaiting async ops) concurrently, first come first
 * served, with a concurrency limit and AbortSignal support.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { abortError, watchAbort } from './submit.js';
import { getNumThreads } from './threads.js';

/** A job: receives the signal that aborts it (pass it on to the async ops it awaits). */
export type Job<T> = (signal: AbortSignal) => T | Promise<T>;

/** Options of the {@link Executor} constructor. */
export interface ExecutorOptions {
  /** Jobs running at once (default: {@link getNumThreads} at construction). */
  concurrency?: number;
  /** Aborting it rejects queued jobs, aborts running ones and closes the executor (later `run` calls reject). */
  signal?: AbortSignal;
}

/** Options of {@link Executor.run}. */
export interface RunOptions {
  /** Aborts this job: dropped if still queued (rejects at once), signalled if running. */
  signal?: AbortSignal;
}

interface Entry {
  job: Job<unknown>;
  signal: AbortSignal;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onAbort: () => void;
  /** Cancels the abort watch (one listener per signal however many entries share it: see watchAbort). */
  unwatch: () => void;
  done: boolean;
}

/**
 * Runs jobs concurrently up to a limit, in submission order. Each op inside a job already uses every pool thread
 * for large work; an Executor adds concurrency between independent ops (many small requests, pipelines).
 *
 * ```ts
 * const ex = new Executor({ concurrency: 4 });
 * const ys = await ex.map(batches, (x, _i, signal) => linearAsync(x, w, b, { signal }));
 * ```
 */
export class Executor {
  /** Jobs that may run at once. */
  readonly concurrency: number;
  #queue: Entry[] = [];
  #head = 0;
  #active = 0;
  #controller = new AbortController();
  #closed = false;
  #closeReason: unknown;
  #idle: (() => void)[] = [];

  constructor(opts: ExecutorOptions | null = {}) {
    opts = options('Executor', opts);
    const fn = 'Executor';
    if (opts === null || typeof opts !== 'object') throw typeError(fn, `opts must be an object, got ${describe(opts)}`);
    const c = opts.concurrency ?? getNumThreads();
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > 1_000_000)
      throw rangeError(fn, `concurrency must be an integer in [1, 1000000], got ${describe(c)}`);
    this.concurrency = c;
    const s = opts.signal;
    if (s !== undefined) {
      if (!(s instanceof AbortSignal)) throw typeError(fn, `opts.signal must be an AbortSignal, got ${describe(s)}`);
      const close = () => {
        this.#closed = true;
        this.#closeReason = s.reason;
        this.abort(s.reason);
      };
      if (s.aborted) close();
      else s.addEventListener('abort', close, { once: true });
    }
  }

  /** Jobs waiting for a slot. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** Jobs running now. */
  get active(): number {
    return this.#active;
  }

  /**
   * Queues `job`; it starts when fewer than `concurrency` jobs run and every earlier job has started. Resolves or
   * rejects as the job does; rejects with an AbortError if aborted while queued.
   */
  run<T>(job: Job<T>, opts: RunOptions | null = {}): Promise<T> {
    opts ??= {}; // null means no options; a non-object rejects below (never a synchronous throw)
    const fn = 'Executor.run';
    if (typeof job !== 'function') return Promise.reject(typeError(fn, `job must be a function, got ${describe(job)}`));
    if (typeof opts !== 'object') return Promise.reject(typeError(fn, `opts must be an object, got ${describe(opts)}`));
    const user = opts.signal;
    if (user !== undefined && !(user instanceof AbortSignal))
      return Promise.reject(typeError(fn, `opts.signal must be an AbortSignal, got ${describe(user)}`));
    if (this.#closed) return Promise.reject(abortError(fn, this.#closeReason));
    if (user?.aborted) return Promise.reject(abortError(fn, user.reason));
    const signal = user ? AbortSignal.any([this.#controller.signal, user]) : this.#controller.signal;
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        job: job as Job<unknown>,
        signal,
        resolve: resolve as (v: unknown) => void,
        reject,
        done: false,
        unwatch: () => {},
        onAbort: () => {
          // Still queued: drop it. (A running job sees the signal itself.)
          if (entry.done) return;
          entry.done = true;
          reject(abortError(fn, signal.reason));
          this.#compact();
          this.#maybeIdle();
        },
      };
      entry.unwatch = watchAbort(signal, entry.onAbort);
      this.#queue.push(entry);
      this.#pump();
    });
  }

  /** Runs `fn` over every item through this executor; resolves with the results in input order. */
  map<I, R>(items: Iterable<I>, fn: (item: I, index: number, signal: AbortSignal) => R | Promise<R>, opts: RunOptions | null = {}): Promise<R[]> {
    opts ??= {}; // null means no options; a non-object rejects below (never a synchronous throw)
    if (typeof fn !== 'function') return Promise.reject(typeError('Executor.map', `fn must be a function, got ${describe(fn)}`));
    return Promise.all(Array.from(items, (item, i) => this.run((s) => fn(item, i, s), opts)));
  }

  /** Resolves when no job is queued or running. */
  onIdle(): Promise<void> {
    if (this.#active === 0 && this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Aborts every job queued or running now (queued ones reject at once); the executor stays usable. */
  abort(reason?: unknown): void {
    const c = this.#controller;
    this.#controller = new AbortController();
    c.abort(reason);
  }

  #compact(): void {
    while (this.#head < this.#queue.length && this.#queue[this.#head].done) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #maybeIdle(): void {
    if (this.#active !== 0 || this.pending !== 0) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const w of waiters) w();
  }

  #pump(): void {
    this.#compact();
    while (this.#active < this.concurrency && this.#head < this.#queue.length) {
      const e = this.#queue[this.#head++];
      if (e.done) continue;
      e.done = true;
      e.unwatch(); // running now: the job sees its signal itself
      this.#active++;
      const finish = () => {
        this.#active--;
        this.#pump();
        this.#maybeIdle();
      };
      let p: Promise<unknown>;
      try {
        p = Promise.resolve(e.job(e.signal));
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (v) => {
          finish();
          e.resolve(v);
        },
        (err: unknown) => {
          finish();
          e.reject(err);
        },
      );
    }
    this.#compact();
  }
}

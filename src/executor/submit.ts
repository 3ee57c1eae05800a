/**
 * The one path from an async op to the native queue: op ids, AbortSignal plumbing, AbortError.
 * @module
 */
import { native } from '../native.js';
import { describe, typeError } from '../errors.js';

let lastId = 0;

/** A fresh op id (uint32, never 0) for native cancelAsync. */
function nextId(): number {
  lastId = lastId >= 0xffffffff ? 1 : lastId + 1;
  return lastId;
}

/** An `AbortError` (name 'AbortError', code 'ABORT_ERR', the signal's reason as `cause`), like Node's own APIs. */
export function abortError(fn: string, reason?: unknown): Error {
  const e = new Error(`${fn}: the operation was aborted`, reason === undefined ? undefined : { cause: reason });
  e.name = 'AbortError';
  (e as Error & { code: string }).code = 'ABORT_ERR';
  return e;
}

/** The callbacks waiting on one signal, behind its one 'abort' listener. */
interface Watch {
  cbs: Set<() => void>;
  fire: () => void;
}
const watches = new WeakMap<AbortSignal, Watch>();

/**
 * @internal Calls `cb` once when `signal` aborts; returns the function that cancels that. However many ops or jobs
 * wait on one signal, it carries a single 'abort' listener (removed once nothing waits), so a shared signal never
 * trips Node's MaxListenersExceededWarning (11 listeners) however many ops use it at once.
 */
export function watchAbort(signal: AbortSignal, cb: () => void): () => void {
  let w = watches.get(signal);
  if (!w) {
    const cbs = new Set<() => void>();
    const fire = () => {
      watches.delete(signal);
      for (const f of [...cbs]) f();
      cbs.clear();
    };
    w = { cbs, fire };
    watches.set(signal, w);
    signal.addEventListener('abort', fire, { once: true });
  }
  const watch = w;
  watch.cbs.add(cb);
  return () => {
    if (!watch.cbs.delete(cb) || watch.cbs.size !== 0 || watches.get(signal) !== watch) return;
    watches.delete(signal);
    signal.removeEventListener('abort', watch.fire);
  };
}

/**
 * Starts a native async op and resolves with `result` once the native work has finished. `start(id)` calls the
 * native function and returns its Promise; if it throws (bad arguments, ERR_SIMDTENSOR_BUSY) the returned Promise
 * rejects with that error. A `signal` that is not an AbortSignal (undefined/null mean none), or a `start` that is not
 * a function or does not return a Promise, rejects with a TypeError; `start` is not called for a bad signal.
 *
 * Abort: an op still queued is removed at once and rejects with an AbortError. An op already running cannot be
 * interrupted (a GEMM has no safe stopping point); its Promise rejects with an AbortError when it finishes, so a
 * settled Promise always means the native side no longer touches the memory.
 */
export function runNativeAsync<T>(fn: string, signal: AbortSignal | undefined, start: (id: number) => Promise<unknown>, result: T): Promise<T> {
  // Everything that can throw is checked before start() runs: once the native op is queued, its promise must
  // always get a handler, or a later rejection would be unhandled and end the process.
  if (typeof fn !== 'string') return Promise.reject(typeError('runNativeAsync', `fn must be a string (the op name), got ${describe(fn)}`));
  if (signal === null) signal = undefined;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return Promise.reject(typeError(fn, `options.signal must be an AbortSignal, got ${describe(signal)}`));
  }
  if (typeof start !== 'function') return Promise.reject(typeError(fn, `start must be a function, got ${describe(start)}`));
  if (signal?.aborted) return Promise.reject(abortError(fn, signal.reason));
  const id = signal ? nextId() : 0;
  let p: unknown;
  try {
    p = start(id);
  } catch (e) {
    return Promise.reject(e);
  }
  if (!isThenable(p)) return Promise.reject(typeError(fn, `start(id) must return a Promise, got ${describe(p)}`));
  if (!signal) return Promise.resolve(p).then(() => result);
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const unwatch = watchAbort(signal, () => {
      aborted = true;
      native.cancelAsync(id);
    });
    Promise.resolve(p).then(
      () => {
        unwatch();
        if (aborted) reject(abortError(fn, signal.reason));
        else resolve(result);
      },
      (e: unknown) => {
        unwatch();
        reject(aborted ? abortError(fn, signal.reason) : e);
      },
    );
  });
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * The one path from an async op to the native queue: op ids, AbortSignal plumbing, AbortError.
 * @module
 */
import { native } from '../native.js';

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
 * native function (it may throw synchronously: bad arguments, ERR_SIMDTENSOR_BUSY).
 *
 * Abort: an op still queued is removed at once and rejects with an AbortError. An op already running cannot be
 * interrupted (a GEMM has no safe stopping point); its Promise rejects with an AbortError when it finishes, so a
 * settled Promise always means the native side no longer touches the memory.
 */
export function runNativeAsync<T>(fn: string, signal: AbortSignal | undefined, start: (id: number) => Promise<unknown>, result: T): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortError(fn, signal.reason));
  if (!signal) return start(0).then(() => result);
  const id = nextId();
  const p = start(id);
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const unwatch = watchAbort(signal, () => {
      aborted = true;
      native.cancelAsync(id);
    });
    p.then(
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

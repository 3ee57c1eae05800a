/**
 * Ownership scopes for hot loops: `scope(fn)` hands every large output made while `fn` runs back to the output
 * pool when `fn` returns, except what `fn` returns (and what {@link keep} marked), like TF.js's `tidy`. A pooled
 * output otherwise goes back only after V8 collects it and Node runs its finalizer on the event loop, so a loop
 * that never yields maps fresh memory for every output (one page fault per 4 KiB, ~15 µs each on a VM; see
 * docs/memory.md). A released output's ArrayBuffer is detached first: a tensor kept by mistake past its scope
 * reads as empty and every op refuses it with a TypeError, so the reused memory is never reachable from it.
 * @module
 */
import { typeError } from './errors.js';
import { native } from './native.js';

/** Large outputs made inside each open scope (innermost last), in allocation order. */
const open: ArrayBuffer[][] = [];
/** Buffers {@link keep} exempted from every scope. */
const kept = new WeakSet<ArrayBuffer>();

/** @internal Called by src/alloc.ts for each large (pool-sized) output it makes. */
export function trackOutput(ab: ArrayBuffer): void {
  if (open.length > 0) open[open.length - 1].push(ab);
}

/** Whether a scope is open (src/alloc.ts tracks outputs only then). */
export function inScope(): boolean {
  return open.length > 0;
}

const MAX_DEPTH = 32;

/**
 * Adds to `into` every ArrayBuffer reachable from `v` through views, arrays, Maps, Sets and own data properties
 * (accessors are not called, so no user code runs). Returns false if the walk could not finish (a Proxy that
 * throws, say): the caller then releases nothing.
 */
function reachable(v: unknown, into: Set<ArrayBuffer>, seen: Set<object>, depth: number): boolean {
  if (v === null || typeof v !== 'object') return true; // functions (and their closures) are not walked
  if (seen.has(v as object)) return true;
  if (depth > MAX_DEPTH) return false;
  seen.add(v as object);
  if (v instanceof ArrayBuffer) {
    into.add(v);
    return true;
  }
  if (ArrayBuffer.isView(v)) {
    if (v.buffer instanceof ArrayBuffer) into.add(v.buffer);
    return true;
  }
  if (v instanceof Map) {
    for (const [k, x] of v) if (!reachable(k, into, seen, depth + 1) || !reachable(x, into, seen, depth + 1)) return false;
    return true;
  }
  if (v instanceof Set) {
    for (const x of v) if (!reachable(x, into, seen, depth + 1)) return false;
    return true;
  }
  const descs = Object.getOwnPropertyDescriptors(v);
  for (const key of Reflect.ownKeys(descs)) {
    const d = descs[key as string];
    if ('value' in d && !reachable(d.value, into, seen, depth + 1)) return false;
  }
  return true;
}

/** {@link reachable}, where a throwing Proxy or getter-free oddity ends the walk (false) instead of escaping. */
function reachableSafe(v: unknown, into: Set<ArrayBuffer>): boolean {
  try {
    return reachable(v, into, new Set(), 0);
  } catch {
    return false;
  }
}

function release(bufs: ArrayBuffer[], keepSet: Set<ArrayBuffer> | null, parent: ArrayBuffer[] | undefined): void {
  for (const ab of bufs) {
    if (kept.has(ab)) continue;
    if (keepSet === null || keepSet.has(ab)) {
      parent?.push(ab); // escapes to the enclosing scope, which releases it unless it escapes again
      continue;
    }
    native.releaseBuffer(ab);
  }
}

/**
 * Runs `fn` and returns what it returns; when it ends (returning or throwing), every large output an op made while
 * it ran goes back to the output pool at once, except the outputs reachable from the returned value (tensors,
 * arrays, Maps, Sets and plain objects of them, QuantizedTensors...) and those passed to {@link keep}. Outputs of
 * an inner scope that it returns belong to the outer scope. `fn` must be synchronous: a returned Promise is a
 * TypeError (nothing is released then).
 *
 * Released outputs are detached: a tensor kept past its scope without `keep` has an empty buffer, and every op
 * refuses it with a TypeError. Only pool-sized outputs (at least {@link POOL_MIN_BYTES} bytes) are tracked; smaller
 * ones are cheap and left to the GC, as are outputs an async op still in flight reads or writes.
 *
 * ```ts
 * for (const batch of batches) {                       // a loop that never yields
 *   const logits = scope(() => linear(relu(linear(batch, w1, b1)), w2, b2)); // the hidden layer is recycled
 *   use(logits);
 * }
 * ```
 */
export function scope<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw typeError('scope', `fn must be a function, got ${fn === null ? 'null' : typeof fn}`);
  const mine: ArrayBuffer[] = [];
  open.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    open.pop();
    release(mine, new Set(), open[open.length - 1]);
    throw e;
  }
  open.pop();
  const parent = open[open.length - 1];
  if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof (result as { then?: unknown }).then === 'function') {
    release(mine, null, parent);
    throw typeError('scope', 'fn returned a Promise: a scope must be synchronous (its outputs were left to the garbage collector)');
  }
  const keepSet = new Set<ArrayBuffer>();
  const ok = mine.length === 0 || reachableSafe(result, keepSet);
  release(mine, ok ? keepSet : null, parent);
  return result;
}

/**
 * Marks every output reachable from `value` (a tensor, or arrays/objects of them) as outliving every scope, so no
 * scope releases it (the GC still reclaims it once unreachable). Returns `value`.
 */
export function keep<T>(value: T): T {
  const s = new Set<ArrayBuffer>();
  reachableSafe(value, s); // what a throwing Proxy hides cannot be marked; what was found before it is
  for (const ab of s) kept.add(ab);
  return value;
}

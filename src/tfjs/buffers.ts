/**
 * Output-buffer recycling for the TF.js backend. TF.js frees intermediate tensors explicitly (tidy, dispose), so a
 * buffer our kernel allocated can be reused for the next output of that size (or up to half of it) right away instead of waiting for
 * V8's GC: on a VM a fresh multi-MiB buffer costs a page fault per 4 KiB (README: a fresh 4 MiB output added
 * 8–13 ms to an 11 ms GEMM), and a model's activations are mostly fresh multi-MiB buffers.
 *
 * A buffer is reused only when nothing else can still see it: it was allocated here, written to the backend once
 * (as the full array, by our kernel's output), never read out (readSync / read / bufferSync hand the array itself
 * to the caller) and never stored again — as a view (CPU kernels such as Slice return subarrays of their input) or
 * under a second data id. Any of those pins it, and a pinned buffer is left to the GC as before.
 * @module
 */
import { allocF32, POOL_MIN_BYTES } from '../alloc.js';

/** Smallest buffer worth tracking (smaller ones are cheap to allocate). */
const MIN_BYTES = 64 * 1024;
const FRESH = 0, STORED = 1, PINNED = 2, FREE = 3;
/** Tracked outputs start this many bytes into their buffer (64: the alignment is kept); see mayBeTracked. */
const HEAD = 64;

// 1 GiB: MobileNetV2 at batch 16 reuses ~850 MB of freed outputs per run; at 256 MiB its kernels took 4.6× longer
// (5.9 s vs 1.3 s a run, mostly page faults of fresh buffers). Only memory the model actually freed is held.
let limitBytes = 1024 * 1024 * 1024;
let freeBytes = 0;
const state = new WeakMap<ArrayBuffer, number>();
const free = new Map<number, ArrayBuffer[]>();
/** Every free buffer, oldest first: the cap evicts from the front (a size no longer in use ages out). */
const age = new Set<ArrayBuffer>();
let hits = 0, misses = 0;

/**
 * A float32 output of `size` elements: the start of a recycled buffer of that size or up to twice it when one is
 * free (its contents are stale: the caller writes every element), else a fresh one (zero-filled).
 */
export function allocOut(size: number): Float32Array {
  const bytes = size * 4;
  if (bytes < MIN_BYTES) return new Float32Array(size);
  // Best fit among the free sizes in [bytes, 2·bytes]: a model's activations come in a few dozen sizes, and at
  // large batches the cap holds only a few of the biggest, so exact-size matching alone misses often.
  const need = bytes + HEAD;
  let best = 0;
  for (const [b, list] of free) if (list.length && b >= need && b <= 2 * bytes && (best === 0 || b < best)) best = b;
  const buf = best ? free.get(best)!.pop() : undefined;
  if (buf) {
    age.delete(buf);
    freeBytes -= buf.byteLength;
    state.set(buf, FRESH);
    hits++;
    return new Float32Array(buf, HEAD, size);
  }
  misses++;
  const n = size + HEAD / 4;
  const f = (need >= POOL_MIN_BYTES ? allocF32(n) : new Float32Array(n)).subarray(HEAD / 4);
  if (f.byteOffset === HEAD && f.buffer instanceof ArrayBuffer) state.set(f.buffer, FRESH);
  return f;
}

/**
 * Whether `values` may share a buffer with a tracked output. Tracked outputs start HEAD bytes into their buffer, so
 * every view of one has byteOffset >= HEAD: an array at offset 0 of at most 64 bytes cannot be one. That is every
 * tiny tensor (V8 keeps typed arrays of <= 64 bytes on its heap, and reading `.buffer` of one moves it off the heap:
 * ~0.4 µs, most of the gap between a 4×4 tf.matMul round trip here and on 'cpu').
 */
const mayBeTracked = (values: ArrayBufferView): boolean => values.byteOffset !== 0 || values.byteLength > 64;

/** The backend stores `values` under a data id (write / move / makeTensorInfo). */
/** Returns a scratch array from {@link allocOut} that no tensor holds to the free lists (a kernel's temporary). */
export function releaseScratch(values: Float32Array): void {
  noteStored(values);
  noteFreed(values);
}

export function noteStored(values: unknown): void {
  if (!ArrayBuffer.isView(values) || !mayBeTracked(values)) return;
  const buf = values.buffer as ArrayBuffer;
  const s = state.get(buf);
  if (s === undefined || s === PINNED) return;
  // Our kernel's output: the array allocOut made, HEAD bytes into its buffer (a recycled buffer may be larger).
  state.set(buf, s === FRESH && values.byteOffset === HEAD ? STORED : PINNED);
}

/** The backend hands `values` out (readSync / read): the caller may keep it. */
export function noteExposed(values: unknown): void {
  if (ArrayBuffer.isView(values) && mayBeTracked(values) && state.has(values.buffer as ArrayBuffer)) state.set(values.buffer as ArrayBuffer, PINNED);
}

/** The data holding `values` was freed: its buffer becomes reusable if it was only ever ours. */
export function noteFreed(values: unknown): void {
  if (!ArrayBuffer.isView(values) || !mayBeTracked(values)) return;
  const buf = values.buffer as ArrayBuffer;
  if (state.get(buf) !== STORED) return;
  if (buf.byteLength > limitBytes) {
    state.delete(buf);
    return;
  }
  evict(limitBytes - buf.byteLength);
  state.set(buf, FREE);
  freeBytes += buf.byteLength;
  let list = free.get(buf.byteLength);
  if (!list) free.set(buf.byteLength, (list = []));
  list.push(buf);
  age.add(buf);
}

/** Drops the oldest free buffers until at most `keep` bytes are held (the GC then takes them). */
function evict(keep: number): void {
  for (const old of age) {
    if (freeBytes <= keep) break;
    age.delete(old);
    const list = free.get(old.byteLength)!;
    list.splice(list.indexOf(old), 1);
    state.delete(old);
    freeBytes -= old.byteLength;
  }
}

/**
 * Caps the bytes of freed output buffers kept for reuse (default 1 GiB; 0 turns recycling off and frees what is held); past the cap the
 * oldest free buffers are dropped first.
 */
export function setRecycleLimit(bytes: number): void {
  if (!(Number.isFinite(bytes) && bytes >= 0)) throw new RangeError(`setRecycleLimit: bytes must be a finite number >= 0, got ${String(bytes)}`);
  limitBytes = bytes;
  evict(limitBytes);
}

/** Recycling counters: buffers reused (hits), fresh allocations (misses), bytes held free, the cap. */
export function recycleStats(): { hits: number; misses: number; freeBytes: number; limitBytes: number } {
  return { hits, misses, freeBytes, limitBytes };
}

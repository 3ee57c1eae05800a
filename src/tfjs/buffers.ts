/**
 * Output-buffer recycling for the TF.js backend. TF.js frees intermediate tensors explicitly (tidy, dispose), so a
 * buffer our kernel allocated can be reused for the next output of the same size right away instead of waiting for
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

let limitBytes = 256 * 1024 * 1024;
let freeBytes = 0;
const state = new WeakMap<ArrayBuffer, number>();
const free = new Map<number, ArrayBuffer[]>();
let hits = 0, misses = 0;

/**
 * A float32 output of `size` elements: a recycled buffer of exactly that size when one is free (its contents are
 * stale: the caller writes every element), else a fresh one (zero-filled).
 */
export function allocOut(size: number): Float32Array {
  const bytes = size * 4;
  if (bytes < MIN_BYTES) return new Float32Array(size);
  const list = free.get(bytes);
  const buf = list?.pop();
  if (buf) {
    freeBytes -= bytes;
    state.set(buf, FRESH);
    hits++;
    return new Float32Array(buf, 0, size);
  }
  misses++;
  const f = bytes >= POOL_MIN_BYTES ? allocF32(size) : new Float32Array(size);
  if (f.byteOffset === 0 && f.buffer.byteLength === bytes && f.buffer instanceof ArrayBuffer) state.set(f.buffer, FRESH);
  return f;
}

/** The backend stores `values` under a data id (write / move / makeTensorInfo). */
export function noteStored(values: unknown): void {
  if (!ArrayBuffer.isView(values)) return;
  const buf = values.buffer as ArrayBuffer;
  const s = state.get(buf);
  if (s === undefined || s === PINNED) return;
  state.set(buf, s === FRESH && values.byteOffset === 0 && values.byteLength === buf.byteLength ? STORED : PINNED);
}

/** The backend hands `values` out (readSync / read): the caller may keep it. */
export function noteExposed(values: unknown): void {
  if (ArrayBuffer.isView(values) && state.has(values.buffer as ArrayBuffer)) state.set(values.buffer as ArrayBuffer, PINNED);
}

/** The data holding `values` was freed: its buffer becomes reusable if it was only ever ours. */
export function noteFreed(values: unknown): void {
  if (!ArrayBuffer.isView(values)) return;
  const buf = values.buffer as ArrayBuffer;
  if (state.get(buf) !== STORED) return;
  if (freeBytes + buf.byteLength > limitBytes) {
    state.delete(buf);
    return;
  }
  state.set(buf, FREE);
  freeBytes += buf.byteLength;
  let list = free.get(buf.byteLength);
  if (!list) free.set(buf.byteLength, (list = []));
  list.push(buf);
}

/**
 * Caps the bytes of freed output buffers kept for reuse (default 256 MiB; 0 turns recycling off) and drops what is
 * above the cap.
 */
export function setRecycleLimit(bytes: number): void {
  if (!(Number.isFinite(bytes) && bytes >= 0)) throw new RangeError(`setRecycleLimit: bytes must be a finite number >= 0, got ${String(bytes)}`);
  limitBytes = bytes;
  for (const [size, list] of free)
    while (freeBytes > limitBytes && list.length) {
      state.delete(list.pop()!);
      freeBytes -= size;
    }
}

/** Recycling counters: buffers reused (hits), fresh allocations (misses), bytes held free, the cap. */
export function recycleStats(): { hits: number; misses: number; freeBytes: number; limitBytes: number } {
  return { hits, misses, freeBytes, limitBytes };
}

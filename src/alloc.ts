/**
 * Output allocation. Small outputs are carved from shared 64 KiB slabs: a fresh small TypedArray lives on the V8
 * heap and costs ~1 µs the first time native code touches it (V8 moves it off-heap), and a fresh ArrayBuffer costs
 * ~0.3-0.6 µs to create; a view into an existing slab costs ~30 ns. The price: a small output keeps its slab alive
 * (at most 64 KiB per live slab), and its `data.buffer` is the whole slab. Every slab is marked untransferable
 * (`markAsUntransferable`, as Node does for its own Buffer pool): a transfer list naming it copies it (Node 20) or
 * throws a DataCloneError (Node >= 21) instead of detaching the slab under every other output carved from it.
 * (Giving every small output its own ArrayBuffer instead doubles the per-call cost of tiny ops: add of 1 element
 * 0.19-0.25 -> 0.43-0.86 µs, matmul 4x4 0.41-0.73 -> 0.71-1.15 µs, medians of 9 runs on the loaded CI VM.)
 *
 * Large outputs (≥ {@link POOL_MIN_BYTES}) made inside a `scope`, and outside one those too large for glibc's heap
 * (≥ 32 MiB where the addon tuned glibc; every size where it did not), come from the native buffer pool (native/runtime/core/buffer_pool.h): a fresh
 * multi-megabyte ArrayBuffer is mapped page by page as the kernel first writes it, one page fault per 4 KiB, and
 * on a VM that is ~15 µs each — 15 ms for the 4 MiB output of a 1024³ GEMM that itself takes 11 ms. Pooled blocks
 * go back to the pool when V8 collects their ArrayBuffer (a finalizer on the event loop), so the next output of
 * that size reuses mapped memory (a memset instead of the faults). While more than the limit is out and not yet
 * back (code that never yields), large outputs are plain buffers again, which the general allocator recycles. Such
 * a buffer is external memory to V8, which a transfer list cannot detach: Node copies it instead of moving it and
 * the original stays intact (measured on Node 20; test/alloc.test.ts). `setBufferPoolLimit(0)` turns pooling off.
 * A `scope(fn)` (src/scope.ts) hands the pooled outputs made inside it back when `fn` returns, without waiting for
 * the event loop; docs/memory.md has the whole mechanism and its measurements.
 * Medium outputs get their own plain buffer.
 * @module
 */
import { markAsUntransferable } from 'node:worker_threads';
import type { DType, TensorData } from './dtype.js';
import { arrayCtor, dtypeBytes } from './dtype.js';
import { native } from './native.js';
import { inScope, trackOutput } from './scope.js';

const SLAB_BYTES = 1 << 16;
const SMALL_BYTES = 4096;
/** Outputs of at least this many bytes come from the native buffer pool. */
export const POOL_MIN_BYTES = 1 << 18;
/** A fresh slab, never detachable by a transfer list (see the module comment). */
function newSlab(): ArrayBuffer {
  const b = new ArrayBuffer(SLAB_BYTES);
  markAsUntransferable(b);
  return b;
}
let slab = newSlab();
let offset = 0;

/** A zero-filled array of `n` elements of `dtype` (slab-backed when small). */
export function allocArray(dtype: DType, n: number): TensorData {
  const bytes = n * dtypeBytes(dtype);
  const Ctor = arrayCtor(dtype);
  if (bytes >= POOL_MIN_BYTES) {
    if (!inScope()) return new Ctor(native.allocBuffer(bytes), 0, n);
    const ab = native.allocBuffer(bytes, true); // the scope hands it back: up to twice the limit (buffer_pool.h)
    trackOutput(ab);
    return new Ctor(ab, 0, n);
  }
  if (bytes > SMALL_BYTES || bytes === 0) return new Ctor(n);
  if (offset + bytes > SLAB_BYTES) {
    slab = newSlab();
    offset = 0;
  }
  const v = new Ctor(slab, offset, n);
  offset += (bytes + 63) & ~63; // keep every small output on its own cache lines
  return v;
}

/**
 * An output array that the op's kernel overwrites whole before anyone sees it (GEMM outputs, the ONNX runner's graph
 * outputs): as {@link allocArray} but a medium or pool-sized one is not zero-filled — a reused pool block keeps its
 * old bytes and, past the pool's limit or below its size, a plain buffer comes uninitialized (`Buffer.allocUnsafeSlow`)
 * instead of from `calloc`. Saves one write pass over the output per call (issue #20: fresh outputs at 1 MiB cost 15–25 % of an int8 GEMM on a quiet Xeon with no page faults).
 */
export function allocOutput(dtype: DType, n: number): TensorData {
  const bytes = n * dtypeBytes(dtype);
  if (bytes < POOL_MIN_BYTES) {
    if (bytes <= SMALL_BYTES) return allocArray(dtype, n);
    return new (arrayCtor(dtype))(Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer, 0, n); // malloc, not calloc
  }
  const scoped = inScope();
  const ab = native.allocBuffer(bytes, scoped, true) ?? (Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer);
  if (scoped) trackOutput(ab);
  return new (arrayCtor(dtype))(ab, 0, n);
}

/** A zero-filled Float32Array of `n` elements (slab-backed when small). */
export function allocF32(n: number): Float32Array {
  return allocArray('float32', n) as Float32Array;
}

/** What the native output-buffer pool holds (see the module comment). */
export interface BufferPoolStats {
  /** Bytes held for reuse, and in how many blocks. */
  cachedBytes: number;
  cachedBlocks: number;
  /** The most bytes the pool keeps (0: pooling off). */
  limitBytes: number;
  /** Allocations served from the pool / by fresh memory. */
  hits: number;
  misses: number;
  /** Bytes of pooled buffers handed out and not yet collected. */
  outstandingBytes: number;
  /**
   * Allocations the pool declined (plain buffers instead): outputs made outside a {@link scope} smaller than
   * `plainBelowBytes`, and any made while `outstandingBytes` had reached the limit (the program had not yielded to
   * the event loop, where collected buffers come back).
   */
  declined: number;
  /** Blocks handed back early by the end of a {@link scope} (src/scope.ts), rather than by their finalizer. */
  released: number;
  /**
   * Outputs made outside a scope that are smaller than this are plain buffers, never pool blocks: glibc's tuned mmap
   * threshold (32 MiB) where the addon tuned glibc, else 0. Below it the allocator reuses what V8's GC frees at once,
   * while a pool block comes back only after the GC and a turn of the event loop (docs/memory.md).
   */
  plainBelowBytes: number;
}

/** Statistics of the output-buffer pool (process-wide: shared by every worker thread). */
export function bufferPoolStats(): BufferPoolStats {
  return native.bufferPool();
}

/**
 * Sets the most bytes the output-buffer pool keeps for reuse (default 64 MiB, or `SIMDTENSOR_POOL_MB` from the
 * environment); 0 turns pooling off, so large outputs are plain (transferable) ArrayBuffers. Trims the pool.
 */
export function setBufferPoolLimit(bytes: number): void {
  if (typeof bytes !== 'number') throw new TypeError(`setBufferPoolLimit: bytes must be a number, got ${typeof bytes}`);
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`setBufferPoolLimit: bytes must be a non-negative integer, got ${bytes}`);
  native.setBufferPoolLimit(bytes);
}

/** Frees every block the output-buffer pool holds (it refills as outputs are collected). */
export function trimBufferPool(): void {
  native.trimBufferPool();
}

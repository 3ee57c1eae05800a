/**
 * Output allocation. Small outputs are carved from shared 64 KiB slabs: a fresh small TypedArray lives on the V8
 * heap and costs ~1 µs the first time native code touches it (V8 moves it off-heap), and a fresh ArrayBuffer costs
 * ~1 µs to create; a view into an existing slab costs ~30 ns. The price: a small output keeps its slab alive
 * (at most 64 KiB per live slab). Large outputs get their own buffer.
 * @module
 */
import type { DType, TensorData } from './dtype.js';
import { arrayCtor, dtypeBytes } from './dtype.js';

const SLAB_BYTES = 1 << 16;
const SMALL_BYTES = 4096;
let slab = new ArrayBuffer(SLAB_BYTES);
let offset = 0;

/** A zero-filled array of `n` elements of `dtype` (slab-backed when small). */
export function allocArray(dtype: DType, n: number): TensorData {
  const bytes = n * dtypeBytes(dtype);
  const Ctor = arrayCtor(dtype);
  if (bytes > SMALL_BYTES || bytes === 0) return new Ctor(n);
  if (offset + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    offset = 0;
  }
  const v = new Ctor(slab, offset, n);
  offset += (bytes + 63) & ~63; // keep every small output on its own cache lines
  return v;
}

/** A zero-filled Float32Array of `n` elements (slab-backed when small). */
export function allocF32(n: number): Float32Array {
  return allocArray('float32', n) as Float32Array;
}

/**
 * Half precision dtypes: float16 (IEEE binary16) and bfloat16 tensors and their conversions.
 *
 * - {@link cast} / `Tensor.prototype.to` convert between float32, float16 and bfloat16 with round-to-nearest-even
 *   (NaN stays NaN, ±Inf and subnormals exact) on the SIMD converters of the best allowed ISA (registered here).
 * - Float16Array interop where the runtime has one ({@link toFloat16Array}; `tensor(float16Array)` wraps one).
 *
 * The half GEMM is in ./gemm.ts. See docs/half.md.
 * @module
 */
import type { DType } from '../dtype.js';
import { describe, typeError } from '../errors.js';
import { native } from '../native.js';
import { checkTensor, Tensor } from '../tensor.js';
import { allocArray } from '../alloc.js';
import { registerCast } from '../ops/registry.js';

/** The half-precision dtypes. */
export type HalfDType = 'float16' | 'bfloat16';

/** @internal dtype → the type code of the native half entry points. */
export const TYPE_CODE: Record<string, number> = { float32: 0, float16: 1, bfloat16: 2 };
/** @internal */
export const isHalf = (d: unknown): d is HalfDType => d === 'float16' || d === 'bfloat16';
/** @internal */
export const isFloat = (d: unknown): d is 'float32' | HalfDType => d === 'float32' || d === 'float16' || d === 'bfloat16';

/** @internal A fresh tensor of `dtype` (pooled memory). */
export function newTensor(dtype: DType, shape: readonly number[], n: number): Tensor {
  return new Tensor(allocArray(dtype, n), shape.slice(), dtype, n);
}

/**
 * A tensor of `dtype` holding `t`'s values: float32 ↔ float16 ↔ bfloat16 with round-to-nearest-even (NaN stays
 * NaN with its sign, ±Inf and subnormals are exact, overflow becomes ±Inf). Integer tensors go through float32.
 * Returns `t` itself when the dtype is unchanged. `Tensor.prototype.to` calls this for half dtypes.
 */
export function cast(t: Tensor, dtype: DType): Tensor {
  const fn = 'cast';
  checkTensor(fn, 't', t);
  if (typeof dtype !== 'string' || !['float32', 'float16', 'bfloat16', 'int8', 'uint8', 'int32'].includes(dtype))
    throw typeError(fn, `dtype must be one of float32, float16, bfloat16, int8, uint8, int32, got ${describe(dtype)}`);
  return t.to(dtype);
}

function halfCast(t: Tensor, dtype: DType, next: (t: Tensor, dtype: DType) => Tensor): Tensor {
  const from = t.dtype;
  if (!isHalf(from) && !isHalf(dtype)) return next(t, dtype);
  if (from === dtype) return t;
  if (isHalf(from) && isHalf(dtype)) return halfCast(halfCast(t, 'float32', next), dtype, next);
  if (isHalf(from)) {
    // half → float32 (→ integers through the default numeric cast).
    const out = newTensor('float32', t.shape, t.size);
    native.halfConvert(from === 'float16' ? 1 : 3, t.data as Uint16Array, out.data as Float32Array, t.size);
    return dtype === 'float32' ? out : next(out, dtype);
  }
  const f32 = from === 'float32' ? t : next(t, 'float32');
  const out = newTensor(dtype, t.shape, t.size);
  native.halfConvert(dtype === 'float16' ? 0 : 2, f32.data as Float32Array, out.data as Uint16Array, t.size);
  return out;
}

/** True when the runtime has a native `Float16Array` (Node 24+ or with --js-float16array; not Node 20). */
export function hasFloat16Array(): boolean {
  return typeof (globalThis as { Float16Array?: unknown }).Float16Array === 'function';
}

/**
 * A `Float16Array` view over a float16 tensor's bits (no copy), for runtimes that have one. Throws a TypeError
 * when the runtime lacks Float16Array (use `t.data`, the raw bits as a Uint16Array, or `t.to('float32')`).
 */
export function toFloat16Array(t: Tensor): ArrayBufferView {
  const fn = 'toFloat16Array';
  checkTensor(fn, 't', t);
  if (t.dtype !== 'float16') throw typeError(fn, `t.dtype must be float16, got ${t.dtype}`);
  const F16 = (globalThis as { Float16Array?: new (b: ArrayBufferLike, o: number, n: number) => ArrayBufferView }).Float16Array;
  if (!F16) throw typeError(fn, `this runtime (Node ${process.versions.node}) has no Float16Array; use t.data (raw bits) or t.to('float32')`);
  const d = t.data as Uint16Array;
  return new F16(d.buffer, d.byteOffset, d.length);
}

registerCast(halfCast);

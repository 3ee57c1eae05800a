/**
 * Extension points: each kernel family (int8, half precision, sparse, ...) registers how it handles `matmul`,
 * `linear`, `packWeights` and casts, so families never edit each other's code. Also the monitoring hook.
 * @module
 */
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { checkMembers, describe, typeError } from '../errors.js';

/** Options common to the GEMM entry points. */
export interface GemmOptions {
  /** b is given as [N, K] (its transpose is used). */
  transB?: boolean;
  /** Added to every output row (length N). */
  bias?: Tensor | null;
  /** Fused activation applied after the bias. */
  activation?: Activation;
  /** Preallocated output tensor (shape [M, N], dtype as the op produces). */
  out?: Tensor;
}

/** Fused activations (codes shared with C++: none 0, relu 1, gelu 2 — the erf form of GELU). */
export type Activation = 'none' | 'relu' | 'gelu';

/** A family's implementation of `matmul(a, b)` for the operands it recognises. */
export interface MatmulImpl {
  name: string;
  match(a: unknown, b: unknown, opts: GemmOptions): boolean;
  run(a: Tensor, b: unknown, opts: GemmOptions): Tensor;
}
/** A family's implementation of `linear(x, w, bias)` for the weights it recognises. */
export interface LinearImpl {
  name: string;
  match(w: unknown, x: unknown): boolean;
  run(x: Tensor, w: unknown, bias: Tensor | null | undefined, opts: GemmOptions): Tensor;
}
/** A family's `packWeights(w)` for the weights it recognises. */
export interface PackImpl {
  name: string;
  match(w: unknown, opts: object): boolean;
  pack(w: unknown, opts: object): unknown;
}

/** @internal */
export const matmulImpls: MatmulImpl[] = [];
/** @internal */
export const linearImpls: LinearImpl[] = [];
/** @internal */
export const packImpls: PackImpl[] = [];

/** Registers a matmul implementation (checked before the f32 default, newest first). */
export function registerMatmul(impl: MatmulImpl): void {
  checkMembers('registerMatmul', 'impl', impl, { name: 'string', match: 'function', run: 'function' });
  matmulImpls.unshift(impl);
}
/** Registers a linear implementation (checked before the f32 default, newest first). */
export function registerLinear(impl: LinearImpl): void {
  checkMembers('registerLinear', 'impl', impl, { name: 'string', match: 'function', run: 'function' });
  linearImpls.unshift(impl);
}
/** Registers a packWeights implementation (checked before the f32 default, newest first). */
export function registerPack(impl: PackImpl): void {
  checkMembers('registerPack', 'impl', impl, { name: 'string', match: 'function', pack: 'function' });
  packImpls.unshift(impl);
}

/** A cast function; `next` is the previously registered one (for dtypes this function does not handle). */
export type CastFn = (t: Tensor, dtype: DType, next: (t: Tensor, dtype: DType) => Tensor) => Tensor;

const INT_RANGE: Record<string, [number, number]> = { int8: [-128, 127], uint8: [0, 255], int32: [-2147483648, 2147483647] };

/** Default numeric cast between float32, int8, uint8 and int32 (round half to even, saturate; NaN → 0). */
function numericCast(t: Tensor, dtype: DType): Tensor {
  const num = ['float32', 'int8', 'uint8', 'int32'];
  if (!num.includes(t.dtype) || !num.includes(dtype))
    throw typeError('to', `no cast from ${t.dtype} to ${dtype} is available (float16/bfloat16 casts need the half-precision module)`);
  const src = t.data;
  const n = t.size;
  let out: Float32Array | Int8Array | Uint8Array | Int32Array;
  if (dtype === 'float32') {
    out = Float32Array.from(src as ArrayLike<number>);
  } else {
    const [lo, hi] = INT_RANGE[dtype];
    out = dtype === 'int8' ? new Int8Array(n) : dtype === 'uint8' ? new Uint8Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = src[i];
      let r = v !== v ? 0 : Math.round(v);
      if (Math.abs(v - Math.trunc(v)) === 0.5) r = 2 * Math.round(v / 2); // half to even
      out[i] = r < lo ? lo : r > hi ? hi : r;
    }
  }
  const Ctor = (t.constructor as unknown) as new (d: unknown, s: readonly number[], dt: DType, n: number) => Tensor;
  return new Ctor(out, t.shape, dtype, n);
}

/** @internal The cast used by `Tensor.to` and `cast`; families wrap it with {@link registerCast}. */
export const castHook: { fn: (t: Tensor, dtype: DType) => Tensor } = { fn: numericCast };

/** Registers a cast function used by `Tensor.prototype.to` and `cast`; it receives the previous one as `next`. */
export function registerCast(fn: CastFn): void {
  if (typeof fn !== 'function') throw typeError('registerCast', `fn must be a function (t, dtype, next) => Tensor, got ${describe(fn)}`);
  const prev = castHook.fn;
  castHook.fn = (t, dtype) => fn(t, dtype, prev);
}

/**
 * Monitoring hook. `on` is read on every op (one property load when monitoring is off); when on, ops call
 * `record(op, kernel, startMs)` after they finish. The monitor module installs the real recorder.
 * @internal
 */
export const monitorHook: { on: boolean; record: (op: string, kernel: string, startMs: number) => void } = {
  on: false,
  record: () => {},
};

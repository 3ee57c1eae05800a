/**
 * Extension points: each kernel family (int8, half precision, sparse, ...) registers how it handles `matmul`,
 * `linear`, `packWeights`, their async forms and casts, so families never edit each other's code. Also the
 * monitoring hook. The entry points that walk these lists are in ./matmul.ts.
 * @module
 */
import type { DType } from '../dtype.js';
import { castHook, type Tensor } from '../tensor.js';
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

const RUN = { name: 'string', match: 'function', run: 'function' } as const;
const PACK = { name: 'string', match: 'function', pack: 'function' } as const;
/** Checks an implementation's members and puts it first in its list (the newest registration wins). */
function register<T>(fn: string, list: T[], impl: T, members: typeof RUN | typeof PACK): void {
  checkMembers(fn, 'impl', impl, members);
  list.unshift(impl);
}

/** Registers a matmul implementation (checked before the f32 default, newest first). */
export function registerMatmul(impl: MatmulImpl): void { register('registerMatmul', matmulImpls, impl, RUN); }
/** Registers a linear implementation (checked before the f32 default, newest first). */
export function registerLinear(impl: LinearImpl): void { register('registerLinear', linearImpls, impl, RUN); }
/** Registers a packWeights implementation (checked before the f32 default, newest first). */
export function registerPack(impl: PackImpl): void { register('registerPack', packImpls, impl, PACK); }

/** @internal The cast used by `Tensor.to` and `cast` (it lives beside Tensor; families wrap it with {@link registerCast}). */
export { castHook };

/** A cast function; `next` is the previously registered one (for dtypes this function does not handle). */
export type CastFn = (t: Tensor, dtype: DType, next: (t: Tensor, dtype: DType) => Tensor) => Tensor;

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

/** Options every async op accepts. */
export interface AsyncOptions {
  /**
   * Cancels the op: one still queued is dropped and rejects at once with an AbortError; one already running
   * finishes its work, then rejects with an AbortError (its result is discarded).
   */
  signal?: AbortSignal;
}

/** {@link GemmOptions} plus {@link AsyncOptions}. */
export type AsyncGemmOptions = GemmOptions & AsyncOptions;

/** A family's async `matmul` for the operands it recognises (see {@link registerAsyncMatmul}). */
export interface AsyncMatmulImpl {
  name: string;
  match(a: unknown, b: unknown, opts: GemmOptions): boolean;
  run(a: Tensor, b: unknown, opts: AsyncGemmOptions): Promise<Tensor>;
}
/** A family's async `linear` for the weights it recognises (see {@link registerAsyncLinear}). */
export interface AsyncLinearImpl {
  name: string;
  match(w: unknown, x: unknown): boolean;
  run(x: Tensor, w: unknown, bias: Tensor | null | undefined, opts: AsyncGemmOptions): Promise<Tensor>;
}

/** @internal */
export const asyncMatmulImpls: AsyncMatmulImpl[] = [];
/** @internal */
export const asyncLinearImpls: AsyncLinearImpl[] = [];

/**
 * Registers a family's async matmul (checked before the f32 default, newest first). Its `run` validates like the
 * sync op and ends with `runNativeAsync(fn, opts.signal, (id) => native.xxxAsync(..., id), out)`.
 */
export function registerAsyncMatmul(impl: AsyncMatmulImpl): void { register('registerAsyncMatmul', asyncMatmulImpls, impl, RUN); }
/** Registers a family's async linear (checked before the f32 default, newest first). */
export function registerAsyncLinear(impl: AsyncLinearImpl): void { register('registerAsyncLinear', asyncLinearImpls, impl, RUN); }

/** @internal Validates `opts.signal` (undefined/null or an AbortSignal); shared with the families' async forms. */
export function checkSignal(fn: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (!(signal instanceof AbortSignal)) throw typeError(fn, `opts.signal must be an AbortSignal, got ${describe(signal)}`);
  return signal;
}

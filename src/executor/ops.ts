/**
 * Async forms of the heavy ops: the work runs on simdtensor's own native threads (never libuv's threadpool), the
 * inputs stay referenced until it completes and the output is handed over only once complete. Kernel families
 * plug their async kernels in with {@link registerAsyncMatmul} / {@link registerAsyncLinear}.
 * @module
 */
import { checkMembers, describe, rangeError, typeError, options } from '../errors.js';
import { native } from '../native.js';
import { checkTensor, Tensor } from '../tensor.js';
import { kernelName } from '../cpu.js';
import { activationCode, checkBias, outTensor, PackedWeights, type AnyGemmOptions, type Weights } from '../ops/matmul.js';
import { GemmOptions, linearImpls, matmulImpls, monitorHook } from '../ops/registry.js';
import { runNativeAsync } from './submit.js';

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

const asyncMatmulImpls: AsyncMatmulImpl[] = [];
const asyncLinearImpls: AsyncLinearImpl[] = [];

/**
 * Registers a family's async matmul (checked before the f32 default, newest first). Its `run` validates like the
 * sync op and ends with `runNativeAsync(fn, opts.signal, (id) => native.xxxAsync(..., id), out)`.
 */
export function registerAsyncMatmul(impl: AsyncMatmulImpl): void {
  checkMembers('registerAsyncMatmul', 'impl', impl, { name: 'string', match: 'function', run: 'function' });
  asyncMatmulImpls.unshift(impl);
}
/** Registers a family's async linear (checked before the f32 default, newest first). */
export function registerAsyncLinear(impl: AsyncLinearImpl): void {
  checkMembers('registerAsyncLinear', 'impl', impl, { name: 'string', match: 'function', run: 'function' });
  asyncLinearImpls.unshift(impl);
}

/** @internal Validates `opts.signal` (undefined/null or an AbortSignal); shared with the families' async forms. */
export function checkSignal(fn: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (!(signal instanceof AbortSignal)) throw typeError(fn, `opts.signal must be an AbortSignal, got ${describe(signal)}`);
  return signal;
}

/** The f32 async GEMM, validated as the sync one (`fn` names the entry point the user called). */
async function f32GemmAsync(fn: string, a: Tensor, b: unknown, opts: AsyncGemmOptions, aArg: string): Promise<Tensor> {
  const signal = checkSignal(fn, opts.signal);
  checkTensor(fn, aArg, a);
  if (a.dtype !== 'float32') throw typeError(fn, `${aArg}.dtype (${a.dtype}) has no ${fn} with ${describe(b instanceof Tensor ? b.dtype : b)}`);
  if (a.ndim < 1) throw rangeError(fn, `${aArg} must have at least 1 dimension`);
  const k = a.shape[a.ndim - 1];
  const m = a.ndim === 2 ? a.shape[0] : k === 0 ? a.shape.slice(0, -1).reduce((x, y) => x * y, 1) : a.size / k;
  const act = activationCode(fn, opts.activation);
  const t0 = monitorHook.on ? performance.now() : 0;
  let done: Promise<Tensor>;
  if (b instanceof PackedWeights) {
    if (b.k !== k) throw rangeError(fn, `${aArg}.shape[${a.ndim - 1}] (${k}) must equal the packed weights' K (${b.k})`);
    const bias = checkBias(fn, opts.bias, b.n);
    const out = opts.out == null ? outTensor(fn, null, m, b.n, a) : outTensor(fn, opts.out, m, b.n, a, [[aArg, a.data], ['bias', bias]]); // no list built on the common path
    done = runNativeAsync(fn, signal, (id) => native.matmulPackedAsync(a.data as Float32Array, m, b.handle, out.data, bias, act, id), out);
  } else {
    const bArg = fn === 'linearAsync' ? 'w' : 'b';
    checkTensor(fn, bArg, b);
    if (b.dtype !== 'float32') throw typeError(fn, `${bArg}.dtype must be float32 like ${aArg}, got ${b.dtype}`);
    if (b.ndim !== 2) throw rangeError(fn, `${bArg} must be 2-D, got shape [${b.shape.join(', ')}]`);
    const tb = !!opts.transB;
    const bk = tb ? b.shape[1] : b.shape[0];
    const n = tb ? b.shape[0] : b.shape[1];
    if (bk !== k)
      throw rangeError(fn, `${aArg}.shape[${a.ndim - 1}] (${k}) must equal ${bArg}.shape[${tb ? 1 : 0}] (${bk})${tb && fn !== 'linearAsync' ? ' (transB)' : ''}`);
    const bias = checkBias(fn, opts.bias, n);
    const out = opts.out == null ? outTensor(fn, null, m, n, a) : outTensor(fn, opts.out, m, n, a, [[aArg, a.data], [bArg, b.data], ['bias', bias]]); // no list built on the common path
    done = runNativeAsync(fn, signal, (id) => native.matmulAsync(a.data as Float32Array, m, k, b.data as Float32Array, n, tb, out.data, bias, act, id), out);
  }
  const out = await done;
  if (monitorHook.on) monitorHook.record(fn, kernelName('matmul.f32'), t0);
  return out;
}

/**
 * The async form of {@link matmul}: C = act(A·B + bias) computed on the native pool. Resolves with the output
 * tensor (`opts.out` if given). Rejects with the same TypeError/RangeError as `matmul` on bad input (an `out`
 * overlapping a, b or bias included), and with an Error of code `ERR_SIMDTENSOR_BUSY` if `out` overlaps memory
 * that an op still in flight reads or writes, or an input overlaps the output of an op still in flight.
 */
export async function matmulAsync(a: Tensor, b: Weights, opts: (AnyGemmOptions & AsyncOptions) | null = {}): Promise<Tensor> {
  opts = options('matmulAsync', opts);
  const fn = 'matmulAsync';
  for (const impl of asyncMatmulImpls) if (impl.match(a, b, opts)) return impl.run(a, b, opts);
  for (const impl of matmulImpls)
    if (impl.match(a, b, opts)) throw typeError(fn, `the ${impl.name} family has no async kernel registered; use matmul()`);
  return f32GemmAsync(fn, a, b, opts, 'a');
}

/**
 * The async form of {@link linear}: y = act(x·wᵀ + bias) with `w` a Linear weight [out, in] or its packed handle,
 * computed on the native pool.
 */
export async function linearAsync(x: Tensor, w: Weights, bias?: Tensor | null, opts: (AnyGemmOptions & AsyncOptions) | null = {}): Promise<Tensor> {
  opts = options('linearAsync', opts);
  const fn = 'linearAsync';
  for (const impl of asyncLinearImpls) if (impl.match(w, x)) return impl.run(x, w, bias, opts);
  for (const impl of linearImpls)
    if (impl.match(w, x)) throw typeError(fn, `the ${impl.name} family has no async kernel registered; use linear()`);
  if (w instanceof PackedWeights) return f32GemmAsync(fn, x, w, { ...opts, bias: bias ?? null }, 'x');
  checkTensor(fn, 'w', w);
  if (w.ndim !== 2) throw rangeError(fn, `w must be 2-D [out, in], got shape [${w.shape.join(', ')}]`);
  checkTensor(fn, 'x', x);
  if (x.ndim < 1) throw rangeError(fn, 'x must have at least 1 dimension');
  if (x.shape[x.ndim - 1] !== w.shape[1])
    throw rangeError(fn, `x.shape[${x.ndim - 1}] (${x.shape[x.ndim - 1]}) must equal w.shape[1] (${w.shape[1]}) (in features)`);
  return f32GemmAsync(fn, x, w, { ...opts, transB: true, bias: bias ?? null }, 'x');
}

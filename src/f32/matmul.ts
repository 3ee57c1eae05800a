/**
 * The f32 GEMM family: prepacked f32 weights and the f32 matmul/linear, sync and async. It is the default that
 * the entry points in src/ops/matmul.ts fall back to when no registered family claims the operands.
 * @module
 */
import { describe, rangeError, typeError } from '../errors.js';
import { native, NativePackedF32 } from '../native.js';
import { NativeGemmWeights } from '../weights.js';
import { checkPackDims, checkTensor, Tensor } from '../tensor.js';
import { kernelName } from '../cpu.js';
import { GemmOptions, monitorHook, checkSignal, type AsyncGemmOptions } from '../ops/registry.js';
import { activationCode, checkBias, gemmRows, outTensor } from '../ops/gemm-args.js';
import { runNativeAsync } from '../executor/submit.js';

/**
 * f32 weights packed once into the microkernel's panel layout and reused on every call. Represents the
 * right-hand operand B of shape [K, N] (for a Linear weight [out, in]: K = in, N = out).
 */
export class PackedWeights extends NativeGemmWeights<NativePackedF32> {
  /** Always 'float32' for this class (other families have their own packed types). */
  readonly dtype = 'float32' as const;
  /** @internal */
  constructor(handle: NativePackedF32) {
    super('PackedWeights', 'packWeights()', handle);
  }
}

/** Options of {@link packWeights}. */
export interface PackOptions {
  /**
   * 'linear' (default): `w` is a Linear weight [out, in] (PyTorch layout), used as x·wᵀ.
   * 'kn': `w` is the right operand [K, N] of matmul(a, w).
   */
  layout?: 'linear' | 'kn';
}

/** @internal packWeights for an f32 tensor (`opts` already checked to be an object). */
export function packF32(w: unknown, opts: PackOptions): PackedWeights {
  const fn = 'packWeights';
  checkTensor(fn, 'w', w);
  if (w.dtype !== 'float32') throw typeError(fn, `w.dtype must be float32 (or a registered family's type), got ${w.dtype}`);
  if (w.ndim !== 2) throw rangeError(fn, `w must be 2-D, got shape [${w.shape.join(', ')}]`);
  const layout = opts.layout ?? 'linear';
  if (layout !== 'linear' && layout !== 'kn') throw typeError(fn, `layout must be 'linear' or 'kn', got ${describe(layout)}`);
  const [r, c] = w.shape;
  const trans = layout === 'linear';
  const k = trans ? c : r;
  const n = trans ? r : c;
  checkPackDims(fn, k, n);
  return new PackedWeights(new native.PackedF32(w.data as Float32Array, k, n, trans));
}

/** A validated f32 GEMM: what the sync and async forms hand to their native call. */
type F32Plan = { a: Float32Array; m: number; out: Tensor<'float32'>; bias: Float32Array | null; act: number; t0: number } & (
  | { packed: PackedWeights }
  | { packed: null; k: number; b: Float32Array; n: number; transB: boolean }
);

/** Checks the operands and options of an f32 GEMM once (`fn` names the entry point the user called). */
function planF32(fn: string, a: Tensor, b: unknown, opts: GemmOptions, aArg: string): F32Plan {
  checkTensor(fn, aArg, a);
  if (a.dtype !== 'float32') throw typeError(fn, `${aArg}.dtype (${a.dtype}) has no ${fn} with ${describe(b instanceof Tensor ? b.dtype : b)}`);
  if (a.ndim < 1) throw rangeError(fn, `${aArg} must have at least 1 dimension`);
  const k = a.shape[a.ndim - 1];
  const m = gemmRows(a, k);
  const act = activationCode(fn, opts.activation);
  const t0 = monitorHook.on ? performance.now() : 0;
  const ad = a.data as Float32Array;
  if (b instanceof PackedWeights) {
    if (b.k !== k) throw rangeError(fn, `${aArg}.shape[${a.ndim - 1}] (${k}) must equal the packed weights' K (${b.k})`);
    const bias = checkBias(fn, opts.bias, b.n);
    const out = opts.out == null ? outTensor(fn, null, m, b.n, a) : outTensor(fn, opts.out, m, b.n, a, [[aArg, a.data], ['bias', bias]]); // no list built on the common path
    return { a: ad, m, out, bias, act, t0, packed: b };
  }
  const linear = fn.startsWith('linear');
  const bArg = linear ? 'w' : 'b';
  checkTensor(fn, bArg, b);
  if (b.dtype !== 'float32') throw typeError(fn, `${bArg}.dtype must be float32 like ${aArg}, got ${b.dtype}`);
  if (b.ndim !== 2) throw rangeError(fn, `${bArg} must be 2-D, got shape [${b.shape.join(', ')}]`);
  const tb = !!opts.transB;
  const bk = tb ? b.shape[1] : b.shape[0];
  const n = tb ? b.shape[0] : b.shape[1];
  if (bk !== k)
    throw rangeError(fn, `${aArg}.shape[${a.ndim - 1}] (${k}) must equal ${bArg}.shape[${tb ? 1 : 0}] (${bk})${tb && !linear ? ' (transB)' : ''}`);
  const bias = checkBias(fn, opts.bias, n);
  const out = opts.out == null ? outTensor(fn, null, m, n, a) : outTensor(fn, opts.out, m, n, a, [[aArg, a.data], [bArg, b.data], ['bias', bias]]); // no list built on the common path
  return { a: ad, m, out, bias, act, t0, packed: null, k, b: b.data as Float32Array, n, transB: tb };
}

/** @internal The f32 GEMM C = act(A·B + bias) (`fn` names the entry point the user called, `aArg` its operand). */
export function f32Gemm(fn: string, a: Tensor, b: unknown, opts: GemmOptions, aArg: string): Tensor<'float32'> {
  const p = planF32(fn, a, b, opts, aArg);
  if (p.packed) native.matmulPacked(p.a, p.m, p.packed.handle, p.out.data, p.bias, p.act);
  else native.matmul(p.a, p.m, p.k, p.b, p.n, p.transB, p.out.data, p.bias, p.act);
  if (monitorHook.on) monitorHook.record(fn, kernelName('matmul.f32'), p.t0);
  return p.out;
}

/** @internal The async form of {@link f32Gemm}: the same checks, the work on the native pool. */
export async function f32GemmAsync(fn: string, a: Tensor, b: unknown, opts: AsyncGemmOptions, aArg: string): Promise<Tensor<'float32'>> {
  const signal = checkSignal(fn, opts.signal);
  const p = planF32(fn, a, b, opts, aArg);
  const out = await runNativeAsync(
    fn,
    signal,
    p.packed
      ? (id) => native.matmulPackedAsync(p.a, p.m, p.packed.handle, p.out.data, p.bias, p.act, id)
      : (id) => native.matmulAsync(p.a, p.m, p.k, p.b, p.n, p.transB, p.out.data, p.bias, p.act, id),
    p.out,
  );
  if (monitorHook.on) monitorHook.record(fn, kernelName('matmul.f32'), p.t0);
  return out;
}

/** linear(x, w) as an f32 GEMM: the options for {@link f32Gemm} once w ([out, in] or packed) is checked against x. */
function linearOpts<O extends GemmOptions>(fn: string, x: Tensor, w: unknown, bias: Tensor | null | undefined, opts: O): O {
  if (w instanceof PackedWeights) return { ...opts, bias: bias ?? null };
  checkTensor(fn, 'w', w);
  if (w.ndim !== 2) throw rangeError(fn, `w must be 2-D [out, in], got shape [${w.shape.join(', ')}]`);
  checkTensor(fn, 'x', x);
  if (x.ndim < 1) throw rangeError(fn, 'x must have at least 1 dimension');
  if (x.shape[x.ndim - 1] !== w.shape[1])
    throw rangeError(fn, `x.shape[${x.ndim - 1}] (${x.shape[x.ndim - 1]}) must equal w.shape[1] (${w.shape[1]}) (in features)`);
  return { ...opts, transB: true, bias: bias ?? null };
}

/** @internal f32 linear: y = act(x·wᵀ + bias). */
export function f32Linear(fn: string, x: Tensor, w: unknown, bias: Tensor | null | undefined, opts: GemmOptions): Tensor<'float32'> {
  return f32Gemm(fn, x, w, linearOpts(fn, x, w, bias, opts), 'x');
}

/** @internal The async form of {@link f32Linear}. */
export function f32LinearAsync(fn: string, x: Tensor, w: unknown, bias: Tensor | null | undefined, opts: AsyncGemmOptions): Promise<Tensor<'float32'>> {
  return f32GemmAsync(fn, x, w, linearOpts(fn, x, w, bias, opts), 'x');
}

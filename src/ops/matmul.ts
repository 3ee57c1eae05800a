/**
 * f32 GEMM entry points: matmul, linear and prepacked weights. Other dtypes and sparse weights plug in
 * through the registry (see ./registry.ts).
 * @module
 */
import { checkHandle, describe, rangeError, typeError, options } from '../errors.js';
import { native, NativePackedF32 } from '../native.js';
import { allocOrThrow, checkOutputSize, checkOverlap, checkPackDims, checkTensor, Tensor } from '../tensor.js';
import { kernelName } from '../cpu.js';
import { allocF32 } from '../alloc.js';
import { Activation, GemmOptions, linearImpls, matmulImpls, monitorHook, packImpls } from './registry.js';
// Types only (no runtime import): the other families' weight and option types, for the overloads below.
import type { HalfDType, HalfGemmOptions, HalfPackOptions, PackedHalfWeights } from '../half.js';
import type { Int8GemmOptions, Int8PackOptions, PackedInt8Weights, QuantDType, QuantizedTensor } from '../quantize.js';
import type { SparseLinearOptions, SparseTensor } from '../sparse.js';

export type { Activation, GemmOptions } from './registry.js';

/** @internal Activation name → code shared with C++. */
export function activationCode(fn: string, act: unknown): number {
  if (act === undefined || act === null || act === 'none') return 0;
  if (act === 'relu') return 1;
  if (act === 'gelu') return 2;
  throw typeError(fn, `activation must be 'none', 'relu' or 'gelu', got ${describe(act)}`);
}

/**
 * f32 weights packed once into the microkernel's panel layout and reused on every call. Represents the
 * right-hand operand B of shape [K, N] (for a Linear weight [out, in]: K = in, N = out).
 */
export class PackedWeights {
  /** Always 'float32' for this class (other families have their own packed types). */
  readonly dtype = 'float32' as const;
  /** @internal */
  readonly handle: NativePackedF32;
  /** Inner dimension (input features). */
  readonly k: number;
  /** Output columns (output features). */
  readonly n: number;
  /** @internal */
  constructor(handle: NativePackedF32) {
    checkHandle('PackedWeights', 'packWeights()', handle, ['k', 'n']);
    this.handle = handle;
    this.k = handle.k;
    this.n = handle.n;
  }
  /** Bytes held by the packed panels. */
  get bytes(): number {
    return this.handle.bytes;
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

/** Every weight operand `matmul` / `linear` accept, over all kernel families. */
export type Weights = Tensor | PackedWeights | PackedHalfWeights | PackedInt8Weights | QuantizedTensor | SparseTensor;
/** The options of `matmul` / `linear` over all kernel families (each family's own type is exact). */
export type AnyGemmOptions = GemmOptions | HalfGemmOptions | Int8GemmOptions | SparseLinearOptions;

/**
 * Packs weights once for repeated `linear(x, packed)` / `matmul(a, packed)` calls. float32 here; int8
 * QuantizedTensors, float16/bfloat16 and sparse weights are handled by their modules.
 */
export function packWeights(w: Tensor<'float32'>, opts?: PackOptions): PackedWeights;
export function packWeights(w: Tensor<'float32'>, opts: HalfPackOptions & { dtype: HalfDType }): PackedHalfWeights;
export function packWeights(w: Tensor<HalfDType>, opts?: HalfPackOptions): PackedHalfWeights;
export function packWeights(w: QuantizedTensor | Tensor<QuantDType>, opts?: Int8PackOptions): PackedInt8Weights;
export function packWeights(w: SparseTensor, opts?: PackOptions): SparseTensor;
export function packWeights(
  w: Tensor,
  opts?: PackOptions | HalfPackOptions | Int8PackOptions,
): PackedWeights | PackedHalfWeights | PackedInt8Weights;
export function packWeights(w: unknown, opts: PackOptions | HalfPackOptions | Int8PackOptions | null = {}): unknown {
  opts = options('packWeights', opts);
  for (const impl of packImpls) if (impl.match(w, opts)) return impl.pack(w, opts);
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

/** @internal Validates an f32 bias of length n (shared with the async forms in src/executor). */
export function checkBias(fn: string, bias: unknown, n: number): Float32Array | null {
  if (bias === undefined || bias === null) return null;
  checkTensor(fn, 'bias', bias);
  if (bias.dtype !== 'float32') throw typeError(fn, `bias.dtype must be float32, got ${bias.dtype}`);
  if (bias.size !== n) throw rangeError(fn, `bias has ${bias.size} elements ([${bias.shape.join(', ')}]), needs ${n}`);
  return bias.data as Float32Array;
}

/**
 * @internal Validates `out` or allocates the [..., n] f32 output (shared with src/executor and the families): a
 * float32 tensor of m·n elements whose last dimension is n, clear of every input the GEMM reads (`inputs`: name
 * and data; a GEMM reads its inputs after it starts writing, so no overlap at all is allowed).
 */
export function outTensor(fn: string, out: unknown, m: number, n: number, a: Tensor, inputs: ReadonlyArray<readonly [string, ArrayBufferView | null | undefined]> = []): Tensor<'float32'> {
  const shape = a.ndim === 2 ? [m, n] : [...a.shape.slice(0, -1), n];
  if (out === undefined || out === null) {
    const size = checkOutputSize(fn, 'output', shape);
    return new Tensor(allocOrThrow(fn, shape, 4, () => allocF32(size)), shape, 'float32', size);
  }
  checkTensor(fn, 'out', out);
  if (out.dtype !== 'float32') throw typeError(fn, `out.dtype must be float32, got ${out.dtype}`);
  checkOutShape(fn, out, shape);
  for (const [arg, data] of inputs) checkOverlap(fn, out.data, arg, data);
  return out as Tensor<'float32'>;
}

/**
 * @internal A GEMM's `out`: `shape` ([..., n]) exactly, or any shape with the same element count whose last
 * dimension is n (e.g. [m, n] for a [b, s, k] input), so row i of the result is row i of out.
 */
export function checkOutShape(fn: string, out: Tensor, shape: readonly number[]): void {
  const n = shape[shape.length - 1];
  const size = shape.reduce((x, y) => x * y, 1);
  if (out.size !== size || (size > 0 && out.shape[out.ndim - 1] !== n))
    throw rangeError(fn, `out has shape [${out.shape.join(', ')}], needs [${shape.join(', ')}]`);
}

/** Options of the f32 GEMM, checked once (`fn` names the entry point the user called). */
function f32Gemm(fn: string, a: Tensor, b: unknown, opts: GemmOptions, aArg: string): Tensor {
  checkTensor(fn, aArg, a);
  if (a.dtype !== 'float32') throw typeError(fn, `${aArg}.dtype (${a.dtype}) has no ${fn} with ${describe(b instanceof Tensor ? b.dtype : b)}`);
  if (a.ndim < 1) throw rangeError(fn, `${aArg} must have at least 1 dimension`);
  const k = a.shape[a.ndim - 1];
  const m = a.ndim === 2 ? a.shape[0] : k === 0 ? a.shape.slice(0, -1).reduce((x, y) => x * y, 1) : a.size / k;
  const act = activationCode(fn, opts.activation);
  const t0 = monitorHook.on ? performance.now() : 0;
  let out: Tensor<'float32'>;
  if (b instanceof PackedWeights) {
    if (b.k !== k) throw rangeError(fn, `${aArg}.shape[${a.ndim - 1}] (${k}) must equal the packed weights' K (${b.k})`);
    const bias = checkBias(fn, opts.bias, b.n);
    out = opts.out == null ? outTensor(fn, null, m, b.n, a) : outTensor(fn, opts.out, m, b.n, a, [[aArg, a.data], ['bias', bias]]); // no list built on the common path
    native.matmulPacked(a.data as Float32Array, m, b.handle, out.data, bias, act);
  } else {
    const bArg = fn === 'linear' ? 'w' : 'b';
    checkTensor(fn, bArg, b);
    if (b.dtype !== 'float32') throw typeError(fn, `${bArg}.dtype must be float32 like ${aArg}, got ${b.dtype}`);
    if (b.ndim !== 2) throw rangeError(fn, `${bArg} must be 2-D, got shape [${b.shape.join(', ')}]`);
    const tb = !!opts.transB;
    const bk = tb ? b.shape[1] : b.shape[0];
    const n = tb ? b.shape[0] : b.shape[1];
    if (bk !== k)
      throw rangeError(fn, `${aArg}.shape[${a.ndim - 1}] (${k}) must equal ${bArg}.shape[${tb ? 1 : 0}] (${bk})${tb && fn !== 'linear' ? ' (transB)' : ''}`);
    const bias = checkBias(fn, opts.bias, n);
    out = opts.out == null ? outTensor(fn, null, m, n, a) : outTensor(fn, opts.out, m, n, a, [[aArg, a.data], [bArg, b.data], ['bias', bias]]); // no list built on the common path
    native.matmul(a.data as Float32Array, m, k, b.data as Float32Array, n, tb, out.data, bias, act);
  }
  if (monitorHook.on) monitorHook.record(fn, kernelName('matmul.f32'), t0);
  return out;
}

/**
 * C = act(A·B + bias). A is [..., K] (leading dimensions are rows). B is a [K, N] tensor (or [N, K] with
 * `transB`) or a {@link PackedWeights}. Integer and half-precision operands are handled by their modules.
 * `out` must not overlap a, b or bias (RangeError): a GEMM reads its inputs after it starts writing.
 */
export function matmul(a: Tensor<'float32'>, b: Tensor<'float32'> | PackedWeights, opts?: GemmOptions): Tensor<'float32'>;
export function matmul<O extends HalfDType>(
  a: Tensor<'float32' | HalfDType>,
  b: Tensor<HalfDType> | PackedHalfWeights,
  opts: HalfGemmOptions & { outDtype: O },
): Tensor<O>;
export function matmul(
  a: Tensor<'float32' | HalfDType>,
  b: Tensor<'float32' | HalfDType> | PackedHalfWeights,
  opts?: HalfGemmOptions & { outDtype?: 'float32' },
): Tensor<'float32'>;
export function matmul(a: Tensor<QuantDType>, b: Tensor<QuantDType> | PackedInt8Weights, opts?: GemmOptions): Tensor<'int32'>;
export function matmul(a: Tensor, b: Tensor | PackedWeights | PackedHalfWeights | PackedInt8Weights, opts?: GemmOptions | HalfGemmOptions): Tensor;
export function matmul(a: Tensor, b: unknown, opts: GemmOptions | null = {}): Tensor {
  opts = options('matmul', opts);
  for (const impl of matmulImpls) if (impl.match(a, b, opts)) return impl.run(a, b, opts);
  return f32Gemm('matmul', a, b, opts, 'a');
}

/**
 * y = act(x·wᵀ + bias) with `w` a Linear weight [out, in] (PyTorch layout), or its packed handle. Quantized,
 * half-precision and sparse weights are handled by their modules (e.g. a QuantizedTensor runs the int8 path).
 */
export function linear(x: Tensor<'float32'>, w: Tensor<'float32'> | PackedWeights, bias?: Tensor | null, opts?: GemmOptions): Tensor<'float32'>;
export function linear<O extends HalfDType>(
  x: Tensor<'float32' | HalfDType>,
  w: Tensor<HalfDType> | PackedHalfWeights,
  bias: Tensor | null | undefined,
  opts: HalfGemmOptions & { outDtype: O },
): Tensor<O>;
export function linear(
  x: Tensor<'float32' | HalfDType>,
  w: Tensor<HalfDType> | PackedHalfWeights,
  bias?: Tensor | null,
  opts?: HalfGemmOptions & { outDtype?: 'float32' },
): Tensor<'float32'>;
export function linear(
  x: Tensor | QuantizedTensor,
  w: QuantizedTensor | PackedInt8Weights,
  bias: Tensor | null | undefined,
  opts: Int8GemmOptions & { output: NonNullable<Int8GemmOptions['output']> },
): QuantizedTensor;
export function linear(x: Tensor | QuantizedTensor, w: QuantizedTensor | PackedInt8Weights, bias?: Tensor | null, opts?: Int8GemmOptions): Tensor<'float32'>;
export function linear(x: Tensor, w: SparseTensor, bias?: Tensor | null, opts?: SparseLinearOptions): Tensor<'float32'>;
export function linear(x: Tensor | QuantizedTensor, w: Weights, bias?: Tensor | null, opts?: AnyGemmOptions): Tensor | QuantizedTensor;
export function linear(xq: Tensor | QuantizedTensor, w: unknown, bias?: Tensor | null, opts: AnyGemmOptions | null = {}): Tensor | QuantizedTensor {
  opts = options('linear', opts);
  const x = xq as Tensor; // a QuantizedTensor x only reaches the int8 family (its match), which takes it as is
  for (const impl of linearImpls) if (impl.match(w, x)) return impl.run(x, w, bias, opts);
  const fn = 'linear';
  if (w instanceof PackedWeights) return f32Gemm(fn, x, w, { ...opts, bias: bias ?? null }, 'x');
  checkTensor(fn, 'w', w);
  if (w.ndim !== 2) throw rangeError(fn, `w must be 2-D [out, in], got shape [${w.shape.join(', ')}]`);
  checkTensor(fn, 'x', x);
  if (x.ndim < 1) throw rangeError(fn, 'x must have at least 1 dimension');
  if (x.shape[x.ndim - 1] !== w.shape[1])
    throw rangeError(fn, `x.shape[${x.ndim - 1}] (${x.shape[x.ndim - 1]}) must equal w.shape[1] (${w.shape[1]}) (in features)`);
  return f32Gemm(fn, x, w, { ...opts, transB: true, bias: bias ?? null }, 'x');
}

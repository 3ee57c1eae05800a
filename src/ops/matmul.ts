/**
 * The GEMM entry points over every kernel family: matmul, linear and packWeights, and their async forms. Each walks
 * the families registered in ./registry.ts (int8, half, sparse, ...) and falls back to f32 (src/f32/).
 * @module
 */
import { options, typeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { asyncLinearImpls, asyncMatmulImpls, GemmOptions, linearImpls, matmulImpls, packImpls, type AsyncOptions } from './registry.js';
import { f32Gemm, f32GemmAsync, f32Linear, f32LinearAsync, packF32, PackedWeights, type PackOptions } from '../f32/matmul.js';
// Types only (no runtime import): the other families' weight and option types, for the overloads below.
import type { HalfDType, HalfGemmOptions, HalfPackOptions, PackedHalfWeights } from '../half/index.js';
import type { Int8GemmOptions, Int8PackOptions, PackedInt8Weights, QuantDType, QuantizedTensor } from '../int8/index.js';
import type { SparseLinearOptions, SparseTensor } from '../sparse/index.js';

export { PackedWeights } from '../f32/matmul.js';
export type { PackOptions } from '../f32/matmul.js';
export type { Activation, GemmOptions } from './registry.js';

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
  return packF32(w, opts);
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
  return f32Linear('linear', x, w, bias, opts);
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
  return f32LinearAsync(fn, x, w, bias, opts);
}

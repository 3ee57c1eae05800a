/**
 * Argument checks every GEMM family shares (f32, half, int8, sparse; sync and async): the activation code, an f32
 * bias, and the output tensor (given as `out` or allocated).
 * @module
 */
import { describe, rangeError, typeError } from '../errors.js';
import { allocOrThrow, checkOutputSize, checkOverlap, checkTensor, Tensor } from '../tensor.js';
import { allocF32 } from '../alloc.js';

/** @internal Activation name → code shared with C++. */
export function activationCode(fn: string, act: unknown): number {
  if (act === undefined || act === null || act === 'none') return 0;
  if (act === 'relu') return 1;
  if (act === 'gelu') return 2;
  throw typeError(fn, `activation must be 'none', 'relu' or 'gelu', got ${describe(act)}`);
}

/** @internal Validates an f32 bias of length n. */
export function checkBias(fn: string, bias: unknown, n: number): Float32Array | null {
  if (bias === undefined || bias === null) return null;
  checkTensor(fn, 'bias', bias);
  if (bias.dtype !== 'float32') throw typeError(fn, `bias.dtype must be float32, got ${bias.dtype}`);
  if (bias.size !== n) throw rangeError(fn, `bias has ${bias.size} elements ([${bias.shape.join(', ')}]), needs ${n}`);
  return bias.data as Float32Array;
}

/**
 * @internal Validates `out` or allocates the [..., n] f32 output: a float32 tensor of m·n elements whose last
 * dimension is n, clear of every input the GEMM reads (`inputs`: name and data; a GEMM reads its inputs after it
 * starts writing, so no overlap at all is allowed).
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

/** @internal Rows of a GEMM's left operand [..., k] (every leading dimension is a row; k = 0 included). */
export function gemmRows(a: Tensor, k: number): number {
  return a.ndim === 2 ? a.shape[0] : k === 0 ? a.shape.slice(0, -1).reduce((x, y) => x * y, 1) : a.size / k;
}

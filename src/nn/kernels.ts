/**
 * Typed wrappers over the native f32 training kernels (native/binding/train.cc): activation backward passes,
 * softmax cross-entropy with hard or soft targets, layernorm backward, optimizer updates, dropout, transpose and
 * row argmax. Arguments are validated here with the package's error maker; the addon re-checks before touching
 * memory.
 * @module
 */
import { rangeError, typeError } from '../errors.js';
import { native } from '../native.js';
import { checkOverlap, checkTensor, Tensor } from '../tensor.js';

/** The training family's part of the addon (kept in step with native/binding/train.cc). */
interface NativeTrain {
  reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void;
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void;
  softmaxXent(
    z: Float32Array, rows: number, cols: number, invTemp: number, labels: Int32Array | null, target: Float32Array | null,
    scale: number, grad: Float32Array | null, accumulate: boolean,
  ): number;
  layerNormBackward(
    x: Float32Array, gamma: Float32Array | null, dy: Float32Array, eps: number, dx: Float32Array,
    dgamma: Float32Array | null, dbeta: Float32Array | null, rows: number, cols: number,
  ): void;
  sgdStep(
    w: Float32Array, g: Float32Array, v: Float32Array | null, n: number, lr: number, momentum: number, wd: number,
    nesterov: boolean, mask: Float32Array | null,
  ): void;
  adamwStep(
    w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number, lr: number, b1: number, b2: number,
    eps: number, wd: number, bc1: number, bc2: number, mask: Float32Array | null,
  ): void;
  dropout(x: Float32Array, n: number, p: number, seedLo: number, seedHi: number, mask: Float32Array, out: Float32Array): void;
  transpose(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  argmaxRows(x: Float32Array, rows: number, cols: number, out: Int32Array): void;
}

/** @internal */
export const train = native as unknown as NativeTrain;

/** @internal A float32 tensor or a TypeError naming `fn` and `arg`. */
export function f32(fn: string, arg: string, t: unknown): Tensor<'float32'> {
  checkTensor(fn, arg, t);
  if (t.dtype !== 'float32') throw typeError(fn, `${arg}.dtype must be float32, got ${t.dtype}`);
  return t as Tensor<'float32'>;
}

/** @internal Rows and columns of a tensor seen as a matrix over its last dimension. */
export function rowsCols(t: Tensor): [number, number] {
  const cols = t.ndim ? t.shape[t.ndim - 1] : 1;
  // With cols = 0 the rows are the leading dimensions' product (a [5, 0] tensor has 5 empty rows), not size / cols.
  return [cols ? t.size / cols : t.shape.slice(0, -1).reduce((a, b) => a * b, 1), cols];
}

function sameSize(fn: string, a: string, at: Tensor, b: string, bt: Tensor): void {
  if (at.size !== bt.size)
    throw rangeError(fn, `${b} has shape [${bt.shape.join(', ')}], must match ${a} [${at.shape.join(', ')}]`);
}

/** A new output like `like`, or `out` checked: float32, same size, and each input either exactly out or clear of it. */
function outLike(fn: string, like: Tensor, out: Tensor | undefined | null, inputs: ReadonlyArray<readonly [string, Tensor]>): Tensor<'float32'> {
  if (out === undefined || out === null) return new Tensor(new Float32Array(like.size), like.shape.slice(), 'float32', like.size);
  const o = f32(fn, 'out', out);
  sameSize(fn, 'the input', like, 'out', o);
  for (const [arg, t] of inputs) checkOverlap(fn, o.data, arg, t.data, true); // elementwise: in place is fine
  return o;
}

/** dx = dy · act'(…) by the native `kernel`, from `t` (the tensor named `arg`: relu's output or gelu's input). */
function activationBackward(
  fn: string, arg: string, t: Tensor, dy: Tensor, out: Tensor | undefined,
  kernel: (t: Float32Array, dy: Float32Array, out: Float32Array, n: number) => void,
): Tensor<'float32'> {
  const T = f32(fn, arg, t);
  const D = f32(fn, 'dy', dy);
  sameSize(fn, arg, T, 'dy', D);
  const o = outLike(fn, D, out, [[arg, T], ['dy', D]]);
  kernel(T.data, D.data, o.data, T.size);
  return o;
}

/** dx = dy where relu's output y > 0, else 0 (works from the output, so a relu fused into a GEMM needs no input). */
export function reluBackward(y: Tensor, dy: Tensor, out?: Tensor): Tensor<'float32'> {
  return activationBackward('reluBackward', 'y', y, dy, out, (t, d, o, n) => train.reluBackward(t, d, o, n));
}

/** dx = dy · gelu'(x) for the erf form of GELU (x is gelu's input). */
export function geluBackward(x: Tensor, dy: Tensor, out?: Tensor): Tensor<'float32'> {
  return activationBackward('geluBackward', 'x', x, dy, out, (t, d, o, n) => train.geluBackward(t, d, o, n));
}

/** Out[c][r] = x[r][c] for a 2-D float32 tensor (or a tensor seen as rows over its last dimension). */
export function transpose(x: Tensor, out?: Tensor | null): Tensor<'float32'> {
  const fn = 'transpose';
  const X = f32(fn, 'x', x);
  const [rows, cols] = rowsCols(X);
  let o: Tensor<'float32'>;
  if (out !== undefined && out !== null) {
    o = f32(fn, 'out', out);
    if (o.size !== X.size || (o.ndim === 2 && (o.shape[0] !== cols || o.shape[1] !== rows)))
      throw rangeError(fn, `out has shape [${o.shape.join(', ')}], needs [${cols}, ${rows}]`);
    checkOverlap(fn, o.data, 'x', X.data); // element (r, c) moves: no overlap at all, in place included
  } else {
    o = new Tensor(new Float32Array(X.size), [cols, rows], 'float32', X.size);
  }
  train.transpose(X.data, rows, cols, o.data);
  return o;
}

/** Index of the largest element of each row (over the last dimension); the first one on ties, a NaN wins. */
export function argmax(x: Tensor): Int32Array {
  const fn = 'argmax';
  const X = f32(fn, 'x', x);
  const [rows, cols] = rowsCols(X);
  if (cols === 0 && rows > 0) throw rangeError(fn, `x has shape [${X.shape.join(', ')}]: rows of 0 elements have no argmax`);
  const out = new Int32Array(rows);
  train.argmaxRows(X.data, rows, cols, out);
  return out;
}

/** @internal Checks labels for `rows` rows of `cols` classes. */
export function checkLabels(fn: string, labels: unknown, rows: number, cols: number): Int32Array {
  if (!(labels instanceof Int32Array)) throw typeError(fn, `labels must be an Int32Array, got ${labels?.constructor?.name ?? String(labels)}`);
  if (labels.length !== rows) throw rangeError(fn, `labels has ${labels.length} entries, logits have ${rows} rows`);
  for (let i = 0; i < rows; i++)
    if (!(labels[i] >= 0 && labels[i] < cols)) throw rangeError(fn, `labels[${i}] (${labels[i]}) is not a class in [0, ${cols})`);
  return labels;
}

/**
 * Elementwise ops and row reductions on float32 tensors: add, sub, mul (with row broadcasting), relu, gelu,
 * softmax, logSoftmax, layerNorm. SIMD kernels on every ISA; the TypeScript here only validates.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { native } from '../native.js';
import { checkOverlap, checkTensor, Tensor } from '../tensor.js';
import { kernelName } from '../cpu.js';
import { allocF32 } from '../alloc.js';
import { monitorHook } from '../ops/registry.js';

/**
 * Options with an optional preallocated output: a float32 tensor of the input's shape. It may be the input itself
 * (same buffer, offset and length: the op runs in place) but must not overlap an input in any other way
 * (RangeError), nor a row-broadcast operand, gamma or beta.
 */
export interface OutOptions {
  out?: Tensor;
}

function f32(fn: string, arg: string, t: unknown): Tensor<'float32'> {
  checkTensor(fn, arg, t);
  if (t.dtype !== 'float32') throw typeError(fn, `${arg}.dtype must be float32, got ${t.dtype}`);
  return t as Tensor<'float32'>;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A new output of x's shape, or `out` checked: float32, x's shape, and x itself or clear of x (in place is fine). */
function outLike(fn: string, x: Tensor, out: unknown, xArg: string): Tensor<'float32'> {
  if (out === undefined || out === null) return new Tensor(allocF32(x.size), x.shape, 'float32', x.size); // shapes are immutable: shared
  const o = f32(fn, 'out', out);
  if (!sameShape(o.shape, x.shape)) throw rangeError(fn, `out has shape [${o.shape.join(', ')}], needs [${x.shape.join(', ')}] (${xArg}'s shape)`);
  checkOverlap(fn, o.data, xArg, x.data, true);
  return o;
}

const BIN = { add: 0, sub: 1, mul: 2 } as const;

function binary(fn: 'add' | 'sub' | 'mul', a: Tensor, b: Tensor | number, opts: OutOptions): Tensor<'float32'> {
  const A = f32(fn, 'a', a);
  const t0 = monitorHook.on ? performance.now() : 0;
  const out = outLike(fn, A, opts.out, 'a');
  const cols = A.ndim ? A.shape[A.ndim - 1] : 1;
  if (typeof b === 'number') {
    const row = new Float32Array(cols).fill(b);
    native.binaryRow(BIN[fn], A.data, row, out.data, cols ? A.size / cols : 0, cols);
  } else {
    const B = f32(fn, 'b', b);
    if (B.size === A.size && sameShape(B.shape, A.shape)) {
      if (out === opts.out) checkOverlap(fn, out.data, 'b', B.data, true); // a fresh output overlaps nothing
      native.binary(BIN[fn], A.data, B.data, out.data, A.size);
    } else if (B.size === cols && (B.ndim === 1 || B.shape.slice(0, -1).every((d) => d === 1))) {
      if (out === opts.out) checkOverlap(fn, out.data, 'b (a row broadcast over every row of out)', B.data);
      native.binaryRow(BIN[fn], A.data, B.data, out.data, cols ? A.size / cols : 0, cols);
    } else {
      throw rangeError(fn, `b shape [${B.shape.join(', ')}] must equal a's [${A.shape.join(', ')}] or be a row of ${cols} (broadcast over rows)`);
    }
  }
  if (monitorHook.on) monitorHook.record(fn, kernelName(fn === 'sub' ? 'add' : fn), t0);
  return out;
}

/** a + b, where b has a's shape, is a row broadcast over a's last dimension, or is a number. */
export function add(a: Tensor, b: Tensor | number, opts: OutOptions | null = {}): Tensor<'float32'> {
  opts = options('add', opts);
  return binary('add', a, b, opts);
}
/** a - b (same broadcasting as {@link add}). */
export function sub(a: Tensor, b: Tensor | number, opts: OutOptions | null = {}): Tensor<'float32'> {
  opts = options('sub', opts);
  return binary('sub', a, b, opts);
}
/** a * b elementwise (same broadcasting as {@link add}). */
export function mul(a: Tensor, b: Tensor | number, opts: OutOptions | null = {}): Tensor<'float32'> {
  opts = options('mul', opts);
  return binary('mul', a, b, opts);
}

function activation(fn: 'relu' | 'gelu', code: number, x: Tensor, opts: OutOptions): Tensor<'float32'> {
  const X = f32(fn, 'x', x);
  const t0 = monitorHook.on ? performance.now() : 0;
  const out = outLike(fn, X, opts.out, 'x');
  native.activation(code, X.data, out.data, X.size);
  if (monitorHook.on) monitorHook.record(fn, kernelName(fn), t0);
  return out;
}
/** max(x, 0) (NaN stays NaN). */
export function relu(x: Tensor, opts: OutOptions | null = {}): Tensor<'float32'> {
  opts = options('relu', opts);
  return activation('relu', 1, x, opts);
}
/** GELU, erf form: 0.5·x·(1 + erf(x/√2)) (PyTorch's default). */
export function gelu(x: Tensor, opts: OutOptions | null = {}): Tensor<'float32'> {
  opts = options('gelu', opts);
  return activation('gelu', 2, x, opts);
}

function rowsCols(fn: string, X: Tensor): [number, number] {
  if (X.ndim < 1) throw rangeError(fn, 'x must have at least 1 dimension');
  const cols = X.shape[X.ndim - 1];
  return [cols ? X.size / cols : 0, cols];
}

function softmaxImpl(fn: 'softmax' | 'logSoftmax', x: Tensor, opts: OutOptions): Tensor<'float32'> {
  const X = f32(fn, 'x', x);
  const t0 = monitorHook.on ? performance.now() : 0;
  const out = outLike(fn, X, opts.out, 'x');
  const [rows, cols] = rowsCols(fn, X);
  native.softmax(fn === 'logSoftmax', X.data, out.data, rows, cols);
  if (monitorHook.on) monitorHook.record(fn, kernelName(fn), t0);
  return out;
}
/** Softmax over the last dimension (numerically stable: the row max is subtracted first). */
export function softmax(x: Tensor, opts: OutOptions | null = {}): Tensor<'float32'> {
  opts = options('softmax', opts);
  return softmaxImpl('softmax', x, opts);
}
/** Log-softmax over the last dimension. */
export function logSoftmax(x: Tensor, opts: OutOptions | null = {}): Tensor<'float32'> {
  opts = options('logSoftmax', opts);
  return softmaxImpl('logSoftmax', x, opts);
}

/** Options of {@link layerNorm}. */
export interface LayerNormOptions extends OutOptions {
  /** Added to the variance (default 1e-5, as PyTorch). */
  eps?: number;
}
/** Layer normalisation over the last dimension: (x − mean)/√(var + eps)·gamma + beta (biased variance). */
export function layerNorm(x: Tensor, gamma?: Tensor | null, beta?: Tensor | null, opts: LayerNormOptions | null = {}): Tensor<'float32'> {
  opts = options('layerNorm', opts);
  const fn = 'layerNorm';
  const X = f32(fn, 'x', x);
  const [rows, cols] = rowsCols(fn, X);
  const g = gamma == null ? null : f32(fn, 'gamma', gamma);
  const b = beta == null ? null : f32(fn, 'beta', beta);
  if (g && g.size !== cols) throw rangeError(fn, `gamma has ${g.size} elements, needs ${cols} (x's last dimension)`);
  if (b && b.size !== cols) throw rangeError(fn, `beta has ${b.size} elements, needs ${cols} (x's last dimension)`);
  const eps = opts.eps ?? 1e-5;
  if (!(typeof eps === 'number' && eps >= 0 && Number.isFinite(eps))) throw rangeError(fn, `eps must be a finite number >= 0, got ${describe(eps)}`);
  const t0 = monitorHook.on ? performance.now() : 0;
  const out = outLike(fn, X, opts.out, 'x');
  if (g && out === opts.out) checkOverlap(fn, out.data, 'gamma', g.data);
  if (b && out === opts.out) checkOverlap(fn, out.data, 'beta', b.data);
  native.layerNorm(X.data, g ? g.data : null, b ? b.data : null, eps, out.data, rows, cols);
  if (monitorHook.on) monitorHook.record(fn, kernelName(fn), t0);
  return out;
}

/**
 * TF.js elementwise, softmax, reduction and transpose kernels on our ops: Add / Sub / Multiply / RealDiv / Maximum /
 * Minimum / SquaredDifference (same shape, a trailing row broadcast, or a scalar), Relu, and Relu6 / ClipByValue /
 * LeakyRelu / Sigmoid / Tanh / Exp / Sqrt / Rsqrt / Erf / Elu on the native unary kernels, FusedBatchNorm (two row
 * passes), Softmax over the last axis, Sum / Mean / Max over a contiguous block of axes (global pooling), Transpose
 * and PadV2 (4-byte dtypes).
 * @module
 */
import { mul, relu, softmax } from '../f32/eltwise.js';
import { globalAvgPool, globalMaxPool } from '../conv/pool.js';
import { native } from '../native.js';
import { allocOut, releaseScratch } from './buffers.js';
import { f32Data, output, sizeOf, view } from './types.js';
import type { KernelArgs, NativeKernel, TfCore } from './types.js';

/** BinaryOp codes of the native elementwise family (native/kernels/f32-eltwise/f32-eltwise.h). */
const BIN = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, sqdiff: 6 } as const;
/** UnaryOp codes of the same family. */
const UN = { clip: 0, leakyRelu: 1, sigmoid: 2, tanh: 3, exp: 4, sqrt: 5, rsqrt: 6, erf: 7, elu: 8 } as const;

/** Shape without its leading 1s. */
function trimLeadingOnes(shape: readonly number[]): number[] {
  let i = 0;
  while (i < shape.length && shape[i] === 1) i++;
  return shape.slice(i);
}

/** The widest power-of-two row (≤ 256) that divides n: a flat array viewed as rows × row for row-wise kernels. */
function rowWidth(n: number): number {
  let c = 256;
  while (n % c !== 0) c >>= 1;
  return c;
}

/**
 * A binary op on the native elementwise family (one call, no per-call validation beyond TF.js's shapes): same
 * shape, a trailing-row broadcast of b, or a scalar b (either side when the op commutes).
 */
function binaryKernel(tf: TfCore, op: keyof typeof BIN, commutative: boolean): NativeKernel {
  const code = BIN[op];
  return (args) => {
    let { a, b } = args.inputs;
    let A = f32Data(args.backend, a), B = f32Data(args.backend, b);
    if (!A || !B) return null;
    let outShape: number[];
    try {
      outShape = tf.broadcast_util.assertAndGetBroadcastShape(a!.shape, b!.shape);
    } catch {
      return null;
    }
    const size = sizeOf(outShape);
    if (size === 0) return null;
    if (A.length !== size) {
      if (!commutative || B.length !== size) return null;
      [A, B, a, b] = [B, A, b, a];
    }
    const out = allocOut(size);
    if (B.length === size) native.binary(code, A, B, out, size);
    else if (B.length === 1) {
      const c = rowWidth(size);
      native.binaryRow(code, A, new Float32Array(c).fill(B[0]), out, size / c, c);
    } else {
      // b must be a trailing row of the output: its shape (leading 1s dropped) equals the output's last dims.
      const t = trimLeadingOnes(b!.shape);
      if (t.some((d, i) => d !== outShape[outShape.length - t.length + i])) return null;
      native.binaryRow(code, A, B, out, size / B.length, B.length);
    }
    return output(args.backend, outShape, out);
  };
}

/** A unary op on the native elementwise family (one pass into a recycled or fresh buffer). */
function unaryKernel(op: keyof typeof UN, params?: (attrs: Record<string, unknown>) => [number, number] | null): NativeKernel {
  const code = UN[op];
  return (args) => {
    const { x } = args.inputs;
    const X = f32Data(args.backend, x);
    if (!X || X.length === 0) return null;
    const p = params ? params(args.attrs ?? {}) : [0, 0];
    if (!p) return null;
    const out = allocOut(X.length);
    native.unary(code, X, out, X.length, p[0], p[1]);
    return output(args.backend, x!.shape, out);
  };
}

/**
 * Prelu (x < 0 ? alpha·x : x): a scalar alpha is the native leaky relu; a per-channel alpha (a trailing row of x)
 * runs max(x, 0) + alpha·min(x, 0) as four native row passes (right for infinite x, unlike x + (alpha − 1)·min(x, 0)).
 * A non-finite alpha declines (alpha·0 would be NaN where TF.js gives 0).
 */
function preluKernel(args: KernelArgs): ReturnType<NativeKernel> {
  const { x, alpha } = args.inputs;
  const X = f32Data(args.backend, x), A = f32Data(args.backend, alpha);
  if (!X || !A || X.length === 0 || A.length === 0) return null;
  const t = trimLeadingOnes(alpha!.shape), xs = x!.shape;
  if (t.length > xs.length || t.some((d, i) => d !== xs[xs.length - t.length + i])) return null; // output shape ≠ x's
  for (let i = 0; i < A.length; i++) if (!Number.isFinite(A[i])) return null; // the parameters (one per channel), not x
  const out = allocOut(X.length);
  if (A.length === 1) native.unary(UN.leakyRelu, X, out, X.length, A[0], 0);
  else {
    const c = A.length, rows = X.length / c;
    const neg = allocOut(X.length);
    native.binaryRow(BIN.min, X, new Float32Array(c), neg, rows, c);
    native.binaryRow(BIN.mul, neg, A, neg, rows, c);
    native.unary(UN.clip, X, out, X.length, 0, Infinity);
    native.binary(BIN.add, out, neg, out, X.length);
    releaseScratch(neg);
  }
  return output(args.backend, xs, out);
}

function reluKernel(args: KernelArgs): ReturnType<NativeKernel> {
  const { x } = args.inputs;
  const X = f32Data(args.backend, x);
  if (!X || X.length === 0) return null;
  const out = allocOut(X.length);
  relu(view(X, [X.length]), { out: view(out, [X.length]) });
  return output(args.backend, x!.shape, out);
}

function softmaxKernel(args: KernelArgs): ReturnType<NativeKernel> {
  const { logits } = args.inputs;
  const X = f32Data(args.backend, logits);
  const r = logits?.shape.length ?? 0;
  const dim = args.attrs?.dim ?? -1;
  if (!X || X.length === 0 || r === 0 || (dim !== -1 && dim !== r - 1)) return null;
  const cols = logits!.shape[r - 1];
  const out = allocOut(X.length);
  softmax(view(X, [X.length / cols, cols]), { out: view(out, [X.length / cols, cols]) });
  return output(args.backend, logits!.shape, out);
}

/**
 * Sum / Mean / Max over a contiguous block of axes as a global pool: x viewed as [outer, R, 1, inner] (NHWC, pooled
 * over R) or, when the block is innermost, [1, outer, R, 1] (NCHW, one contiguous plane per output).
 */
function reduceKernel(tf: TfCore, kind: 'sum' | 'mean' | 'max'): NativeKernel {
  return (args) => {
    const { x } = args.inputs;
    const X = f32Data(args.backend, x);
    if (!X || X.length === 0) return null;
    const shape = x!.shape;
    const axes = tf.util.parseAxisParam(args.attrs?.axis ?? args.attrs?.reductionIndices, shape).slice().sort((p, q) => p - q);
    if (axes.length === 0 || axes.some((v, i) => i > 0 && v !== axes[i - 1] + 1)) return null;
    const outer = sizeOf(shape.slice(0, axes[0]));
    const r = sizeOf(shape.slice(axes[0], axes[axes.length - 1] + 1));
    const inner = sizeOf(shape.slice(axes[axes.length - 1] + 1));
    let outShape = shape.filter((_, i) => !axes.includes(i));
    if (args.attrs?.keepDims) outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const out = allocOut(outer * inner);
    const pool = kind === 'max' ? globalMaxPool : globalAvgPool;
    if (inner === 1) pool(view(X, [1, outer, r, 1]), { layout: 'nchw', out: view(out, [1, outer, 1, 1]) });
    else pool(view(X, [outer, r, 1, inner]), { layout: 'nhwc', out: view(out, [outer, 1, 1, inner]) });
    if (kind === 'sum' && r !== 1) mul(view(out, [out.length]), r, { out: view(out, [out.length]) });
    return output(args.backend, outShape, out);
  };
}

function transposeKernel(args: KernelArgs): ReturnType<NativeKernel> {
  const { x } = args.inputs;
  if (!x || (x.dtype !== 'float32' && x.dtype !== 'int32')) return null;
  const X = args.backend.data.get(x.dataId)?.values;
  if (!(X instanceof Float32Array || X instanceof Int32Array) || X.length === 0) return null;
  const perm = args.attrs?.perm as number[];
  const r = x.shape.length;
  if (r > 8 || perm.length !== r) return null;
  const stride = new Array<number>(r);
  for (let i = r - 1, s = 1; i >= 0; i--) {
    stride[i] = s;
    s *= x.shape[i];
  }
  const outShape = perm.map((p) => x.shape[p]);
  const f = allocOut(X.length);
  const out = X instanceof Float32Array ? f : new Int32Array(f.buffer, f.byteOffset, X.length);
  native.onnxTranspose(X, out, Int32Array.from(outShape), Int32Array.from(perm, (p) => stride[p]));
  return args.backend.makeTensorInfo(outShape, x.dtype, out);
}

/**
 * FusedBatchNorm (inference): y = (x − mean)·scale/√(variance + ε) + offset per channel (x's last dim): weight
 * scale/√(variance + ε) and bias offset − mean·weight folded per call over the channels, then two native row passes
 * (x·weight, + bias; the second in place).
 */
function batchNormKernel(args: KernelArgs): ReturnType<NativeKernel> {
  const { x, mean, variance, offset, scale } = args.inputs;
  const be = args.backend;
  const X = f32Data(be, x), M = f32Data(be, mean), V = f32Data(be, variance);
  const O = offset ? f32Data(be, offset) : null, S = scale ? f32Data(be, scale) : null;
  if (!X || !M || !V || (offset && !O) || (scale && !S) || X.length === 0 || x!.shape.length === 0) return null;
  const c = x!.shape[x!.shape.length - 1];
  const fits = (p: Float32Array | null) => p === null || p.length === c || p.length === 1;
  if (c === 0 || !fits(M) || !fits(V) || !fits(O) || !fits(S)) return null;
  const eps = args.attrs?.varianceEpsilon ?? 0.001;
  const w = new Float32Array(c), b = new Float32Array(c);
  for (let ch = 0; ch < c; ch++) {
    const at = (p: Float32Array) => p[p.length === 1 ? 0 : ch];
    const k = (S ? at(S) : 1) / Math.sqrt(at(V) + eps);
    w[ch] = k;
    b[ch] = (O ? at(O) : 0) - at(M) * k;
  }
  const n = X.length, out = allocOut(n);
  native.binaryRow(BIN.mul, X, w, out, n / c, c);
  native.binaryRow(BIN.add, out, b, out, n / c, c);
  return output(be, x!.shape, out);
}

/**
 * PadV2 (constant padding) of 4-byte data: the output is filled with the constant, then every contiguous run of x
 * (the innermost unpadded dims) is copied into place with one TypedArray.set per run.
 */
function padKernel(args: KernelArgs): ReturnType<NativeKernel> {
  const { x } = args.inputs;
  if (!x || (x.dtype !== 'float32' && x.dtype !== 'int32')) return null;
  const X = args.backend.data.get(x.dataId)?.values;
  if (!(X instanceof Float32Array || X instanceof Int32Array) || X.length === 0) return null;
  const pads = args.attrs?.paddings as [number, number][];
  const cv = Number(args.attrs?.constantValue ?? 0);
  const r = x.shape.length;
  if (!Array.isArray(pads) || pads.length !== r || pads.some((p) => !(p[0] >= 0 && p[1] >= 0))) return null;
  const outShape = x.shape.map((d, i) => pads[i][0] + d + pads[i][1]);
  const size = sizeOf(outShape);
  const f = allocOut(size);
  const out = X instanceof Float32Array ? f : new Int32Array(f.buffer, f.byteOffset, size);
  out.fill(cv); // a recycled buffer holds stale values
  let inner = 1, d = r - 1;
  while (d >= 0 && pads[d][0] === 0 && pads[d][1] === 0) inner *= x.shape[d--];
  if (d < 0) out.set(X);
  else {
    const run = x.shape[d] * inner;
    const outStride = new Array<number>(r);
    for (let i = r - 1, s = 1; i >= 0; i--) {
      outStride[i] = s;
      s *= outShape[i];
    }
    const outer = X.length / run;
    const idx = new Array<number>(d).fill(0);
    for (let o = 0; o < outer; o++) {
      let off = pads[d][0] * outStride[d];
      for (let j = 0; j < d; j++) off += (idx[j] + pads[j][0]) * outStride[j];
      out.set(X.subarray(o * run, (o + 1) * run), off);
      for (let j = d - 1; j >= 0 && ++idx[j] === x.shape[j]; j--) idx[j] = 0;
    }
  }
  return args.backend.makeTensorInfo(outShape, x.dtype, out);
}

/**
 * Slice of the whole tensor (tfjs-layers' predict slices its input batch: begin 0, size = the batch) shares the data
 * under a second reference, as Reshape does, instead of the CPU kernel's subarray: a view stored under another data
 * id pins the input's buffer in the output-buffer recycler (./buffers.ts), so at batch 16 each run allocated a fresh
 * 9.6 MB input (the model's /255 output). Any other slice: the CPU kernel.
 */
function sliceKernel(tf: TfCore): NativeKernel {
  return (args) => {
    const { x } = args.inputs;
    if (!x || x.dtype === 'complex64' || x.dtype === 'string') return null;
    const a = args.attrs ?? {};
    const [begin, size] = tf.slice_util.parseSliceParams(x as Parameters<typeof tf.slice_util.parseSliceParams>[0], a.begin, a.size);
    for (let i = 0; i < x.shape.length; i++) if (begin[i] !== 0 || size[i] !== x.shape[i]) return null;
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}

/** The elementwise, softmax, reduction and transpose kernels. */
export function eltwiseKernels(tf: TfCore): Record<string, NativeKernel> {
  return {
    Add: binaryKernel(tf, 'add', true),
    Sub: binaryKernel(tf, 'sub', false),
    Multiply: binaryKernel(tf, 'mul', true),
    RealDiv: binaryKernel(tf, 'div', false),
    Maximum: binaryKernel(tf, 'max', true),
    Minimum: binaryKernel(tf, 'min', true),
    SquaredDifference: binaryKernel(tf, 'sqdiff', true),
    Relu: reluKernel,
    Prelu: preluKernel,
    Relu6: unaryKernel('clip', () => [0, 6]),
    ClipByValue: unaryKernel('clip', (a) => {
      const min = Number(a.clipValueMin), max = Number(a.clipValueMax);
      return min <= max ? [min, max] : null;
    }),
    LeakyRelu: unaryKernel('leakyRelu', (a) => (typeof a.alpha === 'number' && Number.isFinite(a.alpha) ? [a.alpha, 0] : null)),
    Sigmoid: unaryKernel('sigmoid'),
    Tanh: unaryKernel('tanh'),
    Exp: unaryKernel('exp'),
    Sqrt: unaryKernel('sqrt'),
    Rsqrt: unaryKernel('rsqrt'),
    Erf: unaryKernel('erf'),
    Elu: unaryKernel('elu', () => [1, 0]),
    FusedBatchNorm: batchNormKernel,
    PadV2: padKernel,
    Softmax: softmaxKernel,
    Sum: reduceKernel(tf, 'sum'),
    Mean: reduceKernel(tf, 'mean'),
    Max: reduceKernel(tf, 'max'),
    Transpose: transposeKernel,
    Slice: sliceKernel(tf),
  };
}

/**
 * TF.js elementwise, softmax, reduction and transpose kernels on our ops: Add / Sub / Multiply (same shape, a
 * trailing row broadcast, or a scalar), Relu, Relu6 / LeakyRelu / Sigmoid (through the conv epilogue), Softmax over
 * the last axis, Sum / Mean / Max over a contiguous block of axes (global pooling), Transpose and PadV2 (4-byte
 * dtypes), ClipByValue, FusedBatchNorm.
 * @module
 */
import { add, mul, relu, softmax, sub } from '../ops/eltwise.js';
import { depthwiseConv2d } from '../conv/depthwise.js';
import { globalAvgPool, globalMaxPool } from '../conv/pool.js';
import type { ConvActivation } from '../conv/activation.js';
import { native } from '../native.js';
import { allocOut } from './buffers.js';
import { f32Data, output, sizeOf, view } from './types.js';
import type { KernelArgs, NativeKernel, TfCore } from './types.js';

const BINARY = { add, sub, mul } as const;

/** Shape without its leading 1s. */
function trimLeadingOnes(shape: readonly number[]): number[] {
  let i = 0;
  while (i < shape.length && shape[i] === 1) i++;
  return shape.slice(i);
}

function binaryKernel(tf: TfCore, op: keyof typeof BINARY, commutative: boolean): NativeKernel {
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
    const X = view(A, [size]), o = view(out, [size]);
    if (B.length === size) BINARY[op](X, view(B, [size]), { out: o });
    else if (B.length === 1) BINARY[op](X, B[0], { out: o });
    else {
      // b must be a trailing row of the output: its shape (leading 1s dropped) equals the output's last dims.
      const t = trimLeadingOnes(b!.shape);
      if (t.some((d, i) => d !== outShape[outShape.length - t.length + i])) return null;
      BINARY[op](view(A, [size / B.length, B.length]), view(B, [B.length]), { out: view(out, [size / B.length, B.length]) });
    }
    return output(args.backend, outShape, out);
  };
}

const ONES = new Map<number, Float32Array>();
/** 1-filters of a 1×1 depthwise conv over `c` channels: x·1 + 0 is x exactly, then the epilogue's activation. */
function ones(c: number): Float32Array {
  let w = ONES.get(c);
  if (!w) ONES.set(c, (w = new Float32Array(c).fill(1)));
  return w;
}

/**
 * An activation alone, run by the conv epilogue (relu6, leaky relu, sigmoid have no standalone kernel): a 1×1
 * depthwise conv with unit weights over the data viewed as [1, 1, n/c, c], c the largest power of two ≤ 256 that
 * divides n (the kernel vectorizes over channels; 4.8 MB took 1.45 / 0.77 / 0.65 ms at c = 16 / 64 / 256).
 */
function epilogueActivation(args: KernelArgs, act: ConvActivation): ReturnType<NativeKernel> {
  const { x } = args.inputs;
  const X = f32Data(args.backend, x);
  if (!X || X.length === 0) return null;
  const n = X.length;
  let c = 256;
  while (n % c !== 0) c >>= 1;
  // Rows of up to 64 pixels: 77 MB took 27 ms as one row, 18 ms in rows of 64 (relu: 11 ms).
  let w = 64;
  while ((n / c) % w !== 0) w >>= 1;
  const shape = [1, n / c / w, w, c];
  const out = allocOut(n);
  depthwiseConv2d(view(X, shape), view(ones(c), [1, 1, c, 1]), { layout: 'nhwc', weightLayout: 'hwcm', activation: act, out: view(out, shape) });
  return output(args.backend, x!.shape, out);
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
 * FusedBatchNorm (inference): y = (x − mean)·scale/√(variance + ε) + offset per channel (x's last dim), as a 1×1
 * depthwise conv with weight scale/√(variance + ε) and bias offset − mean·weight, folded per call over the channels.
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
  depthwiseConv2d(view(X, [1, 1, n / c, c]), view(w, [1, 1, c, 1]), { layout: 'nhwc', weightLayout: 'hwcm', bias: view(b, [c]), out: view(out, [1, 1, n / c, c]) });
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

/** The elementwise, softmax, reduction and transpose kernels. */
export function eltwiseKernels(tf: TfCore): Record<string, NativeKernel> {
  return {
    Add: binaryKernel(tf, 'add', true),
    Sub: binaryKernel(tf, 'sub', false),
    Multiply: binaryKernel(tf, 'mul', true),
    Relu: reluKernel,
    Relu6: (args) => epilogueActivation(args, 'relu6'),
    Sigmoid: (args) => epilogueActivation(args, 'sigmoid'),
    LeakyRelu: (args) => {
      const alpha = args.attrs?.alpha;
      return typeof alpha === 'number' && Number.isFinite(alpha) ? epilogueActivation(args, { leakyRelu: { alpha } }) : null;
    },
    ClipByValue: (args) => {
      const min = args.attrs?.clipValueMin, max = args.attrs?.clipValueMax;
      return Number.isFinite(min) && Number.isFinite(max) && min <= max ? epilogueActivation(args, { clip: { min, max } }) : null;
    },
    FusedBatchNorm: batchNormKernel,
    PadV2: padKernel,
    Softmax: softmaxKernel,
    Sum: reduceKernel(tf, 'sum'),
    Mean: reduceKernel(tf, 'mean'),
    Max: reduceKernel(tf, 'max'),
    Transpose: transposeKernel,
  };
}

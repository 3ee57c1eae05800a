/**
 * TF.js convolution gradients on our native code (NHWC): Conv2DBackpropFilter as im2col slices (native) whose
 * transpose (native) meets dy in our GEMM, and the depthwise filter / input gradients as native channel loops.
 * (Conv2DBackpropInput is in ./conv.ts: a transposed convolution; BatchMatMul's transposeA in ./matmul.ts.) Geometry
 * comes from TF.js's backend_util, as for the CPU kernels; a case they compute differently declines to them.
 * @module
 */
import { matmul } from '../ops/matmul.js';
import { native } from '../native.js';
import { allocOut, releaseScratch } from './buffers.js';
import { f32Pair4Kernel, output, sizeOf, view } from './types.js';
import type { NativeKernel, TfCore } from './types.js';

type Shape4 = [number, number, number, number];
type ConvInfo = ReturnType<TfCore['backend_util']['computeConv2DInfo']>;

/**
 * @internal Floats of im2col held at once by Conv2DBackpropFilter (default 2^22 = 16 MiB; the GEMMs of the
 * slices accumulate). Mutable for tests, which make it small to run the sliced path on small shapes.
 */
export const gradLimits: { im2colSliceFloats: number } = ((globalThis as unknown as Record<symbol, { im2colSliceFloats: number }>)[
  Symbol.for('simdtensor.tfjs.gradLimits') // process-wide, like the kernel counts: a test's copy of this module sees the backend's
] ??= { im2colSliceFloats: 1 << 22 });

/** The native geometry array: n, ih, iw, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, mult. */
function geometry(info: ConvInfo, mult: number): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left, mult,
  ]);
}

/** Whether TF.js's output size is the floor-rounded one our loops index with (ceil / round rounding declines). */
function plainGeometry(info: ConvInfo): boolean {
  const p = info.padInfo;
  const od = (i: number, pb: number, pe: number, ek: number, s: number) => Math.floor((i + pb + pe - ek) / s) + 1;
  return (
    p.top >= 0 && p.left >= 0 &&
    od(info.inHeight, p.top, p.bottom, info.effectiveFilterHeight, info.strideHeight) === info.outHeight &&
    od(info.inWidth, p.left, p.right, info.effectiveFilterWidth, info.strideWidth) === info.outWidth
  );
}

/** dW [kh, kw, ci, co] = im2col(x)ᵀ · dy, over slices of output pixels of at most gradLimits.im2colSliceFloats floats. */
function conv2dBackpropFilter(tf: TfCore): NativeKernel {
  return f32Pair4Kernel('x', 'dy', ({ a, t0: x, t1: dy, d0: X, d1: DY }, args) => {
    if (tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC') !== 'channelsLast') return null;
    const fs = a.filterShape as Shape4;
    const info = tf.backend_util.computeConv2DInfo(x!.shape as Shape4, fs, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
    if (!plainGeometry(info) || sizeOf(fs) === 0 || sizeOf(x!.shape) === 0) return null;
    if (!dyMatches(dy.shape, info)) return null;
    const [n, oh, ow, co] = dy.shape;
    const K = info.filterHeight * info.filterWidth * info.inChannels;
    const P = n * oh * ow;
    const out = allocOut(K * co);
    if (P === 0) return output(args.backend, fs, out.fill(0));
    const direct =
      info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
      info.padInfo.top === 0 && info.padInfo.left === 0 && oh === info.inHeight && ow === info.inWidth;
    const slice = Math.max(1, Math.min(P, Math.floor(gradLimits.im2colSliceFloats / K)));
    const geom = geometry(info, 1);
    const cols = direct ? null : allocOut(slice * K);
    const colsT = allocOut(slice * K);
    const part = slice < P ? allocOut(K * co) : null;
    for (let p0 = 0; p0 < P; p0 += slice) {
      const rows = Math.min(slice, P - p0);
      let src: Float32Array;
      if (cols) {
        native.convIm2col(X, geom, p0, rows, cols);
        src = cols;
      } else src = X.subarray(p0 * K, (p0 + rows) * K);
      native.transposeBatched(src, colsT.subarray(0, rows * K), Int32Array.from([1, rows, K]));
      const dst = p0 === 0 ? out : part!;
      matmul(view(colsT.subarray(0, K * rows), [K, rows]), view(DY.subarray(p0 * co, (p0 + rows) * co), [rows, co]), { out: view(dst, [K, co]) });
      if (p0 > 0) native.binary(0, out, dst, out, K * co);
    }
    for (const s of [cols, colsT, part]) if (s) releaseScratch(s);
    return output(args.backend, fs, out);
  });
}

/** Whether dy has the [n, oh, ow, co] of the forward conv's output. */
function dyMatches(dy: readonly number[], info: ConvInfo): boolean {
  const [n, oh, ow, co] = dy;
  return n === info.batchSize && oh === info.outHeight && ow === info.outWidth && co === info.outChannels;
}

/**
 * The native geometry of a depthwise gradient, or null to decline: dilations 1, floor-rounded output sizes, an
 * integer channel multiplier over the filter's input channels, and dy of the forward output's shape.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function depthwiseGradGeometry(tf: TfCore, a: Record<string, any>, inShape: Shape4, fs: Shape4, dy: readonly number[]): Int32Array | null {
  const info = tf.backend_util.computeConv2DInfo(inShape, fs, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
  // The CPU kernel ignores dilations (TF.js's depthwise gradient asserts they are 1): leave such calls to it.
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || !plainGeometry(info)) return null;
  const mult = info.outChannels / info.inChannels;
  if (!Number.isInteger(mult) || fs[2] !== info.inChannels || !dyMatches(dy, info)) return null;
  return geometry(info, mult);
}

/** Depthwise filter gradient: dW [kh, kw, c, mult] (native channel loop; dilations 1, as TF.js's gradient). */
function depthwiseBackpropFilter(tf: TfCore): NativeKernel {
  return f32Pair4Kernel('x', 'dy', ({ a, t0: x, t1: dy, d0: X, d1: DY }, args) => {
    const fs = a.filterShape as Shape4;
    const geom = depthwiseGradGeometry(tf, a, x.shape as Shape4, fs, dy.shape);
    if (!geom || sizeOf(fs) === 0) return null;
    const out = allocOut(sizeOf(fs));
    native.dwconvBackwardFilter(X, DY, geom, out);
    return output(args.backend, fs, out);
  });
}

/** Depthwise input gradient: dX [n, h, w, c] (native gather over the taps; dilations 1). */
function depthwiseBackpropInput(tf: TfCore): NativeKernel {
  return f32Pair4Kernel('dy', 'filter', ({ a, t0: dy, t1: filter, d0: DY, d1: W }, args) => {
    const inShape = a.inputShape as Shape4;
    const geom = depthwiseGradGeometry(tf, a, inShape, filter.shape as Shape4, dy.shape);
    if (!geom || sizeOf(inShape) === 0) return null;
    const out = allocOut(sizeOf(inShape));
    native.dwconvBackwardInput(W, DY, geom, out);
    return output(args.backend, inShape, out);
  });
}

/** The gradient kernels by TF.js kernel name. */
export function gradKernels(tf: TfCore): Record<string, NativeKernel> {
  return {
    Conv2DBackpropFilter: conv2dBackpropFilter(tf),
    DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter(tf),
    DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput(tf),
  };
}

/**
 * TF.js convolution-family kernels on our ops: Conv2D / FusedConv2D (packed weights, fused bias + activation),
 * DepthwiseConv2dNative / FusedDepthwiseConv2D, Conv2DBackpropInput (convTranspose2d), MaxPool, AvgPool,
 * ResizeBilinear, ResizeNearestNeighbor. Geometry comes from TF.js's own backend_util (the CPU kernels' source of
 * truth); a case our ops do not reproduce exactly declines to the CPU kernel.
 * @module
 */
import { conv2d, convTranspose2d, packConvWeights, PackedConvWeights, planConv } from '../conv/conv2d.js';
import { depthwiseConv2d, plan as planDepthwise } from '../conv/depthwise.js';
import { monitorHook } from '../ops/registry.js';
import { avgPool2d, maxPool2d } from '../conv/pool.js';
import { resize } from '../conv/resize.js';
import type { ConvActivation } from '../conv/activation.js';
import type { CoordinateTransformationMode, NearestMode } from '../conv/resize.js';
import type { Tensor } from '../tensor.js';
import { native } from '../native.js';
import { stateOf } from './weights.js';
import { allocOut } from './buffers.js';
import { int8ConvWeights, int8On, quantizeActivations } from './int8.js';
import { f32Data, f32Pair4Kernel, output, sizeOf, view } from './types.js';
import type { KernelArgs, NativeKernel, TensorInfo, TfCore } from './types.js';

type Shape4 = [number, number, number, number];
const scratch = new Float32Array(1), scratch2 = new Float32Array(1);

/** A TF.js fused activation as a conv epilogue, or null when the epilogue has none (prelu, elu). */
export function fusedActivation(activation: unknown, alpha: unknown): ConvActivation | null {
  switch (activation ?? 'linear') {
    case 'linear':
      return 'none';
    case 'relu':
      return 'relu';
    case 'relu6':
      return 'relu6';
    case 'sigmoid':
      return 'sigmoid';
    case 'leakyrelu': {
      const a = alpha ?? 0.2;
      return typeof a === 'number' && Number.isFinite(a) ? { leakyRelu: { alpha: a } } : null;
    }
    default:
      return null;
  }
}

/**
 * The bias of a fused op as a vector of `m` channels: [m] (or [1, …, 1, m]) as is, one value broadcast;
 * undefined when it broadcasts another way (the CPU kernel handles that).
 */
export function biasVector(args: KernelArgs, bias: TensorInfo | undefined, m: number, channelsLast: boolean): Tensor<'float32'> | null | undefined {
  if (!bias) return null;
  const d = f32Data(args.backend, bias);
  if (!d) return undefined;
  if (d.length === 1) return view(new Float32Array(m).fill(d[0]), [m]);
  if (channelsLast && d.length === m && bias.shape.length >= 1 && bias.shape[bias.shape.length - 1] === m) return view(d, [m]);
  return undefined;
}

const outDim = (inp: number, pb: number, pe: number, ek: number, s: number) => Math.floor((inp + pb + pe - ek) / s) + 1;

/**
 * A validated conv call kept under its attrs object. optimizeLayersModel's folded layers pass the same attrs on
 * every call, so from the second call on the kernel skips TF.js's geometry, our option checks and the packed-weight
 * lookup: one shape compare and the native call. The plan holds only while x has the planned shape and the
 * filter and bias are the same data; anything else (and monitoring, int8 mode) takes the full path again.
 */
interface PlannedCall {
  backend: object;
  xShape: readonly number[];
  filterId: object;
  biasId: object | undefined;
  outShape: number[];
  size: number;
  run: (x: Float32Array, out: Float32Array) => void;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The planned call's output, or null when the plan does not fit this call. */
function runPlanned(plans: WeakMap<object, PlannedCall>, args: KernelArgs): TensorInfo | null {
  const a = args.attrs;
  if (!a || monitorHook.on || int8On()) return null;
  const p = plans.get(a);
  if (!p || p.backend !== args.backend) return null;
  const { x, filter, bias } = args.inputs;
  const X = f32Data(args.backend, x);
  if (!X || !filter || filter.dataId !== p.filterId || bias?.dataId !== p.biasId || !sameShape(p.xShape, x!.shape)) return null;
  const out = allocOut(p.size);
  p.run(X, out);
  return output(args.backend, p.outShape, out);
}

/** TF.js's conv geometry (backend_util.computeConv2DInfo). */
export type ConvInfo = ReturnType<TfCore['backend_util']['computeConv2DInfo']>;

/** The conv attributes {@link convGeometry} reads (a kernel's attrs, or a folded layer's). */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: unknown;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * TF.js's geometry of a conv / depthwise conv (NHWC unless `dataFormat` says otherwise), or null when our kernels
 * would not give that output: an empty input or output, or an output size TF.js rounds differently than our pads do.
 */
export function convGeometry(tf: TfCore, xShape: readonly number[], filterShape: readonly number[], a: ConvAttrs, depthwise: boolean, dataFormat: 'channelsLast' | 'channelsFirst' = 'channelsLast'): ConvInfo | null {
  const info = depthwise
    ? tf.backend_util.computeConv2DInfo(xShape as Shape4, filterShape as Shape4, a.strides, a.dilations ?? 1, a.pad as 'same', a.dimRoundingMode, true)
    : tf.backend_util.computeConv2DInfo(xShape as Shape4, filterShape as Shape4, a.strides, a.dilations ?? 1, a.pad as 'same', a.dimRoundingMode, false, dataFormat);
  if (sizeOf(info.outShape) === 0 || sizeOf(xShape) === 0) return null;
  const p = info.padInfo;
  if (outDim(info.inHeight, p.top, p.bottom, info.effectiveFilterHeight, info.strideHeight) !== info.outHeight) return null;
  if (outDim(info.inWidth, p.left, p.right, info.effectiveFilterWidth, info.strideWidth) !== info.outWidth) return null;
  return info;
}

/** What the conv and depthwise calls share: TF.js's geometry as our window options, the bias, activation and output. */
export function windowFields(info: ConvInfo, bias: Tensor<'float32'> | null, activation: ConvActivation, out: Float32Array) {
  const p = info.padInfo;
  return {
    strides: [info.strideHeight, info.strideWidth] as [number, number],
    dilations: [info.dilationHeight, info.dilationWidth] as [number, number],
    pads: [p.top, p.left, p.bottom, p.right] as [number, number, number, number],
    bias,
    activation,
    out: view(out, info.outShape),
  };
}

function convKernel(tf: TfCore, fused: boolean): NativeKernel {
  const plans = new WeakMap<object, PlannedCall>();
  const full = f32Pair4Kernel('x', 'filter', ({ a, t0: x, t1: filter, d0: X, d1: W }, args) => {
    const { bias } = args.inputs;
    const act = fused ? fusedActivation(a.activation, a.leakyreluAlpha) : 'none';
    if (act === null) return null;
    const dataFormat = tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC');
    const info = convGeometry(tf, x!.shape, filter!.shape, a as ConvAttrs, false, dataFormat);
    if (!info) return null;
    const nhwc = dataFormat === 'channelsLast';
    const b = fused ? biasVector(args, bias, info.outChannels, nhwc) : null;
    if (b === undefined) return null;
    const weights = stateOf(args.backend).weights;
    const out = allocOut(sizeOf(info.outShape));
    const opts = {
      layout: nhwc ? ('nhwc' as const) : ('nchw' as const),
      ...windowFields(info, b, act, out),
    };
    if (int8On() && nhwc) {
      // int8 mode: per-channel int8 filter (quantized once), x quantized per call (per tensor, uint8).
      const q = weights.get(filter!.dataId, 'conv2d:hwio:s8', () => int8ConvWeights(W, filter!.shape));
      const xq = q ? quantizeActivations(X, x!.shape) : null;
      if (q && xq) {
        conv2d(xq, q, opts);
        return output(args.backend, info.outShape, out);
      }
    }
    const packed = weights.get(filter!.dataId, 'conv2d:hwio', () => packConvWeights(view(W, filter!.shape), { weightLayout: 'hwio' }));
    if (monitorHook.on || !args.attrs) {
      conv2d(view(X, x!.shape), packed, opts);
      return output(args.backend, info.outShape, out);
    }
    // planConv validates exactly what conv2d would; its native arguments are kept for the next call with these attrs.
    const pc = planConv('conv2d', view(X, x!.shape), packed, opts, false);
    const { geom, bias: pb, act: pa } = pc;
    const run = (xd: Float32Array, od: Float32Array) => native.conv2d(xd, packed.handle, geom, od, pb, null, pa[0], pa[1], pa[2]);
    run(X, out);
    plans.set(args.attrs, { backend: args.backend, xShape: x!.shape.slice(), filterId: filter!.dataId, biasId: bias?.dataId, outShape: info.outShape.slice(), size: out.length, run });
    return output(args.backend, info.outShape, out);
  });
  return (args) => runPlanned(plans, args) ?? full(args);
}

function depthwiseKernel(tf: TfCore, fused: boolean): NativeKernel {
  const plans = new WeakMap<object, PlannedCall>();
  const full = f32Pair4Kernel('x', 'filter', ({ a, t0: x, t1: filter, d0: X, d1: W }, args) => {
    const { bias } = args.inputs;
    if ((a.dataFormat ?? 'NHWC') !== 'NHWC') return null;
    const act = fused ? fusedActivation(a.activation, a.leakyreluAlpha) : 'none';
    if (act === null) return null;
    const info = convGeometry(tf, x!.shape, filter!.shape, a as ConvAttrs, true);
    if (!info || filter!.shape[2] !== info.inChannels) return null;
    const b = fused ? biasVector(args, bias, info.outChannels, true) : null;
    if (b === undefined) return null;
    const out = allocOut(sizeOf(info.outShape));
    const dopts = {
      layout: 'nhwc' as const,
      weightLayout: 'hwcm' as const,
      ...windowFields(info, b, act, out),
    };
    if (monitorHook.on || !args.attrs) {
      depthwiseConv2d(view(X, x!.shape), view(W, filter!.shape), dopts);
      return output(args.backend, info.outShape, out);
    }
    const pd = planDepthwise('depthwiseConv2d', view(X, x!.shape), view(W, filter!.shape), dopts);
    const { params, bias: pb, actA, actB } = pd;
    const run = (xd: Float32Array, od: Float32Array) => native.depthwiseConv2d(xd, W, pb, od, params, actA, actB);
    run(X, out);
    plans.set(args.attrs, { backend: args.backend, xShape: x!.shape.slice(), filterId: filter!.dataId, biasId: bias?.dataId, outShape: info.outShape.slice(), size: out.length, run });
    return output(args.backend, info.outShape, out);
  });
  return (args) => runPlanned(plans, args) ?? full(args);
}

/** Conv2DBackpropInput (the gradient of conv2d w.r.t. its input, and tf.conv2dTranspose) as convTranspose2d. */
function conv2dBackpropInput(tf: TfCore): NativeKernel {
  return f32Pair4Kernel('dy', 'filter', ({ a, t0: dy, t1: filter, d0: DY, d1: W }, args) => {
    const dataFormat = tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC');
    const inShape = a.inputShape as Shape4;
    const info = tf.backend_util.computeConv2DInfo(inShape, filter!.shape as Shape4, a.strides, 1, a.pad, a.dimRoundingMode, false, dataFormat);
    if (sizeOf(inShape) === 0 || sizeOf(dy!.shape) === 0) return null;
    const nhwc = dataFormat === 'channelsLast';
    const [dyH, dyW] = nhwc ? [dy!.shape[1], dy!.shape[2]] : [dy!.shape[2], dy!.shape[3]];
    if (dyH !== info.outHeight || dyW !== info.outWidth || info.outChannels !== (nhwc ? dy!.shape[3] : dy!.shape[1])) return null;
    // ONNX ConvTranspose geometry reproducing dx: begin pads as the forward conv; the end pad and output padding
    // chosen so that the output has exactly the forward input's size (the begin pad alone fixes which taps land where).
    const end = (inp: number, d: number, k: number, s: number, begin: number): [number, number] | null => {
      const base = s * (d - 1) + k - begin;
      const pe = Math.max(0, base - inp);
      const op = inp - base + pe;
      return op < s ? [pe, op] : null;
    };
    const p = info.padInfo;
    const eh = end(info.inHeight, dyH, info.filterHeight, info.strideHeight, p.top);
    const ew = end(info.inWidth, dyW, info.filterWidth, info.strideWidth, p.left);
    if (!eh || !ew || p.top < 0 || p.left < 0) return null;
    const packed: PackedConvWeights = stateOf(args.backend).weights.get(filter!.dataId, 'conv2d:hwoi', () =>
      packConvWeights(view(W, filter!.shape), { weightLayout: 'hwoi', transposed: true }),
    );
    const out = allocOut(sizeOf(inShape));
    convTranspose2d(view(DY, dy!.shape), packed, {
      layout: nhwc ? 'nhwc' : 'nchw',
      strides: [info.strideHeight, info.strideWidth],
      pads: [p.top, p.left, eh[0], ew[0]],
      outputPadding: [eh[1], ew[1]],
      out: view(out, inShape),
    });
    return output(args.backend, inShape, out);
  });
}

function poolKernel(tf: TfCore, max: boolean): NativeKernel {
  return (args) => {
    const { x } = args.inputs;
    const a = args.attrs ?? {};
    const X = f32Data(args.backend, x);
    if (!X || x!.shape.length !== 4) return null;
    const info = tf.backend_util.computePool2DInfo(x!.shape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    if (sizeOf(info.outShape) === 0 || sizeOf(x!.shape) === 0) return null;
    const p = info.padInfo;
    const fh = info.effectiveFilterHeight, fw = info.effectiveFilterWidth;
    if (outDim(info.inHeight, p.top, p.bottom, fh, info.strideHeight) !== info.outHeight) return null;
    if (outDim(info.inWidth, p.left, p.right, fw, info.strideWidth) !== info.outWidth) return null;
    // Every window must cover at least one input pixel (ours refuse an all-padding window).
    if (p.top >= fh || p.left >= fw || (info.outHeight - 1) * info.strideHeight - p.top >= info.inHeight || (info.outWidth - 1) * info.strideWidth - p.left >= info.inWidth)
      return null;
    const out = allocOut(sizeOf(info.outShape));
    const opts = {
      kernelSize: [info.filterHeight, info.filterWidth] as [number, number],
      strides: [info.strideHeight, info.strideWidth] as [number, number],
      pads: [p.top, p.left, p.bottom, p.right] as const,
      layout: 'nhwc' as const,
      out: view(out, info.outShape),
    };
    if (max) {
      maxPool2d(view(X, x!.shape), opts);
      // TF.js's max pooling skips NaN (ours propagates it, as ONNX does): a NaN in the output means the input held
      // one, and the CPU kernel reruns the op. The check is one native SIMD scan of the output.
      if (native.quantMinMax(out, 1, 1, out.length, scratch, scratch2)) return null;
    } else avgPool2d(view(X, x!.shape), opts);
    return output(args.backend, info.outShape, out);
  };
}

function resizeKernel(bilinear: boolean): NativeKernel {
  return (args) => {
    const { images } = args.inputs;
    const a = args.attrs ?? {};
    const X = f32Data(args.backend, images);
    if (!X || images!.shape.length !== 4) return null;
    const [newH, newW] = a.size as [number, number];
    const [n, , , c] = images!.shape;
    const outShape = [n, newH, newW, c];
    if (sizeOf(outShape) === 0 || sizeOf(images!.shape) === 0 || (a.alignCorners && a.halfPixelCenters)) return null;
    let ctm: CoordinateTransformationMode, nearestMode: NearestMode = 'floor';
    if (a.alignCorners) {
      ctm = 'align_corners';
      nearestMode = 'round_prefer_ceil';
    } else if (a.halfPixelCenters) ctm = bilinear ? 'half_pixel' : 'tf_half_pixel_for_nn';
    else ctm = 'asymmetric';
    const out = allocOut(sizeOf(outShape));
    resize(view(X, images!.shape), {
      sizes: [newH, newW],
      mode: bilinear ? 'bilinear' : 'nearest',
      coordinateTransformationMode: ctm,
      ...(bilinear ? {} : { nearestMode }),
      layout: 'nhwc',
      out: view(out, outShape),
    });
    return output(args.backend, outShape, out);
  };
}

/** The convolution-family kernels by TF.js kernel name. */
export function convKernels(tf: TfCore): Record<string, NativeKernel> {
  return {
    Conv2D: convKernel(tf, false),
    FusedConv2D: convKernel(tf, true),
    DepthwiseConv2dNative: depthwiseKernel(tf, false),
    FusedDepthwiseConv2D: depthwiseKernel(tf, true),
    Conv2DBackpropInput: conv2dBackpropInput(tf),
    MaxPool: poolKernel(tf, true),
    AvgPool: poolKernel(tf, false),
    ResizeBilinear: resizeKernel(true),
    ResizeNearestNeighbor: resizeKernel(false),
  };
}

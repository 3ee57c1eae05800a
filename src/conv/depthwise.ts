/**
 * Depthwise 2-D convolution (groups = input channels, optional channel multiplier) with fused bias and activation.
 * NHWC runs register-tiled 3×3/5×5 kernels vectorized over channels; NCHW vectorizes over output width.
 * @module
 */
import { describe, options, rangeError, typeError } from '../errors.js';
import { native, nativeOnly } from '../native.js';
import { Tensor } from '../tensor.js';
import { checkSignal } from '../ops/registry.js';
import type { AsyncOptions } from '../ops/registry.js';
import { convActivation, ConvActivation } from './activation.js';
import { convHooks } from './conv2d.js';
import type { Conv2dOptions } from './conv2d.js';
import { f32Tensor, ImageLayout, imageDims, imageOut, imageShape, Pads, parseLayout, parsePair, window2d, timedRun, timedRunAsync } from './window.js';

/** Options of {@link depthwiseConv2d}. */
export interface DepthwiseConv2dOptions {
  /** Layout of x and the output (default 'nchw'). */
  layout?: ImageLayout;
  /**
   * Layout of the weights: 'oihw' — ONNX/PyTorch [C·M, 1, kH, kW], output channel c·M + m reads input channel c —
   * or 'hwcm' — TF.js depthwiseConv2d filter [kH, kW, C, M]. Default: 'oihw' for 'nchw', 'hwcm' for 'nhwc'.
   */
  weightLayout?: 'oihw' | 'hwcm';
  /** Strides [h, w] or one number (default 1). */
  strides?: number | [number, number];
  /** Dilations [h, w] or one number (default 1). */
  dilations?: number | [number, number];
  /** Padding (default 'valid', i.e. none); see {@link Pads}. */
  pads?: Pads;
  /** Bias of C·M elements, added before the activation. */
  bias?: Tensor | null;
  /** Fused activation (default none). */
  activation?: ConvActivation;
  /** Preallocated output (float32, the exact output shape; must not overlap x). */
  out?: Tensor;
}

/** @internal */
export interface DwPlan {
  x: Tensor<'float32'>;
  w: Tensor<'float32'>;
  bias: Float32Array | null;
  out: Tensor<'float32'>;
  params: Int32Array;
  actA: number;
  actB: number;
}

/** @internal Validates a depthwise call: what the native call takes (also used by the ONNX runtime's call cache). */
export function plan(fn: string, x: unknown, w: unknown, opts: DepthwiseConv2dOptions): DwPlan {
  opts = options(fn, opts); // null / undefined mean no options (the API contract)
  const X = f32Tensor(fn, 'x', x);
  const W = f32Tensor(fn, 'w', w);
  const nhwc = parseLayout(fn, opts.layout);
  const d = imageDims(fn, 'x', X, nhwc);
  const wl = opts.weightLayout ?? (nhwc ? 'hwcm' : 'oihw');
  if (wl !== 'oihw' && wl !== 'hwcm') throw typeError(fn, `weightLayout must be 'oihw' or 'hwcm', got ${describe(wl)}`);
  if (W.ndim !== 4) throw rangeError(fn, `w must be 4-D (${wl === 'oihw' ? '[C·M, 1, kH, kW]' : '[kH, kW, C, M]'}), got shape [${W.shape.join(', ')}]`);
  let mult: number, kh: number, kw: number;
  if (wl === 'oihw') {
    const [oc, one, a, b] = W.shape;
    if (one !== 1 || d.c === 0 || oc % d.c !== 0 || oc === 0)
      throw rangeError(fn, `w shape [${W.shape.join(', ')}] must be [C·M, 1, kH, kW] with C = ${d.c} (x's channels)`);
    [mult, kh, kw] = [oc / d.c, a, b];
  } else {
    const [a, b, c, m] = W.shape;
    if (c !== d.c || m === 0) throw rangeError(fn, `w shape [${W.shape.join(', ')}] must be [kH, kW, C, M] with C = ${d.c} (x's channels)`);
    [mult, kh, kw] = [m, a, b];
  }
  if (kh === 0 || kw === 0) throw rangeError(fn, `w has an empty kernel (kH ${kh}, kW ${kw})`);
  const strides = parsePair(fn, 'strides', opts.strides, 1);
  const dilations = parsePair(fn, 'dilations', opts.dilations, 1);
  const g = window2d(fn, d.h, d.w, kh, kw, strides, dilations, opts.pads, false);
  const oc = d.c * mult;
  let bias: Float32Array | null = null;
  if (opts.bias !== undefined && opts.bias !== null) {
    const B = f32Tensor(fn, 'bias', opts.bias);
    if (B.size !== oc) throw rangeError(fn, `bias has ${B.size} elements, needs ${oc} (output channels)`);
    bias = B.data;
  }
  const act = convActivation(fn, opts.activation);
  const out = imageOut(fn, opts.out, imageShape(nhwc, d.n, oc, g.oh, g.ow), X);
  const params = Int32Array.of(+nhwc, +(wl === 'hwcm'), d.n, d.c, mult, d.h, d.w, g.oh, g.ow, kh, kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, act.code);
  return { x: X, w: W, bias, out, params, actA: act.a, actB: act.b };
}

/** @internal The native call of a checked plan, to run now or keep (the ONNX runtime's per-node call caches). */
export function nativeCall(p: DwPlan): () => void {
  return nativeOnly(() => native.depthwiseConv2d(p.x.data, p.w.data, p.bias, p.out.data, p.params, p.actA, p.actB));
}

/**
 * Depthwise 2-D convolution: each input channel c convolved with its own M filters (M = channel multiplier, usually
 * 1), output channel c·M + m; then bias and the fused activation. x is [N, C, H, W] ('nchw', default) or
 * [N, H, W, C] ('nhwc'); weights per `weightLayout`. Output [N, C·M, OH, OW] or [N, OH, OW, C·M] with
 * OH = floor((H + padTop + padBottom − ((kH − 1)·dilationH + 1)) / strideH) + 1 (likewise OW).
 *
 * @throws TypeError for a non-tensor, non-float32 or malformed option; RangeError for inconsistent shapes.
 */
export function depthwiseConv2d(x: Tensor, w: Tensor, opts: DepthwiseConv2dOptions | null = {}): Tensor {
  const fn = 'depthwiseConv2d';
  opts = options(fn, opts);
  const p = plan(fn, x, w, opts);
  return timedRun(fn, fn, nativeCall(p), p.out);
}

/**
 * The async form of {@link depthwiseConv2d}: runs on simdtensor's own threads; x, w, bias stay referenced and `out`
 * is handed over only once complete. Rejects with the same errors as the sync form, or ERR_SIMDTENSOR_BUSY when
 * `out` overlaps memory an op in flight uses.
 */
export async function depthwiseConv2dAsync(x: Tensor, w: Tensor, opts: (DepthwiseConv2dOptions & AsyncOptions) | null = {}): Promise<Tensor> {
  const fn = 'depthwiseConv2dAsync';
  opts = options(fn, opts);
  const p = plan(fn, x, w, opts);
  const signal = checkSignal(fn, opts.signal);
  return timedRunAsync(fn, 'depthwiseConv2d', signal, (id) => native.depthwiseConv2dAsync(p.x.data, p.w.data, p.bias, p.out.data, p.params, p.actA, p.actB, id), p.out);
}

/**
 * conv2d with groups = C = M on raw f32 weights runs here (conv2d's depthwise hook): the weights are the same
 * memory ('oihw' [C, 1, kH, kW] as is; 'hwio' [kH, kW, 1, C] is 'hwcm' [kH, kW, C, 1]) and the options carry over.
 * Declines (null: conv2d's grouped GEMM path runs) for packed weights, a residual, other dtypes, or a flat 'clip'
 * with an infinite bound (the depthwise activation takes finite bounds).
 */
function fromConv(x: Tensor, w: unknown, o: Conv2dOptions): [Tensor, Tensor, DepthwiseConv2dOptions] | null {
  if (!(w instanceof Tensor) || x.dtype !== 'float32' || w.dtype !== 'float32' || w.ndim !== 4) return null;
  if (o.residual !== undefined && o.residual !== null) return null;
  const nhwc = o.layout === 'nhwc';
  const wl = o.weightLayout ?? (nhwc ? 'hwio' : 'oihw');
  let w2: Tensor, dwl: 'oihw' | 'hwcm';
  if (wl === 'oihw') [w2, dwl] = [w, 'oihw'];
  else if (wl === 'hwio') [w2, dwl] = [w.reshape([w.shape[0], w.shape[1], w.shape[3], 1]), 'hwcm'];
  else return null;
  let act: ConvActivation | undefined;
  const a = o.activation;
  if (a === 'clip') {
    const lo = o.clipMin ?? -Infinity, hi = o.clipMax ?? Infinity;
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
    act = { clip: { min: lo, max: hi } };
  } else if (a === 'leakyRelu' && o.alpha !== undefined) act = { leakyRelu: { alpha: o.alpha } };
  else if (a === 'hardSigmoid' && (o.alpha !== undefined || o.beta !== undefined)) act = { hardSigmoid: { alpha: o.alpha, beta: o.beta } };
  else act = a;
  const opts: DepthwiseConv2dOptions = { layout: o.layout, weightLayout: dwl, strides: o.strides as DepthwiseConv2dOptions['strides'], dilations: o.dilations as DepthwiseConv2dOptions['dilations'], pads: o.pads as Pads, bias: o.bias, activation: act };
  if (o.out !== undefined) opts.out = o.out;
  return [x, w2, opts];
}

convHooks.depthwise = (x, w, o) => {
  const c = fromConv(x, w, o ?? {});
  return c ? depthwiseConv2d(c[0], c[1], c[2]) : null;
};
convHooks.depthwiseAsync = (x, w, o) => {
  const c = fromConv(x, w, o ?? {});
  return c ? depthwiseConv2dAsync(c[0], c[1], { ...c[2], signal: o?.signal }) : null;
};

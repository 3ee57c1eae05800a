/**
 * f32 2-D convolution on the GEMM machinery: conv2d, convTranspose2d, packConvWeights, foldBatchNorm and their
 * async forms. NHWC runs an implicit-im2col GEMM over packed weight panels; NCHW is transposed to NHWC and back
 * around it (docs/conv.md says why and what it costs).
 * @module
 */
import { describe, options, ownKey, rangeError, typeError } from '../errors.js';
import { native, NativePackedConv } from '../native.js';
import { NativeConvWeights, type ConvWeightDims } from '../weights.js';
import { checkTensor, Tensor } from '../tensor.js';
import { kernelName } from '../cpu.js';
import { allocF32 } from '../alloc.js';
import { monitorHook } from '../ops/registry.js';
import { checkSignal } from '../ops/registry.js';
import { runNativeAsync } from '../executor/submit.js';
import type { QuantizedTensor } from '../int8/index.js';
import type { Int8Conv2dOptions, PackedInt8ConvWeights } from './int8-weights.js';
import type { ConvLayout, ConvWeightLayout, BatchNormParams, ConvPackOptions, Conv2dOptions, ConvTranspose2dOptions, Conv2dAsyncOptions, ConvTranspose2dAsyncOptions } from './options.js';
import { convActivation } from './activation.js';

// The option and layout types live in ./options.ts (types only), so the int8 conv can name them without importing
// this module's code; they are re-exported here for the importers that always took them from conv2d.
export type { ConvLayout, ConvWeightLayout, Conv2dActivation, ConvPads, BatchNormParams, ConvPackOptions, Conv2dOptions, ConvTranspose2dOptions, Conv2dAsyncOptions, ConvTranspose2dAsyncOptions } from './options.js';

const LAYOUT_CODE: Record<ConvWeightLayout, number> = { oihw: 0, hwio: 1, iohw: 2, hwoi: 3 };

/** Convolution weights packed once into GEMM panels (per group), with an optional (batch-norm folded) bias. */
export class PackedConvWeights extends NativeConvWeights<NativePackedConv> {
  /** Always 'float32'. */
  readonly dtype = 'float32' as const;
  /** Packed for convTranspose2d. */
  readonly transposed: boolean;
  /** @internal */
  constructor(handle: NativePackedConv, dims: ConvWeightDims, transposed: boolean) {
    super('PackedConvWeights', 'packConvWeights()', handle, dims);
    this.transposed = transposed;
  }
}

function posInt(fn: string, arg: string, v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw rangeError(fn, `${arg} must be a positive integer, got ${describe(v)}`);
  return v;
}

function pair(fn: string, arg: string, v: unknown, dflt: number, min = 1): [number, number] {
  if (v === undefined || v === null) return [dflt, dflt];
  const a = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(a) || a.length !== 2) throw rangeError(fn, `${arg} must be a number or [h, w], got ${describe(v)}`);
  for (const x of a)
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min)
      throw rangeError(fn, `${arg} must hold integers >= ${min}, got ${describe(v)}`);
  return [a[0], a[1]];
}

function checkF32(fn: string, arg: string, t: unknown): asserts t is Tensor<'float32'> {
  checkTensor(fn, arg, t);
  if (t.dtype !== 'float32') throw typeError(fn, `${arg}.dtype must be float32, got ${t.dtype}`);
}

/** @internal */
export function checkVec(fn: string, arg: string, t: unknown, n: number): Float32Array {
  checkF32(fn, arg, t);
  if (t.size !== n) throw rangeError(fn, `${arg} has ${t.size} elements ([${t.shape.join(', ')}]), needs ${n}`);
  return t.data as Float32Array;
}

interface WeightDims {
  c: number;
  m: number;
  kh: number;
  kw: number;
}

/** Channel counts and kernel size of a weight tensor in `layout` with `groups`. */
/** @internal */
export function weightDims(fn: string, w: Tensor, layout: ConvWeightLayout, groups: number): WeightDims {
  if (w.ndim !== 4) throw rangeError(fn, `w must be 4-D (${layout}), got shape [${w.shape.join(', ')}]`);
  const s = w.shape;
  let d: WeightDims;
  if (layout === 'oihw') d = { m: s[0], c: s[1] * groups, kh: s[2], kw: s[3] };
  else if (layout === 'hwio') d = { kh: s[0], kw: s[1], c: s[2] * groups, m: s[3] };
  else if (layout === 'iohw') d = { c: s[0], m: s[1] * groups, kh: s[2], kw: s[3] };
  else d = { kh: s[0], kw: s[1], m: s[2] * groups, c: s[3] };
  if (d.c === 0 || d.m === 0 || d.kh === 0 || d.kw === 0) throw rangeError(fn, `w has an empty dimension: shape [${s.join(', ')}] (${layout})`);
  const full = layout === 'oihw' || layout === 'hwio' ? 'm' : 'c';
  if (d[full] % groups !== 0)
    throw rangeError(fn, `groups (${groups}) must divide the ${full === 'm' ? 'output' : 'input'} channels (${d[full]}) of w [${s.join(', ')}] (${layout})`);
  return d;
}

/** @internal */
export function weightLayoutOf(fn: string, v: unknown, transposed: boolean, layout: ConvLayout): ConvWeightLayout {
  if (v === undefined || v === null) return transposed ? (layout === 'nhwc' ? 'hwoi' : 'iohw') : layout === 'nhwc' ? 'hwio' : 'oihw';
  const ok: ConvWeightLayout[] = transposed ? ['iohw', 'hwoi'] : ['oihw', 'hwio'];
  if (typeof v !== 'string' || !ok.includes(v as ConvWeightLayout))
    throw rangeError(fn, `weightLayout must be ${ok.map((x) => `'${x}'`).join(' or ')}${transposed ? ' for a transposed convolution' : ''}, got ${describe(v)}`);
  return v as ConvWeightLayout;
}

function bnScale(fn: string, bn: BatchNormParams, m: number, bias: Float32Array | null): { scale: Float32Array; bias: Float32Array } {
  if (typeof bn !== 'object' || bn === null) throw typeError(fn, `batchNorm must be an object {gamma, beta, mean, variance, epsilon?}, got ${describe(bn)}`);
  const gamma = checkVec(fn, 'batchNorm.gamma', bn.gamma, m);
  const beta = checkVec(fn, 'batchNorm.beta', bn.beta, m);
  const mean = checkVec(fn, 'batchNorm.mean', bn.mean, m);
  const variance = checkVec(fn, 'batchNorm.variance', bn.variance, m);
  const eps = bn.epsilon ?? 1e-5;
  if (typeof eps !== 'number' || !(eps >= 0)) throw rangeError(fn, `batchNorm.epsilon must be a number >= 0, got ${describe(eps)}`);
  const scale = new Float32Array(m);
  const b = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    if (!(variance[i] + eps > 0)) throw rangeError(fn, `batchNorm.variance[${i}] + epsilon must be > 0, got ${variance[i] + eps}`);
    const s = gamma[i] / Math.sqrt(variance[i] + eps);
    scale[i] = s;
    b[i] = ((bias ? bias[i] : 0) - mean[i]) * s + beta[i];
  }
  return { scale, bias: b };
}

/**
 * Packs convolution weights once into the GEMM's panel layout (per group) for repeated {@link conv2d} /
 * {@link convTranspose2d} calls, optionally with a bias and a batch norm folded in.
 */
export function packConvWeights(w: Tensor, opts?: ConvPackOptions): PackedConvWeights;
/** int8 weights (a QuantizedTensor, per output channel): packed for the int8 convolution. */
export function packConvWeights(w: QuantizedTensor, opts?: ConvPackOptions): PackedInt8ConvWeights;
export function packConvWeights(w: Tensor | QuantizedTensor, opts: ConvPackOptions | null = {}): PackedConvWeights | PackedInt8ConvWeights {
  opts = options('packConvWeights', opts); // null / undefined mean no options (the API contract)
  if (convHooks.int8?.matchPack(w)) return convHooks.int8.pack(w, opts) as PackedInt8ConvWeights;
  return packImpl('packConvWeights', w as Tensor, opts, null);
}

function packImpl(fn: string, w: Tensor, opts: ConvPackOptions, layoutHint: ConvLayout | null): PackedConvWeights {
  checkF32(fn, 'w', w);
  opts = options(fn, opts);
  const transposed = !!opts.transposed;
  const groups = posInt(fn, 'groups', opts.groups, 1);
  const wl = weightLayoutOf(fn, opts.weightLayout, transposed, layoutHint ?? 'nchw');
  const d = weightDims(fn, w, wl, groups);
  let bias = opts.bias === undefined || opts.bias === null ? null : checkVec(fn, 'bias', opts.bias, d.m);
  let scale: Float32Array | null = null;
  if (opts.batchNorm !== undefined && opts.batchNorm !== null) {
    const f = bnScale(fn, opts.batchNorm, d.m, bias);
    scale = f.scale;
    bias = f.bias;
  } else if (bias) bias = bias.slice();
  const handle = new native.PackedConvF32(w.data as Float32Array, LAYOUT_CODE[wl], d.c, d.m, d.kh, d.kw, groups, scale);
  return new PackedConvWeights(handle, { c: d.c, m: d.m, kh: d.kh, kw: d.kw, groups, bias }, transposed);
}

/**
 * Folds batch-norm statistics into convolution weights and bias: returns new tensors with
 * w'[o] = w[o]·gamma[o]/√(var[o] + ε) and b' = (b − mean)·gamma/√(var + ε) + beta, for output channel o.
 * (packConvWeights' `batchNorm` option does the same while packing, without the intermediate copy.)
 */
export function foldBatchNorm(
  w: Tensor,
  bias: Tensor | null | undefined,
  bn: BatchNormParams,
  opts: { weightLayout?: ConvWeightLayout; groups?: number } = {},
): { weight: Tensor<'float32'>; bias: Tensor<'float32'> } {
  const fn = 'foldBatchNorm';
  opts = options(fn, opts);
  checkF32(fn, 'w', w);
  const wl = (opts.weightLayout ?? 'oihw') as ConvWeightLayout;
  if (!ownKey(LAYOUT_CODE, wl)) throw rangeError(fn, `weightLayout must be 'oihw', 'hwio', 'iohw' or 'hwoi', got ${describe(opts.weightLayout)}`);
  const groups = posInt(fn, 'groups', opts.groups, 1);
  const d = weightDims(fn, w, wl, groups);
  const b = bias === undefined || bias === null ? null : checkVec(fn, 'bias', bias, d.m);
  const f = bnScale(fn, bn, d.m, b);
  const src = w.data as Float32Array;
  const out = new Float32Array(w.size);
  const s = w.shape;
  // Output channel of each element, per layout (a one-off pass at model load, not a hot path).
  if (wl === 'oihw') {
    const per = s[1] * s[2] * s[3];
    for (let i = 0; i < out.length; i++) out[i] = src[i] * f.scale[Math.floor(i / per)];
  } else if (wl === 'hwio') {
    for (let i = 0; i < out.length; i++) out[i] = src[i] * f.scale[i % d.m];
  } else if (wl === 'iohw') {
    const mg = s[1], cg = d.c / groups, per = s[2] * s[3];
    for (let i = 0; i < out.length; i++) {
      const ci = Math.floor(i / (mg * per)), mo = Math.floor(i / per) % mg;
      out[i] = src[i] * f.scale[Math.floor(ci / cg) * mg + mo];
    }
  } else {
    const mg = s[2], cg = d.c / groups;
    for (let i = 0; i < out.length; i++) {
      const ci = i % d.c, mo = Math.floor(i / d.c) % mg;
      out[i] = src[i] * f.scale[Math.floor(ci / cg) * mg + mo];
    }
  }
  return { weight: new Tensor(out, s.slice(), 'float32', out.length), bias: new Tensor(f.bias, [d.m], 'float32', d.m) };
}

const ACT_CODE: Record<string, number> = { none: 0, relu: 1, gelu: 2, relu6: 3, clip: 3, leakyRelu: 4, sigmoid: 5, hardSigmoid: 6, hardSwish: 7 };

function finiteOr(fn: string, arg: string, v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v)) throw typeError(fn, `${arg} must be a number, got ${describe(v)}`);
  return v;
}

/** @internal The activation code and its two parameters (the kConvAct* codes of the native conv families). */
export function activationParams(fn: string, opts: Conv2dOptions): [number, number, number] {
  const a = opts.activation ?? 'none';
  if (typeof a === 'object' && a !== null) {
    const p = convActivation(fn, a);
    return [p.code, p.a, p.b];
  }
  const code = ownKey(ACT_CODE, a) ? ACT_CODE[a] : undefined;
  if (code === undefined)
    throw typeError(fn, `activation must be one of ${Object.keys(ACT_CODE).map((k) => `'${k}'`).join(', ')}, got ${describe(a)}`);
  if (a === 'relu6') return [code, 0, 6];
  if (a === 'clip') {
    const lo = finiteOr(fn, 'clipMin', opts.clipMin, -Infinity), hi = finiteOr(fn, 'clipMax', opts.clipMax, Infinity);
    if (lo > hi) throw rangeError(fn, `clipMin (${lo}) must be <= clipMax (${hi})`);
    return [code, lo, hi];
  }
  if (a === 'leakyRelu') return [code, finiteOr(fn, 'alpha', opts.alpha, 0.01), 0];
  if (a === 'hardSigmoid') return [code, finiteOr(fn, 'alpha', opts.alpha, 0.2), finiteOr(fn, 'beta', opts.beta, 0.5)];
  return [code, 0, 0];
}

/** @internal A validated conv call: what the sync and the async form pass to native code. */
export interface ConvPlan {
  x: Float32Array;
  packed: PackedConvWeights;
  geom: Int32Array;
  out: Tensor<'float32'>;
  bias: Float32Array | null;
  residual: Float32Array | null;
  act: [number, number, number];
  flops: number;
}

/**
 * Hook for the depthwise kernels (groups = C = M, not transposed): when set and it returns a tensor, conv2d uses
 * it; otherwise the grouped GEMM path runs (correct, slower). Set by the depthwise module.
 * @internal
 */
export const convHooks: {
  depthwise: ((x: Tensor, w: Tensor | PackedConvWeights, opts: Conv2dOptions) => Tensor | null) | null;
  depthwiseAsync: ((x: Tensor, w: Tensor | PackedConvWeights, opts: Conv2dAsyncOptions) => Promise<Tensor> | null) | null;
  /** The int8 family (src/conv/conv2d-int8.ts): quantized x or int8 weights. */
  int8: Int8ConvHook | null;
} = { depthwise: null, depthwiseAsync: null, int8: null };

/** @internal How the int8 module plugs into conv2d / packConvWeights. */
export interface Int8ConvHook {
  match(x: unknown, w: unknown): boolean;
  run(x: unknown, w: unknown, opts: Conv2dOptions): unknown;
  runAsync(x: unknown, w: unknown, opts: Conv2dAsyncOptions): Promise<unknown>;
  matchPack(w: unknown): boolean;
  pack(w: unknown, opts: ConvPackOptions): unknown;
}

/** @internal True when conv2d(x, w, opts) is a depthwise convolution (groups = C = M), the depthwise hook's case. */
export function isDepthwise(x: Tensor, w: Tensor | PackedConvWeights, opts: Conv2dOptions): boolean {
  if (!(x instanceof Tensor) || x.ndim !== 4) return false;
  const c = (opts.layout ?? 'nchw') === 'nhwc' ? x.shape[3] : x.shape[1];
  if (w instanceof PackedConvWeights) return !w.transposed && w.groups === c && w.outChannels === c && c > 1;
  const g = opts.groups ?? 1;
  if (g !== c || c <= 1 || !(w instanceof Tensor) || w.ndim !== 4) return false;
  const wl = opts.weightLayout ?? ((opts.layout ?? 'nchw') === 'nhwc' ? 'hwio' : 'oihw');
  return (wl === 'oihw' ? w.shape[0] : wl === 'hwio' ? w.shape[3] : -1) === c;
}

/** @internal True when two views share bytes. */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** @internal The validated geometry of a call: what native code reads, and the output's shape. */
export interface ConvGeometry {
  geom: Int32Array;
  outShape: number[];
  size: number;
  flops: number;
}

/**
 * @internal Validates x's shape against weights of `wc` input / `m` output channels, kh×kw, `groups`, and the
 * strides / dilations / pads / outputPadding options; x may be any dtype (shared with the int8 path).
 */
export function planGeometry(fn: string, xShape: readonly number[], opts: ConvTranspose2dOptions, wc: number, m: number, kh: number, kw: number, groups: number, transposed: boolean): ConvGeometry {
  const layout = opts.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') throw rangeError(fn, `layout must be 'nchw' or 'nhwc', got ${describe(layout)}`);
  const nhwc = layout === 'nhwc';
  const [n, c, h, wd] = nhwc ? [xShape[0], xShape[3], xShape[1], xShape[2]] : [xShape[0], xShape[1], xShape[2], xShape[3]];
  if (h === 0 || wd === 0 || c === 0) throw rangeError(fn, `x has an empty spatial or channel dimension: shape [${xShape.join(', ')}] (${layout})`);
  if (wc !== c)
    throw rangeError(fn, `x has ${c} channels (x.shape[${nhwc ? 3 : 1}]) but w expects ${wc} (${transposed ? 'input channels' : `w's C/groups · groups (${groups})`})`);
  const [sh, sw] = pair(fn, 'strides', opts.strides, 1);
  const [dh, dw] = pair(fn, 'dilations', opts.dilations, 1);
  const [oph, opw] = transposed ? pair(fn, 'outputPadding', opts.outputPadding, 0, 0) : [0, 0];
  if (transposed && ((oph >= sh && oph >= dh) || (opw >= sw && opw >= dw)))
    throw rangeError(fn, `outputPadding [${oph}, ${opw}] must be smaller than the stride or the dilation in each dimension`);
  const ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
  const p = opts.pads ?? 'valid';
  let pads: [number, number, number, number];
  if (typeof p === 'string') {
    if (!['valid', 'same', 'same_upper', 'same_lower'].includes(p))
      throw rangeError(fn, `pads must be [top, left, bottom, right], a number, 'valid', 'same', 'same_upper' or 'same_lower', got ${describe(p)}`);
    if (p === 'valid') pads = [0, 0, 0, 0];
    else {
      // Output = ceil(in / stride) (direct) or in · stride (transposed); the odd pixel of padding goes at the end
      // for 'same'/'same_upper', at the start for 'same_lower' (ONNX auto_pad, TF 'SAME').
      const tot = (i: number, s: number, ek: number, op: number) =>
        Math.max(0, transposed ? s * (i - 1) + op + ek - i * s : (Math.ceil(i / s) - 1) * s + ek - i);
      const th = tot(h, sh, ekh, oph), tw = tot(wd, sw, ekw, opw);
      const lower = p === 'same_lower';
      const beg = (t: number) => (lower ? Math.ceil(t / 2) : Math.floor(t / 2));
      pads = [beg(th), beg(tw), th - beg(th), tw - beg(tw)];
    }
  } else {
    const a = typeof p === 'number' ? [p, p, p, p] : p;
    if (!Array.isArray(a) || a.length !== 4) throw rangeError(fn, `pads must be [top, left, bottom, right], a number or a mode, got ${describe(p)}`);
    for (const v of a) if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw rangeError(fn, `pads must be non-negative integers, got ${describe(p)}`);
    pads = [a[0], a[1], a[2], a[3]];
  }
  let oh: number, ow: number;
  if (!transposed) {
    if (ekh > h + pads[0] + pads[2] || ekw > wd + pads[1] + pads[3])
      throw rangeError(fn, `kernel ${kh}×${kw} (dilated ${ekh}×${ekw}) is larger than the padded input ${h + pads[0] + pads[2]}×${wd + pads[1] + pads[3]}`);
    oh = Math.floor((h + pads[0] + pads[2] - ekh) / sh) + 1;
    ow = Math.floor((wd + pads[1] + pads[3] - ekw) / sw) + 1;
  } else {
    oh = sh * (h - 1) + oph + ekh - pads[0] - pads[2];
    ow = sw * (wd - 1) + opw + ekw - pads[1] - pads[3];
    if (oh < 1 || ow < 1) throw rangeError(fn, `pads [${pads.join(', ')}] leave an empty output (${oh}×${ow})`);
  }
  const geom = Int32Array.of(n, h, wd, sh, sw, dh, dw, pads[0], pads[1], pads[2], pads[3], transposed ? 1 : 0, oph, opw, nhwc ? 0 : 1);
  return { geom, outShape: nhwc ? [n, oh, ow, m] : [n, m, oh, ow], size: n * oh * ow * m, flops: 2 * n * oh * ow * m * kh * kw * (c / groups) };
}

/** @internal Validates a conv2d / convTranspose2d call (shared by the sync and async forms). */
export function planConv(fn: string, x: Tensor, w: Tensor | PackedConvWeights, opts: ConvTranspose2dOptions, transposed: boolean): ConvPlan {
  opts = options(fn, opts);
  checkF32(fn, 'x', x);
  if (x.ndim !== 4) throw rangeError(fn, `x must be 4-D (${opts.layout ?? 'nchw'}), got shape [${x.shape.join(', ')}]`);
  const layout = opts.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') throw rangeError(fn, `layout must be 'nchw' or 'nhwc', got ${describe(layout)}`);
  let packed: PackedConvWeights;
  if (w instanceof PackedConvWeights) {
    if (w.transposed !== transposed)
      throw typeError(fn, `w was packed for ${w.transposed ? 'convTranspose2d' : 'conv2d'} (packConvWeights transposed: ${w.transposed})`);
    if (opts.groups !== undefined && opts.groups !== w.groups) throw rangeError(fn, `groups (${describe(opts.groups)}) differs from the packed weights' groups (${w.groups})`);
    if (opts.weightLayout !== undefined) weightLayoutOf(fn, opts.weightLayout, transposed, layout);
    packed = w;
  } else {
    checkF32(fn, 'w', w);
    packed = packImpl(fn, w, { weightLayout: weightLayoutOf(fn, opts.weightLayout, transposed, layout), groups: opts.groups, transposed }, layout);
  }
  const { inChannels: wc, outChannels: m, kernelH: kh, kernelW: kw, groups } = packed;
  const { geom, outShape, size, flops } = planGeometry(fn, x.shape, opts, wc, m, kh, kw, groups, transposed);
  let out: Tensor<'float32'>;
  if (opts.out === undefined || opts.out === null) out = new Tensor(allocF32(size), outShape, 'float32', size);
  else {
    checkF32(fn, 'out', opts.out);
    if (opts.out.size !== size || opts.out.ndim !== 4 || opts.out.shape.some((d, i) => d !== outShape[i]))
      throw rangeError(fn, `out has shape [${opts.out.shape.join(', ')}], needs [${outShape.join(', ')}]`);
    out = opts.out;
  }
  let bias: Float32Array | null = null;
  if (opts.bias !== undefined && opts.bias !== null) {
    if (packed.bias) throw rangeError(fn, 'bias was given, but the packed weights already hold one (packConvWeights bias / batchNorm)');
    bias = checkVec(fn, 'bias', opts.bias, m);
  } else bias = packed.bias;
  let residual: Float32Array | null = null;
  if (opts.residual !== undefined && opts.residual !== null) {
    checkF32(fn, 'residual', opts.residual);
    if (opts.residual.size !== size || opts.residual.shape.some((d, i) => d !== outShape[i]))
      throw rangeError(fn, `residual has shape [${opts.residual.shape.join(', ')}], needs the output's [${outShape.join(', ')}]`);
    residual = opts.residual.data as Float32Array;
  }
  // The driver reads x (and the residual, after the tile is stored) while writing out: they must not share memory.
  if (opts.out) {
    if (overlaps(out.data, x.data)) throw rangeError(fn, 'out must not share memory with x (the convolution is not in place)');
    if (residual && overlaps(out.data, residual)) throw rangeError(fn, 'out must not share memory with residual');
  }
  const act = activationParams(fn, opts);
  return { x: x.data as Float32Array, packed, geom, out, bias, residual, act, flops };
}

function runSync(fn: string, op: string, x: Tensor, w: Tensor | PackedConvWeights, opts: ConvTranspose2dOptions, transposed: boolean): Tensor {
  const t0 = monitorHook.on ? performance.now() : 0;
  const p = planConv(fn, x, w, opts, transposed);
  native.conv2d(p.x, p.packed.handle, p.geom, p.out.data, p.bias, p.residual, p.act[0], p.act[1], p.act[2]);
  if (monitorHook.on) monitorHook.record(fn, kernelName(op), t0);
  return p.out;
}

async function runAsync(fn: string, op: string, x: Tensor, w: Tensor | PackedConvWeights, opts: ConvTranspose2dAsyncOptions, transposed: boolean): Promise<Tensor> {
  const signal = checkSignal(fn, opts?.signal);
  const t0 = monitorHook.on ? performance.now() : 0;
  const p = planConv(fn, x, w, opts, transposed);
  const out = await runNativeAsync(
    fn,
    signal,
    (id) => native.conv2dAsync(p.x, p.packed.handle, p.geom, p.out.data, p.bias, p.residual, p.act[0], p.act[1], p.act[2], id),
    p.out,
  );
  if (monitorHook.on) monitorHook.record(fn, kernelName(op), t0);
  return out;
}

/**
 * 2-D convolution y = act(conv(x, w) + bias + residual) over NCHW or NHWC f32 tensors, with any kernel size,
 * stride, dilation, padding and group count. `w` is a weight tensor ('oihw' / 'hwio') or {@link PackedConvWeights}.
 * Output: [N, M, OH, OW] (nchw) or [N, OH, OW, M] (nhwc).
 */
export function conv2d(x: Tensor, w: Tensor | PackedConvWeights, opts?: Conv2dOptions): Tensor;
/** int8: a quantized x × int8 weights (see docs/conv.md): float32, requantized or int32 output. */
export function conv2d(x: QuantizedTensor, w: QuantizedTensor | PackedInt8ConvWeights, opts?: Int8Conv2dOptions): Tensor | QuantizedTensor;
export function conv2d(x: Tensor | QuantizedTensor, w: Tensor | PackedConvWeights | QuantizedTensor | PackedInt8ConvWeights, opts: Conv2dOptions | null = {}): Tensor | QuantizedTensor {
  opts = options('conv2d', opts); // null / undefined mean no options (the API contract)
  if (convHooks.int8?.match(x, w)) return convHooks.int8.run(x, w, opts) as Tensor;
  if (!(x instanceof Tensor) || !(w instanceof Tensor || w instanceof PackedConvWeights)) return runSync('conv2d', 'conv2d.f32', x as Tensor, w as Tensor, opts, false);
  if (convHooks.depthwise && isDepthwise(x, w, opts)) {
    const r = convHooks.depthwise(x, w, opts);
    if (r) return r;
  }
  return runSync('conv2d', 'conv2d.f32', x, w, opts, false);
}

/** The async form of {@link conv2d}, computed on the native pool (same validation, AbortSignal via opts.signal). */
export async function conv2dAsync(x: Tensor, w: Tensor | PackedConvWeights, opts?: Conv2dAsyncOptions): Promise<Tensor>;
/** int8: see {@link conv2d}. */
export async function conv2dAsync(x: QuantizedTensor, w: QuantizedTensor | PackedInt8ConvWeights, opts?: Int8Conv2dOptions & Conv2dAsyncOptions): Promise<Tensor | QuantizedTensor>;
export async function conv2dAsync(x: Tensor | QuantizedTensor, w: Tensor | PackedConvWeights | QuantizedTensor | PackedInt8ConvWeights, opts: Conv2dAsyncOptions | null = {}): Promise<Tensor | QuantizedTensor> {
  opts = options('conv2dAsync', opts);
  if (convHooks.int8?.match(x, w)) return (await convHooks.int8.runAsync(x, w, opts)) as Tensor;
  if (!(x instanceof Tensor) || !(w instanceof Tensor || w instanceof PackedConvWeights)) return runAsync('conv2dAsync', 'conv2d.f32', x as Tensor, w as Tensor, opts, false);
  if (convHooks.depthwiseAsync && isDepthwise(x, w, opts)) {
    const r = convHooks.depthwiseAsync(x, w, opts);
    if (r) return r;
  }
  return runAsync('conv2dAsync', 'conv2d.f32', x, w, opts, false);
}

/**
 * Transposed 2-D convolution (deconvolution) with ONNX ConvTranspose semantics: output size
 * stride·(in − 1) + outputPadding + dilation·(k − 1) + 1 − padBegin − padEnd. `w` is 'iohw' [C, M/groups, kH, kW]
 * (ONNX, PyTorch), 'hwoi' [kH, kW, M/groups, C] (TF.js conv2dTranspose) or weights packed with `transposed: true`.
 */
export function convTranspose2d(x: Tensor, w: Tensor | PackedConvWeights, opts: ConvTranspose2dOptions | null = {}): Tensor {
  return runSync('convTranspose2d', 'convTranspose2d.f32', x, w, options('convTranspose2d', opts), true);
}

/** The async form of {@link convTranspose2d}. */
export async function convTranspose2dAsync(x: Tensor, w: Tensor | PackedConvWeights, opts: ConvTranspose2dAsyncOptions | null = {}): Promise<Tensor> {
  return runAsync('convTranspose2dAsync', 'convTranspose2d.f32', x, w, options('convTranspose2dAsync', opts), true);
}

/**
 * Max and average pooling (pads, strides, dilations, ceil mode, count_include_pad) and global average/max pooling,
 * NCHW or NHWC.
 * @module
 */
import { describe, options, rangeError, typeError } from '../errors.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { checkSignal } from '../ops/registry.js';
import type { AsyncOptions } from '../ops/registry.js';
import { checkWindowsHitInput, f32Tensor, ImageLayout, imageDims, imageOut, imageShape, Pads, parseLayout, parsePair, window2d, timedRun, timedRunAsync } from './window.js';

/** Options of {@link maxPool2d} and {@link avgPool2d}. */
export interface Pool2dOptions {
  /** Window size [kH, kW] or one number (required). */
  kernelSize: number | [number, number];
  /** Strides [h, w] or one number (default 1, as ONNX; PyTorch's default is the kernel size). */
  strides?: number | [number, number];
  /** Dilations [h, w] or one number (default 1). */
  dilations?: number | [number, number];
  /** Padding (default 'valid'); max pads with −∞, average pads are skipped or counted (countIncludePad). */
  pads?: Pads;
  /** Output size rounded up instead of down (default false); a last window starting in the end padding is dropped. */
  ceilMode?: boolean;
  /** Average only: divide by the window's taps inside the padded input instead of inside the input (default false). */
  countIncludePad?: boolean;
  /** Layout of x and the output (default 'nchw'). */
  layout?: ImageLayout;
  /** Preallocated output (float32, exact shape; must not overlap x). */
  out?: Tensor;
}

/** Options of {@link globalAvgPool} and {@link globalMaxPool}. */
export interface GlobalPoolOptions {
  /** Layout of x (default 'nchw'); the output is [N, C, 1, 1] or [N, 1, 1, C]. */
  layout?: ImageLayout;
  /** Preallocated output (float32, exact shape; must not overlap x). */
  out?: Tensor;
}

const MAX = 0, AVG = 1;

function bool(fn: string, name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw typeError(fn, `${name} must be a boolean, got ${describe(v)}`);
  return v;
}

/**
 * Validates a pooling call once: the input, the output and the native geometry (kind 0 max, 1 average). Exported
 * for callers that repeat the same call on the same buffers (the ONNX runner keeps the result per node).
 */
export function plan(fn: string, kind: number, x: unknown, opts: Pool2dOptions) {
  if (opts === null || typeof opts !== 'object') throw typeError(fn, `opts must be an object with kernelSize, got ${describe(opts)}`);
  const X = f32Tensor(fn, 'x', x);
  const nhwc = parseLayout(fn, opts.layout);
  const d = imageDims(fn, 'x', X, nhwc);
  if (opts.kernelSize === undefined) throw typeError(fn, 'opts.kernelSize is required');
  const [kh, kw] = parsePair(fn, 'kernelSize', opts.kernelSize);
  const strides = parsePair(fn, 'strides', opts.strides, 1);
  const dilations = parsePair(fn, 'dilations', opts.dilations, 1);
  const ceil = bool(fn, 'ceilMode', opts.ceilMode);
  const cip = bool(fn, 'countIncludePad', opts.countIncludePad);
  if (cip && kind === MAX) throw typeError(fn, 'countIncludePad applies to average pooling only');
  if (d.h === 0 || d.w === 0) throw rangeError(fn, `x has an empty image (${d.h}×${d.w})`);
  const g = window2d(fn, d.h, d.w, kh, kw, strides, dilations, opts.pads, ceil);
  checkWindowsHitInput(fn, g, d.h, d.w);
  const out = imageOut(fn, opts.out, imageShape(nhwc, d.n, d.c, g.oh, g.ow), X);
  const params = Int32Array.of(kind, +nhwc, d.n, d.c, d.h, d.w, g.oh, g.ow, kh, kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.pb, g.pr, +cip);
  return { x: X, out, params };
}

function pool(fn: string, op: string, kind: number, x: Tensor, opts: Pool2dOptions): Tensor {
  const p = plan(fn, kind, x, opts);
  return timedRun(fn, op, () => native.pool2d(p.x.data, p.out.data, p.params), p.out);
}
async function poolAsync(fn: string, op: string, kind: number, x: Tensor, opts: Pool2dOptions & AsyncOptions): Promise<Tensor> {
  const p = plan(fn, kind, x, opts);
  const signal = checkSignal(fn, opts.signal);
  return timedRunAsync(fn, op, signal, (id) => native.pool2dAsync(p.x.data, p.out.data, p.params, id), p.out);
}

/**
 * Max pooling over kH×kW windows (NaN propagates). Output [N, C, OH, OW] ('nchw') or [N, OH, OW, C] ('nhwc').
 * @throws TypeError/RangeError naming the bad argument; RangeError when a window would hold no input element.
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return pool('maxPool2d', 'maxPool2d', MAX, x, opts);
}
/** Average pooling over kH×kW windows; the divisor follows `countIncludePad`. Shapes as {@link maxPool2d}. */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return pool('avgPool2d', 'avgPool2d', AVG, x, opts);
}
/** The async form of {@link maxPool2d} (on simdtensor's threads; see depthwiseConv2dAsync for the guarantees). */
export function maxPool2dAsync(x: Tensor, opts: Pool2dOptions & AsyncOptions): Promise<Tensor> {
  return poolAsync('maxPool2dAsync', 'maxPool2d', MAX, x, opts);
}
/** The async form of {@link avgPool2d}. */
export function avgPool2dAsync(x: Tensor, opts: Pool2dOptions & AsyncOptions): Promise<Tensor> {
  return poolAsync('avgPool2dAsync', 'avgPool2d', AVG, x, opts);
}

function planGlobal(fn: string, kind: number, x: unknown, opts: GlobalPoolOptions | null) {
  opts = options(fn, opts); // null / undefined mean no options (the API contract)
  const X = f32Tensor(fn, 'x', x);
  const nhwc = parseLayout(fn, opts.layout);
  const d = imageDims(fn, 'x', X, nhwc);
  if (d.h * d.w === 0) throw rangeError(fn, `x has an empty image (${d.h}×${d.w}): nothing to pool`);
  const out = imageOut(fn, opts.out, imageShape(nhwc, d.n, d.c, 1, 1), X);
  return { x: X, out, params: Int32Array.of(kind, +nhwc, d.n, d.c, d.h * d.w) };
}
function globalPool(fn: string, kind: number, x: Tensor, opts: GlobalPoolOptions | null): Tensor {
  const p = planGlobal(fn, kind, x, opts);
  return timedRun(fn, fn, () => native.globalPool(p.x.data, p.out.data, p.params), p.out);
}
async function globalPoolAsync(fn: string, op: string, kind: number, x: Tensor, opts: (GlobalPoolOptions & AsyncOptions) | null): Promise<Tensor> {
  opts = options(fn, opts);
  const p = planGlobal(fn, kind, x, opts);
  const signal = checkSignal(fn, opts.signal);
  return timedRunAsync(fn, op, signal, (id) => native.globalPoolAsync(p.x.data, p.out.data, p.params, id), p.out);
}

/** Mean over H×W of every channel: [N, C, 1, 1] ('nchw') or [N, 1, 1, C] ('nhwc'). */
export function globalAvgPool(x: Tensor, opts: GlobalPoolOptions | null = {}): Tensor {
  return globalPool('globalAvgPool', AVG, x, opts);
}
/** Maximum over H×W of every channel (NaN propagates); shapes as {@link globalAvgPool}. */
export function globalMaxPool(x: Tensor, opts: GlobalPoolOptions | null = {}): Tensor {
  return globalPool('globalMaxPool', MAX, x, opts);
}
/** The async form of {@link globalAvgPool}. */
export function globalAvgPoolAsync(x: Tensor, opts: (GlobalPoolOptions & AsyncOptions) | null = {}): Promise<Tensor> {
  return globalPoolAsync('globalAvgPoolAsync', 'globalAvgPool', AVG, x, opts);
}
/** The async form of {@link globalMaxPool}. */
export function globalMaxPoolAsync(x: Tensor, opts: (GlobalPoolOptions & AsyncOptions) | null = {}): Promise<Tensor> {
  return globalPoolAsync('globalMaxPoolAsync', 'globalMaxPool', MAX, x, opts);
}

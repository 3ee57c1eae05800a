/**
 * 2-D resize of image tensors: nearest and bilinear, with the ONNX Resize coordinate transformation and nearest
 * modes (which also cover TF.js resizeBilinear/resizeNearestNeighbor), NCHW or NHWC.
 * @module
 */
import { describe, rangeError, typeError } from '../errors.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { checkSignal } from '../ops/registry.js';
import type { AsyncOptions } from '../ops/registry.js';
import { f32Tensor, ImageLayout, imageDims, imageOut, imageShape, parseLayout, timedRun, timedRunAsync } from './window.js';

/** ONNX coordinate_transformation_mode values supported. */
export type CoordinateTransformationMode = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_half_pixel_for_nn';
/** ONNX nearest_mode values. */
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

/**
 * Options of {@link resize}. Give exactly one of `sizes` and `scales`. TF.js equivalents: resizeBilinear's
 * alignCorners → 'align_corners', halfPixelCenters → 'half_pixel', neither → 'asymmetric'; resizeNearestNeighbor's
 * alignCorners → 'align_corners' + 'round_prefer_ceil', halfPixelCenters → 'tf_half_pixel_for_nn' + 'floor',
 * neither → 'asymmetric' + 'floor'.
 */
export interface ResizeOptions {
  /** Output [H, W], or the 4 output dims in x's layout (N and C must be unchanged). */
  sizes?: readonly number[];
  /** Scales [h, w], or 4 scales in x's layout (N and C scales must be 1). Output = floor(input · scale). */
  scales?: readonly number[];
  /** 'nearest' (default, as ONNX) or 'bilinear' (alias 'linear'). */
  mode?: 'nearest' | 'bilinear' | 'linear';
  /** How an output coordinate maps to an input coordinate (default 'half_pixel', as ONNX). */
  coordinateTransformationMode?: CoordinateTransformationMode;
  /** Nearest only: how a fractional input coordinate becomes an index (default 'round_prefer_floor', as ONNX). */
  nearestMode?: NearestMode;
  /** Layout of x and the output (default 'nchw'). */
  layout?: ImageLayout;
  /** Preallocated output (float32, exact shape; must not overlap x). */
  out?: Tensor;
}

const COORD: Record<CoordinateTransformationMode, number> = { half_pixel: 0, pytorch_half_pixel: 1, align_corners: 2, asymmetric: 3, tf_half_pixel_for_nn: 4 };
const NEAREST: Record<NearestMode, number> = { round_prefer_floor: 0, round_prefer_ceil: 1, floor: 2, ceil: 3 };

function pick<T extends string>(fn: string, name: string, v: unknown, table: Record<T, number>, dflt: T): number {
  if (v === undefined) return table[dflt];
  if (typeof v === 'string' && Object.prototype.hasOwnProperty.call(table, v)) return table[v as T];
  throw typeError(fn, `${name} must be one of ${Object.keys(table).map((k) => `'${k}'`).join(', ')}, got ${describe(v)}`);
}

function plan(fn: string, x: unknown, opts: ResizeOptions) {
  if (opts === null || typeof opts !== 'object') throw typeError(fn, `opts must be an object with sizes or scales, got ${describe(opts)}`);
  const X = f32Tensor(fn, 'x', x);
  const nhwc = parseLayout(fn, opts.layout);
  const d = imageDims(fn, 'x', X, nhwc);
  if ((opts.sizes === undefined) === (opts.scales === undefined)) throw typeError(fn, 'give exactly one of opts.sizes and opts.scales');
  const mode = opts.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'bilinear' && mode !== 'linear') throw typeError(fn, `mode must be 'nearest', 'bilinear' or 'linear', got ${describe(mode)}`);
  const coord = pick(fn, 'coordinateTransformationMode', opts.coordinateTransformationMode, COORD, 'half_pixel');
  const nearest = pick(fn, 'nearestMode', opts.nearestMode, NEAREST, 'round_prefer_floor');
  if (d.h === 0 || d.w === 0) throw rangeError(fn, `x has an empty image (${d.h}×${d.w})`);
  // The spatial pair of a 2- or 4-element list (4: in x's layout; N and C must be `keep`).
  const spatial = (name: string, v: unknown, keep: [number, number]): [number, number] => {
    if (!Array.isArray(v) || (v.length !== 2 && v.length !== 4)) throw typeError(fn, `${name} must be an array of 2 ([h, w]) or 4 numbers, got ${describe(v)}`);
    if (v.length === 2) return [v[0], v[1]];
    const [n, c, h, w] = nhwc ? [v[0], v[3], v[1], v[2]] : v;
    if (n !== keep[0] || c !== keep[1]) throw rangeError(fn, `${name} may only resize H and W; got ${describe(v)} for x of shape [${X.shape.join(', ')}]`);
    return [h, w];
  };
  let oh: number, ow: number, sh: number, sw: number;
  if (opts.sizes !== undefined) {
    [oh, ow] = spatial('sizes', opts.sizes, [d.n, d.c]);
    for (const [i, s] of [oh, ow].entries())
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 1 || s > 0x7fffffff) throw rangeError(fn, `sizes (output ${i ? 'width' : 'height'}) must be a positive integer, got ${describe(s)}`);
    sh = Math.fround(oh / d.h); // native maps coordinates by the exact ratio instead (see coords.cc)
    sw = Math.fround(ow / d.w);
  } else {
    [sh, sw] = spatial('scales', opts.scales, [1, 1]);
    for (const [i, s] of [sh, sw].entries())
      if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) throw rangeError(fn, `scales (${i ? 'width' : 'height'}) must be a positive finite number, got ${describe(s)}`);
    sh = Math.fround(sh);
    sw = Math.fround(sw);
    oh = Math.floor(Math.fround(sh * d.h));
    ow = Math.floor(Math.fround(sw * d.w));
    if (oh < 1 || ow < 1 || oh > 0x7fffffff || ow > 0x7fffffff) throw rangeError(fn, `scales [${sh}, ${sw}] give an output of ${oh}×${ow}`);
  }
  const out = imageOut(fn, opts.out, imageShape(nhwc, d.n, d.c, oh, ow), X);
  const linear = mode !== 'nearest' ? 1 : 0;
  return { x: X, out, params: Int32Array.of(linear, coord, nearest, +nhwc, d.n, d.c, d.h, d.w, oh, ow, +(opts.sizes !== undefined)), sh, sw };
}

/**
 * Resizes the H and W axes of a 4-D image tensor by `sizes` or `scales` with nearest or bilinear sampling, in the
 * ONNX Resize semantics (opset 13+ without antialias or tf_crop_and_resize; bilinear clamps at the borders).
 * @throws TypeError/RangeError naming the bad argument.
 */
export function resize(x: Tensor, opts: ResizeOptions): Tensor {
  const fn = 'resize';
  const p = plan(fn, x, opts);
  return timedRun(fn, fn, () => native.resize(p.x.data, p.out.data, p.params, p.sh, p.sw), p.out);
}

/** The async form of {@link resize} (on simdtensor's threads; see depthwiseConv2dAsync for the guarantees). */
export async function resizeAsync(x: Tensor, opts: ResizeOptions & AsyncOptions): Promise<Tensor> {
  const fn = 'resizeAsync';
  const p = plan(fn, x, opts);
  const signal = checkSignal(fn, opts.signal);
  return timedRunAsync(fn, 'resize', signal, (id) => native.resizeAsync(p.x.data, p.out.data, p.params, p.sh, p.sw, id), p.out);
}

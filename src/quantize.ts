/**
 * int8 quantization: {@link quantize} / {@link dequantize} (per tensor or per channel, symmetric or asymmetric,
 * calibrated by min/max, percentile or MSE), a {@link Calibrator} that accumulates statistics over batches,
 * dynamic per-row quantization of activations ({@link quantizeDynamic}), prepacked int8 weights, and the int8
 * GEMM behind `matmul` (integer tensors → exact int32) and `linear` (a {@link QuantizedTensor} or its packed
 * handle as the weight: float32 activations are quantized per row on the fly, the result is float32).
 * {@link compareOutputs} gives the numbers to check before shipping a quantized model.
 *
 * One rounding rule everywhere (every ISA, bit for bit): `q = clamp(roundHalfEven(x · (1/scale)) + zeroPoint)`,
 * NaN → zeroPoint; `x = (q − zeroPoint) · scale`. See docs/int8.md.
 *
 * Importing the package registers the int8 paths with the matmul/linear/packWeights registry.
 * @module
 */
import { checkHandle, describe, rangeError, typeError, options } from './errors.js';
import { native, NativePackedS8 } from './native.js';
import { allocOrThrow, checkOutputSize, checkOverlap, checkPackDims, checkTensor, Tensor } from './tensor.js';
import { allocArray } from './alloc.js';
import { activationCode, checkOutShape } from './ops/gemm-args.js';
import { GemmOptions, monitorHook, registerLinear, registerMatmul, registerPack } from './ops/registry.js';
import { kernelName } from './cpu.js';
import { AsyncGemmOptions, checkSignal, registerAsyncLinear, registerAsyncMatmul } from './ops/registry.js';
import { runNativeAsync } from './executor/submit.js';

/** Storage type of quantized values. */
export type QuantDType = 'int8' | 'uint8';
/**
 * 'symmetric': zero point at the middle (0 for int8, 128 for uint8), range [-amax, amax], restricted to
 * [-127, 127] (int8) / [1, 255] (uint8) so negation is exact. 'asymmetric': [min, max] (widened to include 0)
 * mapped onto the full [-128, 127] / [0, 255] with a zero point.
 */
export type QuantScheme = 'symmetric' | 'asymmetric';
/** How the range is chosen from the data: extremes, a percentile of the values, or the least-squares clip. */
export type CalibrationMethod = 'minmax' | 'percentile' | 'mse';

const isQDType = (d: unknown): d is QuantDType => d === 'int8' || d === 'uint8';

function qrange(dtype: QuantDType, scheme: QuantScheme): [number, number] {
  if (scheme === 'symmetric') return dtype === 'int8' ? [-127, 127] : [1, 255];
  return dtype === 'int8' ? [-128, 127] : [0, 255];
}

function normAxis(fn: string, axis: unknown, ndim: number): number | null {
  if (axis === undefined || axis === null) return null;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -ndim || axis >= ndim)
    throw rangeError(fn, `axis must be an integer in [${-ndim}, ${ndim - 1}] for a ${ndim}-D tensor, got ${describe(axis)}`);
  return axis < 0 ? axis + ndim : axis;
}

/** [outer, channels, inner] view of a shape around `axis` (channels = 1 when per tensor). */
function splitShape(shape: readonly number[], axis: number | null): [number, number, number] {
  if (axis === null) return [1, 1, shape.reduce((a, b) => a * b, 1)];
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return [outer, shape[axis], inner];
}

/**
 * A quantized tensor: integer `data` with the scale(s) and zero point(s) that map it back to real values,
 * `x = (q − zeroPoint) · scale`. Per tensor (`axis === null`, one scale) or per channel along `axis`
 * (`scale.length === data.shape[axis]`, e.g. per output row of a Linear weight with axis 0).
 */
export class QuantizedTensor {
  /** The quantized values (an int8 or uint8 tensor). */
  readonly data: Tensor<'int8'> | Tensor<'uint8'>;
  /** Scales: one per tensor, or one per index along `axis`. Positive and finite. */
  readonly scale: Float32Array;
  /** Zero points, same length as `scale`, within the dtype's range. */
  readonly zeroPoint: Int32Array;
  /** The channel axis of per-channel parameters, or null when per tensor. */
  readonly axis: number | null;
  /** The scheme the parameters were chosen with (informational; both kinds run the same kernels). */
  readonly scheme: QuantScheme;

  /**
   * Wraps existing quantized values and parameters (validated; nothing is copied). Usually made by
   * {@link quantize} or {@link quantizeDynamic}.
   */
  constructor(
    data: Tensor,
    scale: Float32Array | number | ArrayLike<number>,
    zeroPoint: Int32Array | number | ArrayLike<number> = 0,
    axis: number | null = null,
    scheme: QuantScheme = 'asymmetric',
  ) {
    const fn = 'QuantizedTensor';
    checkTensor(fn, 'data', data);
    if (!isQDType(data.dtype)) throw typeError(fn, `data.dtype must be int8 or uint8, got ${data.dtype}`);
    if (scheme !== 'symmetric' && scheme !== 'asymmetric')
      throw typeError(fn, `scheme must be 'symmetric' or 'asymmetric', got ${describe(scheme)}`);
    const ax = normAxis(fn, axis, data.ndim);
    const count = ax === null ? 1 : data.shape[ax];
    const s = typeof scale === 'number' ? Float32Array.of(scale) : scale instanceof Float32Array ? scale : Float32Array.from(scale);
    const z = typeof zeroPoint === 'number' ? Int32Array.of(zeroPoint) : zeroPoint instanceof Int32Array ? zeroPoint : Int32Array.from(zeroPoint);
    const where = ax === null ? 'per tensor' : `data.shape[${ax}] (axis ${ax})`;
    if (s.length !== count) throw rangeError(fn, `scale has ${s.length} values, needs ${count} (${where})`);
    if (z.length !== count) throw rangeError(fn, `zeroPoint has ${z.length} values, needs ${count} (${where})`);
    const [lo, hi] = data.dtype === 'int8' ? [-128, 127] : [0, 255];
    for (let i = 0; i < count; i++) {
      if (!(s[i] > 0) || !Number.isFinite(s[i])) throw rangeError(fn, `scale[${i}] must be positive and finite, got ${s[i]}`);
      if (!Number.isInteger(z[i]) || z[i] < lo || z[i] > hi)
        throw rangeError(fn, `zeroPoint[${i}] (${z[i]}) is outside the ${data.dtype} range [${lo}, ${hi}]`);
    }
    this.data = data as Tensor<'int8'> | Tensor<'uint8'>;
    this.scale = s;
    this.zeroPoint = z;
    this.axis = ax;
    this.scheme = scheme;
  }
  /** 'int8' or 'uint8'. */
  get dtype(): QuantDType {
    return this.data.dtype as QuantDType;
  }
  /** Shape of the quantized values. */
  get shape(): readonly number[] {
    return this.data.shape;
  }
  /** Number of elements. */
  get size(): number {
    return this.data.size;
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.data.ndim;
  }
  /** `QuantizedTensor(int8, [64, 128], axis 0)`. */
  toString(): string {
    return `QuantizedTensor(${this.dtype}, [${this.shape.join(', ')}], ${this.axis === null ? 'per tensor' : `axis ${this.axis}`})`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Calibration

/** Options of {@link Calibrator}. */
export interface CalibratorOptions {
  /** 'minmax' (default), 'percentile' or 'mse'. */
  method?: CalibrationMethod;
  /** For 'percentile': the percentile kept, in (50, 100]; default 99.99 (each tail loses 0.01 %). */
  percentile?: number;
  /** Histogram bins for 'percentile' / 'mse' (even, 16..65536); default 2048 per tensor, 256 per channel. */
  bins?: number;
  /** Per-channel statistics along this axis (null: per tensor). */
  axis?: number | null;
}

interface ChannelHist {
  r: number; // histogram covers [-r, r]
  counts: Float64Array;
}

/**
 * Accumulates statistics over several batches (`observe`) and turns them into quantization parameters
 * (`params`) or a range (`range`). 'minmax' keeps running extremes; 'percentile' and 'mse' keep a histogram
 * whose symmetric range doubles (with exact re-binning) when a batch exceeds it. Per-channel histograms need
 * each channel to be contiguous in the observed tensors (axis 0, or leading dimensions of size 1).
 */
export class Calibrator {
  /** The method given (or 'minmax'). */
  readonly method: CalibrationMethod;
  /** The percentile kept by 'percentile'. */
  readonly percentile: number;
  /** The channel axis, or null. */
  readonly axis: number | null;
  private readonly binsOpt: number | undefined;
  private mins: Float32Array | null = null;
  private maxs: Float32Array | null = null;
  private hists: ChannelHist[] = [];
  private shapeSeen: readonly number[] | null = null;
  private batches = 0;

  constructor(opts: CalibratorOptions | null = {}) {
    opts = options('Calibrator', opts);
    const fn = 'Calibrator';
    if (opts === null || typeof opts !== 'object') throw typeError(fn, `opts must be an object, got ${describe(opts)}`);
    const method = opts.method ?? 'minmax';
    if (method !== 'minmax' && method !== 'percentile' && method !== 'mse')
      throw typeError(fn, `method must be 'minmax', 'percentile' or 'mse', got ${describe(method)}`);
    const p = opts.percentile ?? 99.99;
    if (typeof p !== 'number' || !(p > 50 && p <= 100)) throw rangeError(fn, `percentile must be in (50, 100], got ${describe(p)}`);
    if (opts.bins !== undefined && (typeof opts.bins !== 'number' || !Number.isInteger(opts.bins) || opts.bins < 16 || opts.bins > 65536 || opts.bins % 2 !== 0))
      throw rangeError(fn, `bins must be an even integer in [16, 65536], got ${describe(opts.bins)}`);
    if (opts.axis !== undefined && opts.axis !== null && (typeof opts.axis !== 'number' || !Number.isInteger(opts.axis)))
      throw typeError(fn, `axis must be an integer or null, got ${describe(opts.axis)}`);
    this.method = method;
    this.percentile = p;
    this.axis = opts.axis ?? null;
    this.binsOpt = opts.bins;
  }

  /** Batches observed so far. */
  get count(): number {
    return this.batches;
  }

  /** Adds a float32 batch's statistics. Rejects NaN and ±Infinity (no finite range could cover them). */
  observe(t: Tensor): this {
    return this.observeAs('Calibrator.observe', t);
  }

  /** @internal observe() reporting errors under another function's name. */
  observeAs(fn: string, t: Tensor): this {
    checkTensor(fn, 't', t);
    if (t.dtype !== 'float32') throw typeError(fn, `t.dtype must be float32, got ${t.dtype}`);
    const axis = normAxis(fn, this.axis, t.ndim);
    if (this.shapeSeen && axis !== null && t.shape[axis] !== this.shapeSeen[axis])
      throw rangeError(fn, `t.shape[${axis}] (${t.shape[axis]}) differs from earlier batches (${this.shapeSeen[axis]})`);
    const [outer, channels, inner] = splitShape(t.shape, axis);
    if (this.method !== 'minmax' && channels > 1 && outer > 1)
      throw rangeError(fn, `method '${this.method}' per channel needs contiguous channels (axis 0 or leading dimensions of size 1); t has shape [${t.shape.join(', ')}] with axis ${axis}`);
    const mins = new Float32Array(channels), maxs = new Float32Array(channels);
    const x = t.data as Float32Array;
    const nan = native.quantMinMax(x, outer, channels, inner, mins, maxs);
    if (nan) throw rangeError(fn, 't contains NaN; a calibration range must be finite');
    if (t.size > 0)
      for (let c = 0; c < channels; c++)
        if (!Number.isFinite(mins[c]) || !Number.isFinite(maxs[c]))
          throw rangeError(fn, `t contains ±Infinity${channels > 1 ? ` (channel ${c})` : ''}; a calibration range must be finite`);
    if (!this.mins || !this.maxs) {
      this.mins = mins;
      this.maxs = maxs;
    } else {
      for (let c = 0; c < channels; c++) {
        this.mins[c] = Math.min(this.mins[c], mins[c]);
        this.maxs[c] = Math.max(this.maxs[c], maxs[c]);
      }
    }
    if (this.method !== 'minmax') {
      const bins = this.binsOpt ?? (channels > 1 ? 256 : 2048);
      for (let c = 0; c < channels; c++) {
        if (!this.hists[c]) this.hists[c] = { r: 0, counts: new Float64Array(bins) };
        const h = this.hists[c];
        const amax = Math.max(Math.abs(mins[c]), Math.abs(maxs[c]), 0);
        if (inner === 0 || !(amax >= 0) || mins[c] > maxs[c]) continue;
        growHistogram(h, amax);
        native.quantHistogram(x.subarray(c * inner, (c + 1) * inner), inner, -h.r, h.r, h.counts);
      }
    }
    this.shapeSeen = t.shape.slice();
    this.batches++;
    return this;
  }

  /**
   * The calibrated range per channel (length 1 when per tensor). `symmetric` makes 'percentile' / 'mse' choose
   * one threshold for |x|; asymmetric ranges clip each tail.
   */
  range(opts: { symmetric?: boolean; dtype?: QuantDType } = {}): { min: Float32Array; max: Float32Array } {
    const fn = 'Calibrator.range';
    if (!this.mins || !this.maxs) throw rangeError(fn, 'no batch observed yet (call observe(t) first)');
    const n = this.mins.length;
    const min = new Float32Array(n), max = new Float32Array(n);
    const symmetric = !!opts.symmetric;
    const dtype = opts.dtype ?? 'int8';
    for (let c = 0; c < n; c++) {
      let lo = this.mins[c], hi = this.maxs[c];
      if (lo > hi) lo = hi = 0; // nothing observed in this channel
      if (this.method !== 'minmax' && this.hists[c] && this.hists[c].r > 0) {
        const h = this.hists[c];
        [lo, hi] = this.method === 'percentile'
          ? percentileRange(h, this.percentile, symmetric, lo, hi)
          : mseRange(h, symmetric, lo, hi, dtype);
      }
      min[c] = lo;
      max[c] = hi;
    }
    return { min, max };
  }

  /** Scale and zero point per channel for `dtype` / `scheme` (defaults as in {@link quantize}). */
  params(opts: { dtype?: QuantDType; scheme?: QuantScheme } = {}): { scale: Float32Array; zeroPoint: Int32Array } {
    const fn = 'Calibrator.params';
    const dtype = opts.dtype ?? 'int8';
    if (!isQDType(dtype)) throw typeError(fn, `dtype must be 'int8' or 'uint8', got ${describe(dtype)}`);
    const scheme = opts.scheme ?? (dtype === 'int8' ? 'symmetric' : 'asymmetric');
    if (scheme !== 'symmetric' && scheme !== 'asymmetric') throw typeError(fn, `scheme must be 'symmetric' or 'asymmetric', got ${describe(scheme)}`);
    const { min, max } = this.range({ symmetric: scheme === 'symmetric', dtype });
    const scale = new Float32Array(min.length), zeroPoint = new Int32Array(min.length);
    native.quantParams(min, max, min.length, dtype === 'uint8', scheme === 'symmetric', scale, zeroPoint);
    return { scale, zeroPoint };
  }
}

/** Doubles a histogram's symmetric range until it covers amax, merging bins pairwise (exact). */
function growHistogram(h: ChannelHist, amax: number): void {
  const B = h.counts.length;
  if (h.r === 0) h.r = amax > 0 ? amax : 1e-30; // first batch (an all-zero one sits in the middle bin at any range)
  while (h.r < amax) {
    const next = new Float64Array(B);
    for (let i = 0; i < B; i++) next[(B / 2 + i) >> 1] += h.counts[i];
    h.counts = next;
    h.r *= 2;
  }
}

function histTotal(h: ChannelHist): number {
  let s = 0;
  for (let i = 0; i < h.counts.length; i++) s += h.counts[i];
  return s;
}

/** The value below which `frac` of the histogram's mass lies (linear inside the bin). */
function quantileOf(counts: Float64Array, lo: number, width: number, frac: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const target = frac * total;
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    if (acc + counts[i] >= target && counts[i] > 0) return lo + (i + (target - acc) / counts[i]) * width;
    acc += counts[i];
  }
  return lo + counts.length * width;
}

function percentileRange(h: ChannelHist, p: number, symmetric: boolean, mn: number, mx: number): [number, number] {
  const B = h.counts.length;
  const w = (2 * h.r) / B;
  if (symmetric) {
    // |x| histogram: fold the two halves around 0.
    const folded = new Float64Array(B / 2);
    for (let i = 0; i < B / 2; i++) folded[i] = h.counts[B / 2 + i] + h.counts[B / 2 - 1 - i];
    const a = Math.min(quantileOf(folded, 0, w, p / 100), Math.max(Math.abs(mn), Math.abs(mx)));
    return [-a, a];
  }
  const tail = (100 - p) / 100;
  const lo = Math.max(quantileOf(h.counts, -h.r, w, tail), mn);
  const hi = Math.min(quantileOf(h.counts, -h.r, w, 1 - tail), mx);
  return lo <= hi ? [lo, hi] : [mn, mx];
}

/** Clip range minimizing the expected squared quantization error over the histogram (bin centres). */
function mseRange(h: ChannelHist, symmetric: boolean, mn: number, mx: number, dtype: QuantDType): [number, number] {
  const B = h.counts.length;
  const w = (2 * h.r) / B;
  const [qmin, qmax] = qrange(dtype, symmetric ? 'symmetric' : 'asymmetric');
  const lo0 = Math.min(mn, 0), hi0 = Math.max(mx, 0);
  const amax = Math.max(Math.abs(mn), Math.abs(mx));
  if (!(hi0 > lo0)) return [mn, mx];
  const steps = B > 512 ? 100 : 50;
  let best = Infinity, bestLo = lo0, bestHi = hi0;
  for (let s = steps; s >= 1; s--) {
    const f = s / steps;
    const lo = symmetric ? -amax * f : lo0 * f;
    const hi = symmetric ? amax * f : hi0 * f;
    const scale = symmetric ? (amax * f) / 127 : (hi - lo) / (qmax - qmin);
    if (!(scale > 0)) continue;
    const z = symmetric ? (dtype === 'int8' ? 0 : 128) : Math.min(qmax, Math.max(qmin, qmin - Math.round(lo / scale)));
    let err = 0;
    for (let i = 0; i < B; i++) {
      const c = h.counts[i];
      if (c === 0) continue;
      const x = -h.r + (i + 0.5) * w;
      const q = Math.min(qmax, Math.max(qmin, Math.round(x / scale) + z));
      const d = x - (q - z) * scale;
      err += c * d * d;
    }
    if (err < best) {
      best = err;
      bestLo = lo;
      bestHi = hi;
    }
  }
  return [Math.max(bestLo, Math.min(mn, 0)), Math.min(bestHi, Math.max(mx, 0))];
}

// ---------------------------------------------------------------------------------------------------------------
// quantize / dequantize

/** Options of {@link quantize}. */
export interface QuantizeOptions {
  /** 'int8' (default) or 'uint8'. */
  dtype?: QuantDType;
  /** Default: 'symmetric' for int8, 'asymmetric' for uint8. */
  scheme?: QuantScheme;
  /** Per-channel parameters along this axis (negative counts from the end); default per tensor. */
  axis?: number | null;
  /** 'minmax' (default), 'percentile', 'mse', or a {@link Calibrator} that has observed data. */
  calibration?: CalibrationMethod | Calibrator;
  /** For 'percentile' (default 99.99). */
  percentile?: number;
  /** Histogram bins for 'percentile' / 'mse'. */
  bins?: number;
  /** Explicit scale(s) (one, or one per channel): skips calibration. */
  scale?: number | ArrayLike<number>;
  /** Explicit zero point(s) with `scale`; default 0 (int8) / 128 (uint8 symmetric) / 0 (uint8 asymmetric). */
  zeroPoint?: number | ArrayLike<number>;
}

/**
 * Quantizes a float32 tensor: per tensor or per channel (`axis`), symmetric or asymmetric, with the range from
 * min/max, a percentile, the MSE-optimal clip, a {@link Calibrator}, or explicit `scale` / `zeroPoint`.
 * Values are rounded half to even after multiplying by 1/scale and clamped to the scheme's range; NaN maps to
 * the zero point. Calibration rejects NaN and ±Infinity.
 */
export function quantize(t: Tensor, opts: QuantizeOptions | null = {}): QuantizedTensor {
  opts = options('quantize', opts);
  const fn = 'quantize';
  checkTensor(fn, 't', t);
  if (t.dtype !== 'float32') throw typeError(fn, `t.dtype must be float32, got ${t.dtype}`);
  if (opts === null || typeof opts !== 'object') throw typeError(fn, `opts must be an object, got ${describe(opts)}`);
  const dtype = opts.dtype ?? 'int8';
  if (!isQDType(dtype)) throw typeError(fn, `dtype must be 'int8' or 'uint8', got ${describe(dtype)}`);
  const scheme = opts.scheme ?? (dtype === 'int8' ? 'symmetric' : 'asymmetric');
  if (scheme !== 'symmetric' && scheme !== 'asymmetric') throw typeError(fn, `scheme must be 'symmetric' or 'asymmetric', got ${describe(scheme)}`);
  const axis = normAxis(fn, opts.axis, t.ndim);
  const [outer, channels, inner] = splitShape(t.shape, axis);
  let scale: Float32Array, zeroPoint: Int32Array;
  if (opts.scale !== undefined) {
    scale = expandParam(fn, 'scale', opts.scale, channels, Float32Array) as Float32Array;
    const defZero = scheme === 'symmetric' && dtype === 'uint8' ? 128 : 0;
    zeroPoint = expandParam(fn, 'zeroPoint', opts.zeroPoint ?? defZero, channels, Int32Array) as Int32Array;
  } else {
    if (opts.zeroPoint !== undefined) throw typeError(fn, 'zeroPoint needs scale (or let calibration choose both)');
    const cal = opts.calibration ?? 'minmax';
    let c: Calibrator;
    if (cal instanceof Calibrator) {
      c = cal;
      if (c.axis !== null && normAxis(fn, c.axis, t.ndim) !== axis)
        throw rangeError(fn, `the calibrator's axis (${c.axis}) differs from axis (${describe(opts.axis ?? null)})`);
      if (c.count === 0) throw rangeError(fn, 'the calibrator has observed no batch');
    } else {
      if (cal !== 'minmax' && cal !== 'percentile' && cal !== 'mse')
        throw typeError(fn, `calibration must be 'minmax', 'percentile', 'mse' or a Calibrator, got ${describe(cal)}`);
      c = new Calibrator({ method: cal, percentile: opts.percentile, bins: opts.bins, axis });
      c.observeAs(fn, t);
    }
    ({ scale, zeroPoint } = c.params({ dtype, scheme }));
    if (scale.length !== channels)
      throw rangeError(fn, `the calibrator has ${scale.length} channel(s), t has ${channels} along axis ${axis}`);
  }
  const [qmin, qmax] = qrange(dtype, scheme);
  for (let i = 0; i < channels; i++) {
    if (!(scale[i] > 0) || !Number.isFinite(scale[i])) throw rangeError(fn, `scale[${i}] must be positive and finite, got ${scale[i]}`);
    if (zeroPoint[i] < qmin || zeroPoint[i] > qmax)
      throw rangeError(fn, `zeroPoint[${i}] (${zeroPoint[i]}) is outside the ${dtype} ${scheme} range [${qmin}, ${qmax}]`);
  }
  const out = allocArray(dtype, t.size) as Int8Array | Uint8Array;
  native.quantize(t.data as Float32Array, out, outer, channels, inner, scale, zeroPoint, scheme === 'symmetric');
  const data = new Tensor(out, t.shape.slice(), dtype, t.size);
  return new QuantizedTensor(data, scale, zeroPoint, axis, scheme);
}

function expandParam(fn: string, name: string, v: unknown, n: number, Ctor: Float32ArrayConstructor | Int32ArrayConstructor): Float32Array | Int32Array {
  if (typeof v === 'number') return new Ctor(n).fill(v);
  if (v && typeof (v as ArrayLike<number>).length === 'number' && typeof v !== 'string') {
    const a = v as ArrayLike<number>;
    if (a.length === 1) return new Ctor(n).fill(a[0]);
    if (a.length !== n) throw rangeError(fn, `${name} has ${a.length} values, needs 1 or ${n}`);
    for (let i = 0; i < n; i++) if (typeof a[i] !== 'number' || (Ctor === Int32Array && !Number.isInteger(a[i]))) throw typeError(fn, `${name}[${i}] must be ${Ctor === Int32Array ? 'an integer' : 'a number'}, got ${describe(a[i])}`);
    return Ctor.from(a);
  }
  throw typeError(fn, `${name} must be a number or an array of numbers, got ${describe(v)}`);
}

/** The float32 values a quantized tensor stands for: `(q − zeroPoint) · scale`. */
export function dequantize(q: QuantizedTensor, opts: { out?: Tensor } | null = {}): Tensor<'float32'> {
  opts = options('dequantize', opts);
  const fn = 'dequantize';
  if (!(q instanceof QuantizedTensor)) throw typeError(fn, `q must be a QuantizedTensor, got ${describe(q)}`);
  checkTensor(fn, 'q.data', q.data);
  let out: Tensor<'float32'>;
  if (opts.out !== undefined && opts.out !== null) {
    checkTensor(fn, 'out', opts.out);
    if (opts.out.dtype !== 'float32') throw typeError(fn, `out.dtype must be float32, got ${opts.out.dtype}`);
    if (opts.out.size !== q.size) throw rangeError(fn, `out has ${opts.out.size} elements, needs ${q.size}`);
    // 4 bytes written per byte read: even out === the buffer of q.data would overwrite values not yet read.
    checkOverlap(fn, opts.out.data, 'q.data', q.data.data);
    checkOverlap(fn, opts.out.data, 'q.scale', q.scale);
    checkOverlap(fn, opts.out.data, 'q.zeroPoint', q.zeroPoint);
    out = opts.out as Tensor<'float32'>;
  } else {
    out = new Tensor(allocArray('float32', q.size) as Float32Array, q.shape.slice(), 'float32', q.size);
  }
  const [outer, channels, inner] = splitShape(q.shape, q.axis);
  native.dequantize(q.data.data, out.data, outer, channels, inner, q.scale, q.zeroPoint);
  return out;
}

/** quantizeDynamic's error for rows of x holding NaN or ±Infinity (their scale is NaN); `bad` of them. */
function nonFiniteRowsError(scale: Float32Array, bad: number): RangeError {
  const row = scale.findIndex((s) => Number.isNaN(s));
  return rangeError('quantizeDynamic', `row ${row} of x contains NaN or ±Infinity (${bad} such row${bad > 1 ? 's' : ''})`);
}

/**
 * Dynamic per-row quantization (what `linear` does to float32 activations): each row of the last dimension
 * gets its own scale / zero point from its min and max. uint8 (default) is asymmetric, int8 symmetric. The
 * result is 2-D [rows, K] with `axis: 0`. Rejects rows holding NaN or ±Infinity.
 */
export function quantizeDynamic(x: Tensor, opts: { dtype?: QuantDType } | null = {}): QuantizedTensor {
  opts = options('quantizeDynamic', opts);
  const fn = 'quantizeDynamic';
  checkTensor(fn, 'x', x);
  if (x.dtype !== 'float32') throw typeError(fn, `x.dtype must be float32, got ${x.dtype}`);
  if (x.ndim < 1) throw rangeError(fn, 'x must have at least 1 dimension');
  const dtype = opts.dtype ?? 'uint8';
  if (!isQDType(dtype)) throw typeError(fn, `dtype must be 'int8' or 'uint8', got ${describe(dtype)}`);
  const k = x.shape[x.ndim - 1];
  const m = k === 0 ? x.shape.slice(0, -1).reduce((a, b) => a * b, 1) : x.size / k;
  checkOutputSize(fn, 'row parameters', [m]);
  const out = allocArray(dtype, m * k) as Int8Array | Uint8Array;
  const scale = new Float32Array(m), zeroPoint = new Int32Array(m);
  const bad = native.quantizeRows(x.data as Float32Array, m, k, out, scale, zeroPoint);
  if (bad > 0) throw nonFiniteRowsError(scale, bad);
  return new QuantizedTensor(new Tensor(out, [m, k], dtype, m * k), scale, zeroPoint, 0, dtype === 'int8' ? 'symmetric' : 'asymmetric');
}

// ---------------------------------------------------------------------------------------------------------------
// Packed weights and the int8 GEMM

/**
 * int8/uint8 weights packed once into the int8 GEMM's panel layout, with their column sums (for the zero-point
 * correction) and their scales. Represents the right operand B [K, N] (for a Linear weight [out, in]: K = in,
 * N = out). Made by `packWeights(q)` for a {@link QuantizedTensor} (or a raw int8/uint8 tensor, scale 1).
 */
export class PackedInt8Weights {
  /** Storage type of the weights. */
  readonly dtype: QuantDType;
  /** @internal */
  readonly handle: NativePackedS8;
  /** Inner dimension (input features). */
  readonly k: number;
  /** Output columns (output features). */
  readonly n: number;
  /** Scale per output column (length 1 when per tensor). */
  readonly scale: Float32Array;
  /** Zero point per output column (length 1 when per tensor). */
  readonly zeroPoint: Int32Array;
  /** @internal */
  constructor(handle: NativePackedS8, dtype: QuantDType, scale: Float32Array, zeroPoint: Int32Array) {
    checkHandle('PackedInt8Weights', 'packInt8Weights()', handle, ['k', 'n']);
    this.handle = handle;
    this.dtype = dtype;
    this.k = handle.k;
    this.n = handle.n;
    this.scale = scale;
    this.zeroPoint = zeroPoint;
  }
  /** Bytes held by the packed panels and per-column data. */
  get bytes(): number {
    return this.handle.bytes;
  }
}

/** Options of `packWeights` for int8 weights. */
export interface Int8PackOptions {
  /** 'linear' (default): `w` is [out, in] (PyTorch layout). 'kn': `w` is the [K, N] right operand. */
  layout?: 'linear' | 'kn';
}

/**
 * Packs quantized weights for repeated `linear(x, packed)` calls (usually reached through `packWeights`).
 * Per-channel parameters must run along the output dimension (axis 0 for 'linear', axis 1 for 'kn').
 */
export function packInt8Weights(w: QuantizedTensor | Tensor, opts: Int8PackOptions | null = {}): PackedInt8Weights {
  opts = options('packInt8Weights', opts);
  const fn = 'packWeights';
  const layout = opts.layout ?? 'linear';
  if (layout !== 'linear' && layout !== 'kn') throw typeError(fn, `layout must be 'linear' or 'kn', got ${describe(layout)}`);
  let data: Tensor, scale: Float32Array, zeroPoint: Int32Array;
  if (w instanceof QuantizedTensor) {
    data = w.data;
    const outAxis = layout === 'linear' ? 0 : 1;
    if (w.axis !== null && w.axis !== outAxis)
      throw rangeError(fn, `per-channel weights must have axis ${outAxis} (output features) for layout '${layout}', got axis ${w.axis}`);
    scale = w.scale;
    zeroPoint = w.zeroPoint;
  } else {
    checkTensor(fn, 'w', w);
    if (!isQDType(w.dtype)) throw typeError(fn, `w.dtype must be int8 or uint8 (or pass a QuantizedTensor), got ${w.dtype}`);
    data = w;
    scale = Float32Array.of(1);
    zeroPoint = Int32Array.of(0);
  }
  if (data.ndim !== 2) throw rangeError(fn, `w must be 2-D, got shape [${data.shape.join(', ')}]`);
  const [r, c] = data.shape;
  const trans = layout === 'linear';
  checkPackDims(fn, trans ? c : r, trans ? r : c);
  const handle = new native.PackedS8(data.data as Int8Array | Uint8Array, trans ? c : r, trans ? r : c, trans, zeroPoint, scale);
  return new PackedInt8Weights(handle, data.dtype as QuantDType, scale, zeroPoint);
}

/** int8-specific options of `linear`. */
export interface Int8GemmOptions extends GemmOptions {
  /**
   * Requantize the output instead of returning float32: `q = clamp(roundHalfEven(y / scale) + zeroPoint)` of the
   * (biased, activated) float32 result. `linear` then returns a per-tensor {@link QuantizedTensor}.
   */
  output?: { dtype: QuantDType; scale: number; zeroPoint?: number };
}

function rowsOf(fn: string, arg: string, t: { shape: readonly number[]; size: number; ndim: number }): [number, number] {
  if (t.ndim < 1) throw rangeError(fn, `${arg} must have at least 1 dimension`);
  const k = t.shape[t.ndim - 1];
  const m = k === 0 ? t.shape.slice(0, -1).reduce((a, b) => a * b, 1) : t.size / k;
  return [m, k];
}

function checkBias(fn: string, bias: unknown, n: number): Float32Array | null {
  if (bias === undefined || bias === null) return null;
  checkTensor(fn, 'bias', bias);
  if (bias.dtype !== 'float32') throw typeError(fn, `bias.dtype must be float32, got ${bias.dtype}`);
  if (bias.size !== n) throw rangeError(fn, `bias has ${bias.size} elements ([${bias.shape.join(', ')}]), needs ${n}`);
  return bias.data as Float32Array;
}

type GemmOut = Int32Array | Float32Array | Int8Array | Uint8Array;

/** Validates `out` (dtype, shape, clear of every input the GEMM reads) or allocates the output. */
function outputTensor(fn: string, out: unknown, dtype: 'float32' | 'int32' | QuantDType, shape: number[], inputs: ReadonlyArray<readonly [string, ArrayBufferView | null | undefined]>): Tensor {
  if (out === undefined || out === null) {
    const size = checkOutputSize(fn, 'output', shape);
    return new Tensor(allocOrThrow(fn, shape, dtype === 'int8' || dtype === 'uint8' ? 1 : 4, () => allocArray(dtype, size)) as GemmOut, shape, dtype, size);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  checkTensor(fn, 'out', out);
  if (out.dtype !== dtype) throw typeError(fn, `out.dtype must be ${dtype}, got ${out.dtype}`);
  checkOutShape(fn, out, shape);
  for (const [arg, data] of inputs) checkOverlap(fn, out.data, arg, data);
  return out;
}

const isIntTensor = (t: unknown): t is Tensor => t instanceof Tensor && isQDType(t.dtype);

/** A validated int8 matmul: what runs, sync or async (the validation is shared, so both refuse alike). */
type Int8MatmulPlan = { a: Tensor; m: number; k: number; out: Tensor } & (
  | { packed: PackedInt8Weights }
  | { packed: null; b: Tensor; n: number; transB: boolean }
);

function planMatmulInt8(fn: string, a: Tensor, b: unknown, opts: GemmOptions): Int8MatmulPlan {
  checkTensor(fn, 'a', a);
  const [m, k] = rowsOf(fn, 'a', a);
  if (opts.bias !== undefined && opts.bias !== null)
    throw typeError(fn, 'bias needs a float output: an int8 × int8 matmul returns the exact int32 product (use linear with a QuantizedTensor weight for dequantized output)');
  if (activationCode(fn, opts.activation) !== 0)
    throw typeError(fn, 'activation needs a float output: an int8 × int8 matmul returns the exact int32 product');
  const shapeFor = (n: number) => (a.ndim <= 2 ? (a.ndim === 1 ? [n] : [m, n]) : [...a.shape.slice(0, -1), n]);
  if (b instanceof PackedInt8Weights) {
    if (b.k !== k) throw rangeError(fn, `a.shape[${a.ndim - 1}] (${k}) must equal the packed weights' K (${b.k})`);
    return { a, m, k, packed: b, out: outputTensor(fn, opts.out, 'int32', shapeFor(b.n), [['a', a.data]]) };
  }
  const bt = b as Tensor;
  checkTensor(fn, 'b', bt);
  if (bt.ndim !== 2) throw rangeError(fn, `b must be 2-D, got shape [${bt.shape.join(', ')}]`);
  const tb = !!opts.transB;
  const bk = tb ? bt.shape[1] : bt.shape[0];
  if (bk !== k) throw rangeError(fn, `a.shape[${a.ndim - 1}] (${k}) must equal b.shape[${tb ? 1 : 0}] (${bk})${tb ? ' (transB)' : ''}`);
  const n = tb ? bt.shape[0] : bt.shape[1];
  return { a, m, k, packed: null, b: bt, n, transB: tb, out: outputTensor(fn, opts.out, 'int32', shapeFor(n), [['a', a.data], ['b', bt.data]]) };
}

function matmulInt8(a: Tensor, b: unknown, opts: GemmOptions): Tensor {
  const p = planMatmulInt8('matmul', a, b, opts);
  const packed = p.packed !== null ? p.packed : packInt8Weights(p.b, { layout: p.transB ? 'linear' : 'kn' });
  const t0 = monitorHook.on ? performance.now() : 0;
  const kernel = native.s8Gemm(p.a.data as Int8Array | Uint8Array, p.m, packed.handle, null, null, p.out.data as GemmOut, null, 0, 1, 0);
  if (monitorHook.on) monitorHook.record('matmul', kernel, t0);
  return p.out;
}

/** The async int8 matmul: one-off weights are packed on the worker, not here. */
async function matmulInt8Async(a: Tensor, b: unknown, opts: AsyncGemmOptions): Promise<Tensor> {
  const fn = 'matmulAsync';
  const signal = checkSignal(fn, opts.signal);
  const p = planMatmulInt8(fn, a, b, opts);
  const ad = p.a.data as Int8Array | Uint8Array;
  const t0 = monitorHook.on ? performance.now() : 0;
  await runNativeAsync(
    fn,
    signal,
    (id) =>
      p.packed !== null
        ? native.s8GemmAsync(ad, p.m, p.packed.handle, null, null, p.out.data as GemmOut, null, 0, 1, 0, id)
        : native.s8MatmulAsync(ad, p.m, p.k, p.b.data as Int8Array | Uint8Array, p.n, p.transB, p.out.data as Int32Array, id),
    p.out,
  );
  if (monitorHook.on) monitorHook.record('matmulAsync', kernelName('matmul.s8'), t0);
  return p.out;
}

/** A validated int8 linear: what runs, sync or async. */
interface Int8LinearPlan {
  packed: PackedInt8Weights;
  m: number;
  b: Float32Array | null;
  act: number;
  out: Tensor;
  outQ: { dtype: QuantDType; scale: number; zeroPoint: number } | null;
  /** A quantized x (its data, parameters), or null for float32 x quantized per row on the fly. */
  xq: QuantizedTensor | null;
  x: Tensor;
}

function planLinearInt8(fn: string, x: Tensor | QuantizedTensor, w: QuantizedTensor | PackedInt8Weights, bias: Tensor | null | undefined, opts: Int8GemmOptions): Int8LinearPlan {
  const packed = w instanceof PackedInt8Weights ? w : packInt8Weights(w, { layout: 'linear' });
  const xs = x instanceof QuantizedTensor ? x.data : x;
  checkTensor(fn, 'x', xs);
  const [m, k] = rowsOf(fn, 'x', xs);
  if (k !== packed.k) throw rangeError(fn, `x.shape[${xs.ndim - 1}] (${k}) must equal the weight's in features (${packed.k})`);
  const n = packed.n;
  const b = checkBias(fn, bias, n);
  const act = activationCode(fn, opts.activation);
  const shape = xs.ndim === 1 ? [n] : [...xs.shape.slice(0, -1), n];
  let outQ: Int8LinearPlan['outQ'] = null;
  if (opts.output !== undefined && opts.output !== null) {
    const o = opts.output;
    if (typeof o !== 'object' || !isQDType(o.dtype)) throw typeError(fn, `output.dtype must be 'int8' or 'uint8', got ${describe((o as { dtype?: unknown })?.dtype)}`);
    if (typeof o.scale !== 'number' || !(o.scale > 0) || !Number.isFinite(o.scale)) throw rangeError(fn, `output.scale must be a positive finite number, got ${describe(o.scale)}`);
    const z = o.zeroPoint ?? 0;
    const [lo, hi] = o.dtype === 'int8' ? [-128, 127] : [0, 255];
    if (typeof z !== 'number' || !Number.isInteger(z) || z < lo || z > hi) throw rangeError(fn, `output.zeroPoint must be an integer in [${lo}, ${hi}], got ${describe(z)}`);
    outQ = { dtype: o.dtype, scale: o.scale, zeroPoint: z };
  }
  const xq = x instanceof QuantizedTensor ? x : null;
  const out = outputTensor(fn, opts.out, outQ ? outQ.dtype : 'float32', shape, [
    ['x', xs.data], ['bias', b], ['x.scale', xq?.scale], ['x.zeroPoint', xq?.zeroPoint],
  ]);
  if (x instanceof QuantizedTensor) {
    if (!(x.axis === null || (x.axis === 0 && x.ndim === 2)))
      throw rangeError(fn, `a quantized x must be per tensor or per row (axis 0 of a 2-D tensor), got axis ${x.axis} of [${x.shape.join(', ')}]`);
  } else if (x.dtype !== 'float32') {
    throw typeError(fn, `x.dtype must be float32 (quantized per row on the fly) or x a QuantizedTensor, got ${x.dtype} (use matmul for raw integer tensors)`);
  }
  return { packed, m, b, act, out, outQ, xq: x instanceof QuantizedTensor ? x : null, x: xs };
}

function linearResult(p: Int8LinearPlan): Tensor | QuantizedTensor {
  return p.outQ ? new QuantizedTensor(p.out, p.outQ.scale, p.outQ.zeroPoint, null, 'asymmetric') : p.out;
}

function linearInt8(x: Tensor | QuantizedTensor, w: QuantizedTensor | PackedInt8Weights, bias: Tensor | null | undefined, opts: Int8GemmOptions): Tensor | QuantizedTensor {
  const p = planLinearInt8('linear', x, w, bias, opts);
  const { packed, m, b, act, out, outQ, xq } = p;
  const t0 = monitorHook.on ? performance.now() : 0;
  let kernel: string;
  if (xq) {
    kernel = native.s8Gemm(xq.data.data, m, packed.handle, xq.zeroPoint, xq.scale, out.data as GemmOut, b, act, outQ?.scale ?? 1, outQ?.zeroPoint ?? 0);
  } else if (outQ) {
    const q = quantizeDynamic(p.x);
    kernel = native.s8Gemm(q.data.data, m, packed.handle, q.zeroPoint, q.scale, out.data as GemmOut, b, act, outQ.scale, outQ.zeroPoint);
  } else {
    kernel = native.s8LinearDynamic(p.x.data as Float32Array, m, packed.handle, out.data as Float32Array, b, act);
  }
  if (monitorHook.on) monitorHook.record('linear', kernel, t0);
  return linearResult(p);
}

/**
 * The async int8 linear: every path of {@link linearInt8} on the pool. float32 activations are quantized per row
 * on the worker too (for a requantized output the row parameters come back in scratch arrays and a row holding
 * NaN/±Infinity rejects with quantizeDynamic's RangeError, as the sync op throws it, leaving `out` untouched).
 */
async function linearInt8Async(x: Tensor | QuantizedTensor, w: QuantizedTensor | PackedInt8Weights, bias: Tensor | null | undefined, opts: Int8GemmOptions & AsyncGemmOptions): Promise<Tensor | QuantizedTensor> {
  const fn = 'linearAsync';
  const signal = checkSignal(fn, opts.signal);
  const p = planLinearInt8(fn, x, w, bias, opts);
  const { packed, m, b, act, out, outQ, xq } = p;
  const h = packed.handle;
  const t0 = monitorHook.on ? performance.now() : 0;
  if (xq) {
    await runNativeAsync(fn, signal, (id) => native.s8GemmAsync(xq.data.data, m, h, xq.zeroPoint, xq.scale, out.data as GemmOut, b, act, outQ?.scale ?? 1, outQ?.zeroPoint ?? 0, id), out);
  } else if (outQ) {
    // quantizeDynamic's default: uint8, asymmetric per row.
    const scale = new Float32Array(m), zeroPoint = new Int32Array(m);
    const xd = p.x.data as Float32Array;
    await runNativeAsync(fn, signal, (id) => native.s8LinearDynamicQAsync(xd, m, h, out.data as Int8Array | Uint8Array, b, act, outQ.scale, outQ.zeroPoint, true, scale, zeroPoint, id), out);
    let bad = 0;
    for (let i = 0; i < m; i++) if (Number.isNaN(scale[i])) bad++; // m row scales, not elements
    if (bad > 0) throw nonFiniteRowsError(scale, bad);
  } else {
    const xd = p.x.data as Float32Array;
    await runNativeAsync(fn, signal, (id) => native.s8LinearDynamicAsync(xd, m, h, out.data as Float32Array, b, act, id), out);
  }
  if (monitorHook.on) monitorHook.record('linearAsync', kernelName('matmul.s8'), t0);
  return linearResult(p);
}

const matchInt8Matmul = (a: unknown, b: unknown) => isIntTensor(a) && (b instanceof PackedInt8Weights || isIntTensor(b));
const matchInt8Linear = (w: unknown) => w instanceof QuantizedTensor || w instanceof PackedInt8Weights;

registerMatmul({
  name: 'int8',
  match: matchInt8Matmul,
  run: (a, b, opts) => matmulInt8(a, b, opts),
});
registerLinear({
  name: 'int8',
  match: matchInt8Linear,
  run: (x, w, bias, opts) => linearInt8(x as Tensor | QuantizedTensor, w as QuantizedTensor | PackedInt8Weights, bias, opts as Int8GemmOptions) as Tensor,
});
registerAsyncMatmul({
  name: 'int8',
  match: matchInt8Matmul,
  run: (a, b, opts) => matmulInt8Async(a, b, opts),
});
registerAsyncLinear({
  name: 'int8',
  match: matchInt8Linear,
  run: (x, w, bias, opts) =>
    linearInt8Async(x as Tensor | QuantizedTensor, w as QuantizedTensor | PackedInt8Weights, bias, opts as Int8GemmOptions & AsyncGemmOptions) as Promise<Tensor>,
});
registerPack({
  name: 'int8',
  match: (w) => w instanceof QuantizedTensor || isIntTensor(w),
  pack: (w, opts) => packInt8Weights(w as QuantizedTensor | Tensor, opts as Int8PackOptions),
});

// ---------------------------------------------------------------------------------------------------------------
// Validation helpers

/** What {@link compareOutputs} reports. */
export interface OutputComparison {
  /** Elements compared. */
  count: number;
  /** max |test − ref|. */
  maxAbsError: number;
  /** max |test − ref| / max(|ref|, 1e-6 · max|ref|) (the floor keeps near-zero references from dominating). */
  maxRelError: number;
  /** mean |test − ref|. */
  meanAbsError: number;
  /** mean (test − ref): a systematic bias. */
  meanError: number;
  /** sqrt(mean (test − ref)²). */
  rmse: number;
  /** cos∠(ref, test) over all elements (1 when identical; NaN when either is all zeros). */
  cosineSimilarity: number;
  /** Fraction of rows (last dimension = classes) whose argmax agrees: the logits check. Null for 0-D data. */
  top1Agreement: number | null;
  /** Elements where exactly one side is NaN (or ±Infinity differs). */
  mismatchedNonFinite: number;
}

/**
 * Compares a reference output with a test output (e.g. float32 vs int8 model logits): max abs/rel error, mean
 * error, RMSE, cosine similarity and top-1 agreement over rows of the last dimension. QuantizedTensors are
 * dequantized first. Shapes must have the same number of elements; NaN/Infinity pairs are counted, not summed.
 */
export function compareOutputs(ref: Tensor | QuantizedTensor, test: Tensor | QuantizedTensor): OutputComparison {
  const fn = 'compareOutputs';
  const r = ref instanceof QuantizedTensor ? dequantize(ref) : ref;
  const t = test instanceof QuantizedTensor ? dequantize(test) : test;
  checkTensor(fn, 'ref', r);
  checkTensor(fn, 'test', t);
  for (const [name, x] of [['ref', r], ['test', t]] as const)
    if (x.dtype === 'float16' || x.dtype === 'bfloat16') throw typeError(fn, `${name}.dtype ${x.dtype} must be cast to float32 first (t.to('float32'))`);
  if (r.size !== t.size) throw rangeError(fn, `ref has ${r.size} elements ([${r.shape.join(', ')}]), test has ${t.size} ([${t.shape.join(', ')}])`);
  const a = r.data as ArrayLike<number>, b = t.data as ArrayLike<number>;
  const n = r.size;
  let maxRef = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(a[i])) maxRef = Math.max(maxRef, Math.abs(a[i]));
  const floor = Math.max(1e-6 * maxRef, Number.MIN_VALUE);
  let maxAbs = 0, maxRel = 0, sumAbs = 0, sum = 0, sumSq = 0, dot = 0, na = 0, nb = 0, bad = 0, used = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i], y = b[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (!(x === y || (Number.isNaN(x) && Number.isNaN(y)))) bad++;
      continue;
    }
    const d = y - x, ad = Math.abs(d);
    used++;
    if (ad > maxAbs) maxAbs = ad;
    const rel = ad / Math.max(Math.abs(x), floor);
    if (rel > maxRel) maxRel = rel;
    sumAbs += ad;
    sum += d;
    sumSq += d * d;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  let top1: number | null = null;
  if (r.ndim >= 1 && n > 0) {
    const cls = r.shape[r.ndim - 1];
    const rows = cls > 0 ? n / cls : 0;
    let agree = 0;
    for (let row = 0; row < rows; row++) {
      let ia = 0, ib = 0;
      for (let j = 1; j < cls; j++) {
        if (a[row * cls + j] > a[row * cls + ia]) ia = j;
        if (b[row * cls + j] > b[row * cls + ib]) ib = j;
      }
      if (ia === ib) agree++;
    }
    top1 = rows > 0 ? agree / rows : null;
  }
  return {
    count: n,
    maxAbsError: maxAbs,
    maxRelError: maxRel,
    meanAbsError: used ? sumAbs / used : 0,
    meanError: used ? sum / used : 0,
    rmse: used ? Math.sqrt(sumSq / used) : 0,
    cosineSimilarity: na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : NaN,
    top1Agreement: top1,
    mismatchedNonFinite: bad,
  };
}

/** GOP/s of the best allowed int8 dot-product unit (vpdpbusd zmm/ymm, SDOT) over about `ms` ms, or null. */
export function probeVnniPeak(ms = 200): { gops: number; kernel: string } | null {
  return native.probeVnniPeak(ms);
}

/** GOP/s of AMX-INT8 tiles (tdpbusd) over about `ms` ms, or null without AMX or the tile permission. */
export function probeAmxInt8Peak(ms = 200): { gops: number; kernel: string } | null {
  return native.probeAmxInt8Peak(ms);
}

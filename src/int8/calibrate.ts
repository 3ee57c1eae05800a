/**
 * int8 calibration: a {@link Calibrator} accumulates per-tensor or per-channel statistics over batches and picks
 * the quantization range by min/max, percentile or MSE.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { native } from '../native.js';
import { checkTensor, Tensor } from '../tensor.js';
import { isQDType, normAxis, qrange, splitShape, type CalibrationMethod, type QuantDType, type QuantScheme } from './tensor.js';

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

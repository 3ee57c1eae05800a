/**
 * {@link quantize} / {@link dequantize} (per tensor or per channel, symmetric or asymmetric, calibrated by min/max,
 * percentile or MSE) and dynamic per-row quantization of activations ({@link quantizeDynamic}).
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { native } from '../native.js';
import { checkOutputSize, checkOverlap, checkTensor, Tensor } from '../tensor.js';
import { allocArray } from '../alloc.js';
import { isQDType, normAxis, qrange, QuantizedTensor, splitShape, type CalibrationMethod, type QuantDType, type QuantScheme } from './tensor.js';
import { Calibrator } from './calibrate.js';

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

/** @internal quantizeDynamic's error for rows of x holding NaN or ±Infinity (their scale is NaN); `bad` of them. */
export function nonFiniteRowsError(scale: Float32Array, bad: number): RangeError {
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

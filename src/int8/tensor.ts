/**
 * The int8 family's tensor: {@link QuantizedTensor} (int8/uint8 values with per-tensor or per-channel scales and
 * zero points) and the dtype, scheme and range rules every int8 module shares.
 *
 * One rounding rule everywhere (every ISA, bit for bit): `q = clamp(roundHalfEven(x · (1/scale)) + zeroPoint)`,
 * NaN → zeroPoint; `x = (q − zeroPoint) · scale`. See docs/int8.md.
 * @module
 */
import { describe, rangeError, typeError } from '../errors.js';
import { checkTensor, Tensor } from '../tensor.js';

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

/** @internal */
export const isQDType = (d: unknown): d is QuantDType => d === 'int8' || d === 'uint8';

/** @internal */
export function qrange(dtype: QuantDType, scheme: QuantScheme): [number, number] {
  if (scheme === 'symmetric') return dtype === 'int8' ? [-127, 127] : [1, 255];
  return dtype === 'int8' ? [-128, 127] : [0, 255];
}

/** @internal */
export function normAxis(fn: string, axis: unknown, ndim: number): number | null {
  if (axis === undefined || axis === null) return null;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -ndim || axis >= ndim)
    throw rangeError(fn, `axis must be an integer in [${-ndim}, ${ndim - 1}] for a ${ndim}-D tensor, got ${describe(axis)}`);
  return axis < 0 ? axis + ndim : axis;
}

/** @internal [outer, channels, inner] view of a shape around `axis` (channels = 1 when per tensor). */
export function splitShape(shape: readonly number[], axis: number | null): [number, number, number] {
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

/**
 * Values flowing through an ONNX graph: our Tensor class, widened to the ONNX element types the runtime needs
 * (int64 is held in a Float64Array — exact to 2^53, which covers shapes and indices — bool in a Uint8Array).
 * @module
 */
import { Tensor } from '../tensor.js';
import { rangeError } from '../errors.js';

/** Element types an ONNX value may have inside the runtime. */
export type ODType = 'float32' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';
/** Storage of an {@link ODType}. */
export type OData = Float32Array | Float64Array | Int32Array | Int8Array | Uint8Array;
/** A runtime value: a Tensor (the class, so it is returned as is) whose dtype may also be int64, float64 or bool. */
export interface Value {
  readonly dtype: ODType;
  readonly shape: readonly number[];
  readonly data: OData;
  readonly size: number;
}

/** ONNX TensorProto.DataType codes → runtime dtypes (those the runtime can hold). */
export const ONNX_DTYPES: Record<number, ODType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float64' };
/** Names of every ONNX data type code, for error messages. */
export const ONNX_TYPE_NAMES: Record<number, string> = {
  0: 'undefined', 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};

/** Bytes per element of the runtime storage (int64 takes 8 as a float64). */
export function obytes(d: ODType): number {
  return d === 'float64' || d === 'int64' ? 8 : d === 'float32' || d === 'int32' ? 4 : 1;
}

/** A new zeroed storage array of `n` elements. */
export function odata(d: ODType, n: number): OData {
  switch (d) {
    case 'float32': return new Float32Array(n);
    case 'float64': case 'int64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
    case 'int8': return new Int8Array(n);
    default: return new Uint8Array(n);
  }
}

/** A storage array of `n` elements viewing `buf` at byte offset `off`. */
export function oview(d: ODType, buf: ArrayBuffer, off: number, n: number): OData {
  switch (d) {
    case 'float32': return new Float32Array(buf, off, n);
    case 'float64': case 'int64': return new Float64Array(buf, off, n);
    case 'int32': return new Int32Array(buf, off, n);
    case 'int8': return new Int8Array(buf, off, n);
    default: return new Uint8Array(buf, off, n);
  }
}

/** Element count of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]; // indexed: a for-of iterator is per-call garbage here
  return n;
}

/** A value over `data` (allocated when omitted). */
export function mk(dtype: ODType, shape: readonly number[], data?: OData): Value {
  const n = numel(shape);
  const d = data ?? odata(dtype, n);
  if (d.length !== n) throw rangeError('onnx', `internal: ${dtype} data of ${d.length} elements for shape [${shape.join(', ')}]`);
  return new Tensor(d as never, shape.slice(), dtype as never, n) as unknown as Value;
}

/** `out` if given (checked), else a new value. */
export function outOr(out: Value | undefined, dtype: ODType, shape: readonly number[]): Value {
  if (!out) return mk(dtype, shape);
  if (out.dtype !== dtype || out.size !== numel(shape))
    throw rangeError('onnx', `internal: planned output ${out.dtype}[${out.shape.join(', ')}] does not fit ${dtype}[${shape.join(', ')}]`);
  return out;
}

/** A view of `v` with another shape (same storage). */
export function view(v: Value, shape: readonly number[]): Value {
  return new Tensor(v.data as never, shape.slice(), v.dtype as never, v.size) as unknown as Value;
}

/** The elements as plain numbers (for small shape tensors only). */
export function ints(v: Value): number[] {
  return Array.from(v.data as ArrayLike<number>, (x) => Number(x));
}

/** Same shape test. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Normalizes a possibly negative axis for rank `r`. */
export function normAxis(op: string, axis: number, r: number): number {
  if (!Number.isInteger(axis) || axis < -r || axis >= r) throw rangeError(op, `axis ${axis} is out of range for rank ${r}`);
  return axis < 0 ? axis + r : axis;
}

/** Row-major strides. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** The multidirectional (numpy) broadcast of two shapes. */
export function broadcastShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw rangeError(op, `shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast (dim ${i}: ${x} vs ${y})`);
    out[i] = x === 1 ? y : x;
  }
  return out;
}

/** Strides of `shape` broadcast to `out` (0 along broadcast dims). */
export function bstrides(shape: readonly number[], out: readonly number[]): number[] {
  const s = strides(shape);
  const r = out.length;
  const res = new Array<number>(r).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const j = r - shape.length + i;
    res[j] = shape[i] === 1 && out[j] !== 1 ? 0 : s[i];
  }
  return res;
}

/**
 * Merges adjacent dimensions of `shape` that are contiguous in every strided operand (the outer stride equals the
 * inner stride times the inner extent) and drops size-1 dimensions, so {@link forRuns} visits fewer, longer runs: a
 * Slice of the leading axis of a [3, 1, 8, 40, 15] tensor is one run of 4800 elements, not 320 of 15 (each run costs
 * a subarray and an offsets array: most of a PaddleOCR rec run's garbage). The output stays row-major.
 */
export function coalesce(shape: readonly number[], st: readonly (readonly number[])[]): { shape: number[]; st: number[][] } {
  if (numel(shape) === 0) return { shape: shape.slice(), st: st.map((s) => s.slice()) };
  const out: number[] = [];
  const ost: number[][] = st.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = out.length - 1;
    if (last >= 0 && st.every((s, k) => ost[k][last] === s[d] * shape[d])) {
      out[last] *= shape[d];
      for (let k = 0; k < st.length; k++) ost[k][last] = st[k][d];
    } else {
      out.push(shape[d]);
      for (let k = 0; k < st.length; k++) ost[k].push(st[k][d]);
    }
  }
  return { shape: out, st: ost };
}

/**
 * Calls `f(outOffset, offsets…, count, innerStrides…)` for every innermost run of `out` (the last dimension),
 * with each operand's element offset. The loop over elements stays in `f`. `offs` is one array reused for every
 * call (no per-run copy): read it during the call, never keep it.
 */
export function forRuns(out: readonly number[], st: number[][], f: (o: number, offs: number[], n: number) => void): void {
  const r = out.length;
  if (r === 0) return f(0, st.map(() => 0), 1);
  const inner = out[r - 1];
  const total = numel(out);
  if (total === 0) return;
  const idx = new Array<number>(r - 1).fill(0);
  const offs = st.map(() => 0);
  for (let o = 0; o < total; o += inner) {
    f(o, offs, inner);
    for (let d = r - 2; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < st.length; k++) offs[k] += st[k][d];
      if (idx[d] < out[d]) break;
      for (let k = 0; k < st.length; k++) offs[k] -= st[k][d] * idx[d];
      idx[d] = 0;
    }
  }
}

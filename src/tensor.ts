/**
 * Typed tensors: a dtype, a shape and row-major contiguous data in a TypedArray (never copied on wrap).
 * @module
 */
import { arrayCtor, DType, DTYPES, dtypeBytes, inferDType, isDType, TensorData, TypedArrayFor } from './dtype.js';
import { describe, options, rangeError, typeError } from './errors.js';
import { rng } from './random.js';

/** Largest element count a tensor may have (2^31 - 1, the TypedArray limit on 32-bit length engines). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Validates a shape and returns its element count. */
export function checkShape(fn: string, arg: string, shape: unknown): number {
  if (!Array.isArray(shape)) throw typeError(fn, `${arg} must be an array of non-negative integers, got ${describe(shape)}`);
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      throw rangeError(fn, `${arg}[${i}] must be a non-negative integer, got ${describe(d)}`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) throw rangeError(fn, `${arg} [${shape.join(', ')}] has ${n} elements, more than ${MAX_ELEMENTS}`);
  return n;
}

/**
 * An n-dimensional array over a TypedArray. Row-major and contiguous; `data` may be a view into a larger buffer
 * (row slices share memory with their parent).
 */
export class Tensor<D extends DType = DType> {
  /** Element type. */
  readonly dtype: D;
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** The elements, row-major (float16/bfloat16 as raw bits). */
  readonly data: TypedArrayFor<D>;
  /** Number of elements (product of the shape). */
  readonly size: number;

  /**
   * @internal Use {@link tensor}, {@link zeros}, {@link empty} or {@link rand}; they validate. The shape array is
   * taken as is (callers pass a fresh array), which keeps small-op overhead low.
   */
  constructor(data: TypedArrayFor<D>, shape: readonly number[], dtype: D, size: number) {
    this.data = data;
    this.shape = shape;
    this.dtype = dtype;
    this.size = size;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Bytes of element data. */
  get byteLength(): number {
    return this.size * dtypeBytes(this.dtype);
  }

  /**
   * Same data, new shape (one dimension may be -1). No copy. The shape is an array (`t.reshape([3, 1])`) or the
   * dimensions as arguments (`t.reshape(3, 1)`).
   */
  reshape(shape: readonly number[] | number, ...more: number[]): Tensor<D> {
    if (!Array.isArray(shape) && typeof shape !== 'number')
      throw typeError('reshape', `shape must be an array of integers or the dimensions as arguments, got ${describe(shape)}`);
    if (Array.isArray(shape) && more.length > 0)
      throw typeError('reshape', `pass the shape as one array or as separate numbers, not both (got ${describe(shape)} and ${more.length} more arguments)`);
    const s: number[] = Array.isArray(shape) ? shape.slice() : [shape as number, ...more];
    // Numbers first: the -1 inference below multiplies and prints the dims (a Symbol or BigInt would throw there).
    for (let i = 0; i < s.length; i++)
      if (typeof s[i] !== 'number') throw typeError('reshape', `shape[${i}] must be an integer, got ${describe(s[i])}`);
    const neg = s.indexOf(-1);
    if (neg >= 0) {
      if (s.indexOf(-1, neg + 1) >= 0) throw rangeError('reshape', `shape [${s.join(', ')}] has more than one -1`);
      const rest = s.reduce((p, d, i) => (i === neg ? p : p * d), 1);
      if (rest === 0 || this.size % rest !== 0)
        throw rangeError('reshape', `cannot infer -1 in [${s.join(', ')}] for ${this.size} elements`);
      s[neg] = this.size / rest;
    }
    const n = checkShape('reshape', 'shape', s);
    if (n !== this.size)
      throw rangeError('reshape', `shape [${s.join(', ')}] has ${n} elements, tensor has ${this.size} ([${this.shape.join(', ')}])`);
    return new Tensor(this.data, s, this.dtype, n);
  }

  /** Rows [start, end) along the first dimension, as a view sharing this tensor's memory. */
  rows(start: number, end: number = this.shape[0]): Tensor<D> {
    checkTensor('rows', 'tensor', this);
    if (this.ndim === 0) throw rangeError('rows', 'a 0-d tensor has no rows');
    const r = this.shape[0];
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > r || start > end)
      throw rangeError('rows', `range [${start}, ${end}) is not within [0, ${r}]`);
    const inner = r === 0 ? 0 : this.size / r;
    const data = this.data.subarray(start * inner, end * inner) as TypedArrayFor<D>;
    return new Tensor(data, [end - start, ...this.shape.slice(1)], this.dtype, (end - start) * inner);
  }

  /** A tensor of another dtype with the same values (a copy; `this` if the dtype is the same). */
  to<T extends DType>(dtype: T): Tensor<T> {
    if (!isDType(dtype)) throw typeError('to', `dtype must be one of float32, float16, bfloat16, int8, uint8, int32, got ${describe(dtype)}`);
    if ((dtype as DType) === this.dtype) return this as unknown as Tensor<T>;
    checkTensor('to', 'tensor', this); // a detached or edited tensor: a clear error, not a failed read in a cast
    return castHook.fn(this, dtype) as Tensor<T>;
  }

  /** A deep copy. */
  clone(): Tensor<D> {
    checkTensor('clone', 'tensor', this); // a detached buffer: a clear error, not V8's from slice()
    return new Tensor(this.data.slice() as TypedArrayFor<D>, this.shape.slice(), this.dtype, this.size);
  }

  /** The element at a full index (bounds-checked; for inspection, not for loops). */
  at(...index: number[]): number {
    checkTensor('at', 'tensor', this); // an edited shape would read past the data (undefined), a detached buffer nothing
    if (index.length !== this.ndim) throw rangeError('at', `expected ${this.ndim} indices, got ${index.length}`);
    let off = 0;
    for (let i = 0; i < index.length; i++) {
      const v = index[i];
      if (!Number.isInteger(v) || v < 0 || v >= this.shape[i])
        throw rangeError('at', `index[${i}] (${v}) out of range [0, ${this.shape[i]})`);
      off = off * this.shape[i] + v;
    }
    return this.data[off];
  }

  /** Nested plain arrays (for printing and tests). */
  toArray(): unknown {
    // A shape edited after creation ([2^20, 2^20] on 1,700 elements) would build nested arrays until memory runs out.
    checkTensor('toArray', 'tensor', this);
    const rec = (dim: number, off: number): unknown => {
      if (dim === this.ndim) return this.data[off];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(rec(dim + 1, off + i * stride));
      return out;
    };
    return rec(0, 0);
  }

  /** A short description: `Tensor(float32, [2, 3])`. */
  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }
}

/**
 * Wraps a TypedArray as a tensor without copying. `dtype` defaults from the array type (a Uint16Array needs
 * 'float16' or 'bfloat16'; a Float16Array, where the runtime has one, is float16 and is viewed as its raw bits).
 * A plain number array is copied into a new array of `dtype` (default float32).
 */
export function tensor<D extends DType = DType>(data: TensorData | ArrayLike<number> | ArrayBufferView, shape?: readonly number[], dtype?: D): Tensor<D> {
  const fn = 'tensor';
  if (dtype !== undefined && !isDType(dtype))
    throw typeError(fn, `dtype must be one of ${DTYPES.join(', ')}, got ${describe(dtype)}`);
  let arr: TensorData;
  let dt: DType;
  if (ArrayBuffer.isView(data)) {
    const buf = data.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
    if (buf.resizable === true || buf.growable === true)
      throw typeError(fn, `data is backed by a ${buf.resizable ? 'resizable ArrayBuffer' : 'growable SharedArrayBuffer'}; tensors need a fixed-length buffer`);
    const inferred = inferDType(data);
    if (inferred === 'float16' && !(data instanceof Uint16Array)) {
      const v = data as unknown as { buffer: ArrayBufferLike; byteOffset: number; length: number };
      arr = new Uint16Array(v.buffer, v.byteOffset, v.length);
      dt = dtype ?? 'float16';
      if (dt !== 'float16') throw typeError(fn, `a Float16Array holds float16, not ${dt}`);
    } else if (data instanceof Uint16Array) {
      if (dtype !== 'float16' && dtype !== 'bfloat16')
        throw typeError(fn, `data is a Uint16Array: pass dtype 'float16' or 'bfloat16' (raw bits), got ${describe(dtype)}`);
      arr = data;
      dt = dtype;
    } else if (inferred) {
      dt = dtype ?? inferred;
      if (dt !== inferred)
        throw typeError(fn, `data is a ${data.constructor.name}, which holds ${inferred}, not ${dt} (use .to() to convert)`);
      arr = data as TensorData;
    } else {
      throw typeError(fn, `data must be a Float32Array, Uint16Array, Int8Array, Uint8Array or Int32Array, got ${describe(data)}`);
    }
  } else if (Array.isArray(data) || (data && typeof (data as ArrayLike<number>).length === 'number' && typeof data !== 'string')) {
    dt = dtype ?? 'float32';
    // Numbers only: the typed array's set() would convert anything else itself (a Symbol, a BigInt or a detached
    // typed array as an element throws V8's own conversion error; a string or a boolean would pass as a number).
    const src = data as ArrayLike<unknown>, len = src.length;
    for (let i = 0; i < len; i++)
      if (typeof src[i] !== 'number') throw typeError(fn, `data[${i}] must be a number, got ${describe(src[i])}`);
    if (dt === 'float16' || dt === 'bfloat16') {
      const f = Float32Array.from(data as ArrayLike<number>);
      const t = tensor(f, shape ?? [f.length]);
      return t.to(dt) as unknown as Tensor<D>;
    }
    const Ctor = arrayCtor(dt);
    arr = new Ctor((data as ArrayLike<number>).length);
    (arr as unknown as { set(a: ArrayLike<number>): void }).set(data as ArrayLike<number>);
  } else {
    throw typeError(fn, `data must be a TypedArray or an array of numbers, got ${describe(data)}`);
  }
  const s = shape ?? [arr.length];
  const n = checkShape(fn, 'shape', s);
  if (n !== arr.length)
    throw rangeError(fn, `shape [${s.join(', ')}] needs ${n} elements, data has ${arr.length}${arr.length === 0 && n > 0 ? ' (detached buffer?)' : ''}`);
  return new Tensor(arr as TypedArrayFor<D>, s.slice(), dt as D, n);
}

/** A new tensor filled with zeros. */
export function zeros<D extends DType = 'float32'>(shape: readonly number[], dtype?: D): Tensor<D> {
  const dt = (dtype ?? 'float32') as D;
  if (!isDType(dt)) throw typeError('zeros', `dtype must be one of ${DTYPES.join(', ')}, got ${describe(dtype)}`);
  const n = checkShape('zeros', 'shape', shape);
  const Ctor = arrayCtor(dt);
  return new Tensor(new Ctor(n) as TypedArrayFor<D>, shape.slice(), dt, n);
}

/** A new tensor (zero-filled: JS gives no uninitialized memory; kept for API symmetry). */
export function empty<D extends DType = 'float32'>(shape: readonly number[], dtype?: D): Tensor<D> {
  const dt = (dtype ?? 'float32') as D;
  if (!isDType(dt)) throw typeError('empty', `dtype must be one of ${DTYPES.join(', ')}, got ${describe(dtype)}`);
  return zeros(shape, dt);
}

/** Options of {@link rand}. */
export interface RandOptions<D extends DType = DType> {
  /** Seed of the deterministic generator (default 0). */
  seed?: number;
  /** Lower bound (default -1, or the dtype's minimum for integers). */
  low?: number;
  /** Upper bound, exclusive for floats, inclusive for integers (default 1, or the dtype's maximum). */
  high?: number;
  /** Element type (default float32). */
  dtype?: D;
}

/** A tensor of uniform random values from a seeded generator (the same seed gives the same tensor everywhere). */
export function rand<D extends DType = 'float32'>(shape: readonly number[], opts?: RandOptions<D> | null): Tensor<D> {
  const fn = 'rand';
  const o = options(fn, opts);
  const dt = (o.dtype ?? 'float32') as D;
  if (!isDType(dt)) throw typeError(fn, `opts.dtype must be one of ${DTYPES.join(', ')}, got ${describe(o.dtype)}`);
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw rangeError(fn, `opts.seed must be a finite number, got ${describe(seed)}`);
  const n = checkShape(fn, 'shape', shape);
  const isInt = dt === 'int8' || dt === 'uint8' || dt === 'int32';
  const lo = o.low ?? (isInt ? (dt === 'int8' ? -128 : dt === 'uint8' ? 0 : -1000) : -1);
  const hi = o.high ?? (isInt ? (dt === 'int8' ? 127 : dt === 'uint8' ? 255 : 1000) : 1);
  if (!(typeof lo === 'number' && typeof hi === 'number' && Number.isFinite(lo) && Number.isFinite(hi) && hi >= lo))
    throw rangeError(fn, `need finite opts.low <= opts.high, got low=${describe(lo)} high=${describe(hi)}`);
  const next = rng(seed);
  if (dt === 'float16' || dt === 'bfloat16') {
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = lo + (hi - lo) * next();
    return new Tensor(f, shape.slice(), 'float32', n).to(dt) as Tensor<D>;
  }
  const Ctor = arrayCtor(dt);
  const a = new Ctor(n);
  if (isInt) {
    const span = Math.floor(hi) - Math.ceil(lo) + 1;
    for (let i = 0; i < n; i++) a[i] = Math.ceil(lo) + Math.floor(next() * span);
  } else {
    for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * next();
  }
  return new Tensor(a as TypedArrayFor<D>, shape.slice(), dt, n);
}

/** Whether an ArrayBuffer has been detached (transferred away); only called on the error or zero-size path. */
export function isDetached(buf: ArrayBufferLike): boolean {
  if (buf.byteLength !== 0 || typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer) return false;
  try {
    new Uint8Array(buf as ArrayBuffer);
    return false;
  } catch {
    return true;
  }
}

/** Whether `data` still holds its `n` elements: not shrunk or detached (a detached buffer reads as length 0). */
export function holds(data: { length: number; buffer: ArrayBufferLike }, n: number): boolean {
  return data.length === n && !(n === 0 && isDetached(data.buffer));
}

/**
 * Throws unless `t` is a Tensor whose shape, size and data agree (every dimension a non-negative integer, their
 * product equal to `t.size`: catches a shape array edited after creation) and whose data still holds `t.size`
 * elements in a fixed-length buffer: a detached
 * (transferred) buffer, or a resizable ArrayBuffer / growable SharedArrayBuffer, is a TypeError naming `arg` (a
 * buffer that can shrink or vanish under a running op could crash the process).
 */
export function checkTensor(fn: string, arg: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw typeError(fn, `${arg} must be a Tensor, got ${describe(t)}`);
  // A Tensor whose data field was replaced (it is a plain property) must not turn into a property read on junk.
  if (!ArrayBuffer.isView(t.data) || t.data instanceof DataView) throw typeError(fn, `${arg}.data must be a typed array, got ${describe(t.data)}`);
  const buf = t.data.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
  if (buf.resizable === true || buf.growable === true)
    throw typeError(fn, `${arg} is backed by a ${buf.resizable ? 'resizable ArrayBuffer' : 'growable SharedArrayBuffer'}; tensors need a fixed-length buffer`);
  const s = t.shape;
  let n = Array.isArray(s) ? 1 : -1;
  for (let i = 0; n >= 0 && i < s.length; i++) {
    const d = s[i];
    n = typeof d === 'number' && Number.isSafeInteger(d) && d >= 0 ? n * d : -1; // anything but a non-negative integer: -1, never a size
  }
  if (n !== t.size)
    throw rangeError(fn, `${arg}.shape ${describe(s)} does not match its ${describe(t.size)} elements (was the shape array changed after the tensor was made?)`);
  if (!holds(t.data, t.size)) {
    if (isDetached(buf)) throw typeError(fn, `${arg}'s buffer is detached (it was transferred away, or released when the scope() that made it ended)`);
    throw rangeError(fn, `${arg} has ${t.data.length} elements in its buffer but shape [${t.shape.join(', ')}] needs ${t.size}`);
  }
}

/**
 * Checks the shape of an output (or of anything an op allocates from its inputs' shapes) before allocating it:
 * at most {@link MAX_ELEMENTS} elements, else a RangeError naming `fn` and `what`. Returns the element count.
 */
export function checkOutputSize(fn: string, what: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_ELEMENTS) throw rangeError(fn, `${what} [${shape.join(', ')}] would have ${n} elements, more than MAX_ELEMENTS (${MAX_ELEMENTS})`);
  return n;
}

/**
 * Checks the dimensions of weights about to be packed: packing keeps per-row and per-column state, so each of
 * `k`, `n` must be at most {@link MAX_ELEMENTS} even when the other is 0.
 */
export function checkPackDims(fn: string, k: number, n: number): void {
  if (k > MAX_ELEMENTS || n > MAX_ELEMENTS)
    throw rangeError(fn, `packed weights [K ${k}, N ${n}]: each dimension must be at most MAX_ELEMENTS (${MAX_ELEMENTS})`);
}

/**
 * Runs `alloc` (the allocation of an output of `shape` and `bytesPer`-byte elements) and turns an allocation failure
 * into a RangeError naming `fn` and the size, instead of a message from the allocator.
 */
export function allocOrThrow<T>(fn: string, shape: readonly number[], bytesPer: number, alloc: () => T): T {
  try {
    return alloc();
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const n = shape.reduce((a, b) => a * b, 1);
    throw rangeError(fn, `cannot allocate the output [${shape.join(', ')}] (${n * bytesPer} bytes): out of memory (${e.message})`);
  }
}

/**
 * Refuses an output whose memory overlaps an input's with a RangeError naming both (same ArrayBuffer or
 * SharedArrayBuffer and intersecting byte ranges; two views of different buffers never overlap). `exactOk`: the
 * op computes element i from input element i only, so an output that is exactly the input (same buffer, offset
 * and length: in place) is allowed; any other overlap is refused, since the kernel would read elements it already
 * overwrote. Every op taking `out` calls this for each array it reads (a pointer compare when the buffers differ).
 */
export function checkOverlap(fn: string, out: ArrayBufferView, arg: string, input: ArrayBufferView | null | undefined, exactOk = false): void {
  if (!input || input.buffer !== out.buffer) return;
  const o0 = out.byteOffset, o1 = o0 + out.byteLength;
  const i0 = input.byteOffset, i1 = i0 + input.byteLength;
  if (!(o0 < i1 && i0 < o1)) return;
  if (exactOk && o0 === i0 && o1 === i1) return;
  throw rangeError(
    fn,
    `out (bytes [${o0}, ${o1}) of its buffer) overlaps ${arg} (bytes [${i0}, ${i1}) of the same buffer): ` +
      (exactOk ? `out may be ${arg} itself (in place) but not a shifted or partial view of it` : `the result would read elements it already overwrote; write to a separate tensor`),
  );
}

// The cast behind `Tensor.prototype.to`: the numeric default here, wrapped by families through registerCast
// (src/ops/registry.ts), so this module needs nothing from the registry.
const INT_RANGE: Record<string, [number, number]> = { int8: [-128, 127], uint8: [0, 255], int32: [-2147483648, 2147483647] };

/** Default numeric cast between float32, int8, uint8 and int32 (round half to even, saturate; NaN → 0). */
function numericCast(t: Tensor, dtype: DType): Tensor {
  const num = ['float32', 'int8', 'uint8', 'int32'];
  if (!num.includes(t.dtype) || !num.includes(dtype))
    throw typeError('to', `no cast from ${t.dtype} to ${dtype} is available (float16/bfloat16 casts need the half-precision module)`);
  const src = t.data;
  const n = t.size;
  let out: Float32Array | Int8Array | Uint8Array | Int32Array;
  if (dtype === 'float32') {
    out = Float32Array.from(src as ArrayLike<number>);
  } else {
    const [lo, hi] = INT_RANGE[dtype];
    out = dtype === 'int8' ? new Int8Array(n) : dtype === 'uint8' ? new Uint8Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = src[i];
      let r = v !== v ? 0 : Math.round(v);
      if (Math.abs(v - Math.trunc(v)) === 0.5) r = 2 * Math.round(v / 2); // half to even
      out[i] = r < lo ? lo : r > hi ? hi : r;
    }
  }
  return new Tensor(out, t.shape, dtype, n);
}

/** @internal The cast used by `Tensor.to` and `cast`; families wrap it with {@link registerCast}. */
export const castHook: { fn: (t: Tensor, dtype: DType) => Tensor } = { fn: numericCast };

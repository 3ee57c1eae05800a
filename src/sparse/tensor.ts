/**
 * Sparse weights: {@link SparseTensor} in CSR, block-CSR (BSR) or packed N:M form, conversion from and to dense,
 * and validation of user-supplied arrays. `linear(x, sparse)` is in ./linear.ts (docs/sparse.md).
 * @module
 */
import { describe, ownKey, rangeError, typeError, options } from '../errors.js';
import { native } from '../native.js';
import type { NativeSparseF32, NativeSparseS8 } from '../native.js';
import { checkTensor, Tensor } from '../tensor.js';
import { QuantizedTensor, quantize } from '../int8/index.js';
import { allocF32 } from '../alloc.js';

/** Storage format of a {@link SparseTensor}. */
export type SparseFormat = 'csr' | 'bsr' | 'nm';

/** Options of {@link toSparse}. */
export interface ToSparseOptions {
  /** 'csr' (default), 'bsr' (block CSR, with `block`) or 'nm' (packed N:M, with `nm`). */
  format?: SparseFormat;
  /** BSR block [rows, cols]; default [1, 16]. */
  block?: readonly [number, number];
  /** N:M pattern [n, m] along the input dimension (at most n nonzeros in every m); default [2, 4]. */
  nm?: readonly [number, number];
  /** Index array type: 'auto' (default: Uint16Array when the column count fits, else Int32Array), 'uint16', 'int32'. */
  indexType?: 'auto' | 'uint16' | 'int32';
  /**
   * 'float32' (default for a float32 `w`) or 'int8': quantize each output row symmetrically (scale = max|w_row|/127)
   * and run the int8 sparse kernels (VNNI). A symmetric int8 QuantizedTensor input is always int8.
   */
  dtype?: 'float32' | 'int8';
}

/** How `linear` chooses between the sparse kernel and the dense GEMM for a {@link SparseTensor}. */
export type SparseKernelMode = 'auto' | 'sparse' | 'dense';

const FORMAT_CODE: Record<SparseFormat, number> = { csr: 0, bsr: 1, nm: 2 };
const MODE_CODE: Record<SparseKernelMode, number> = { auto: 0, sparse: 1, dense: 2 };

/** Arrays of a CSR matrix as given to {@link sparseCsr}. */
export interface CsrInit {
  /** [rows, cols] of the dense matrix (a Linear weight: [out, in]). */
  shape: readonly [number, number];
  /** rows + 1 offsets into colIdx/values, starting at 0, non-decreasing. */
  rowPtr: Int32Array;
  /** Column of each stored value, strictly increasing within a row. */
  colIdx: Uint16Array | Int32Array;
  /** float32 values, or int8 values with `scales`. */
  values: Float32Array | Int8Array;
  /** int8 only: one dequantization scale per row (positive, finite): w = scale[row] · q. */
  scales?: Float32Array;
}

/**
 * Arrays of a block-CSR matrix as given to {@link sparseBsr}: {@link CsrInit}'s arrays over blocks. `rowPtr` holds
 * ceil(rows / blockRows) + 1 offsets into the blocks, `colIdx` the block column (column / blockCols) of each block,
 * strictly increasing within a block row, and `values` blocks × blockRows × blockCols values, each block row-major
 * (entries outside the matrix must be 0); int8 `scales` are per row, as for CSR.
 */
export interface BsrInit extends CsrInit {
  /** Block [rows, cols], each in 1..64. */
  blockShape: readonly [number, number];
}

/** Arrays of a packed N:M matrix as given to {@link sparseNm}. */
export interface NmInit {
  shape: readonly [number, number];
  /** [n, m]: each group of m consecutive columns keeps n slots (1 <= n <= m <= 16; cols % m == 0). */
  nm: readonly [number, number];
  /** rows × (cols / m) × n slot values (unused slots hold 0). */
  values: Float32Array | Int8Array;
  /** int8 only: one scale per row. */
  scales?: Float32Array;
  /** Slot offsets within their group, two 4-bit offsets per byte (low nibble first), ceil(cols/m·n / 2) bytes per
   * row; strictly increasing within a group. */
  indices: Uint8Array;
}

/**
 * A sparse matrix, normally a pruned Linear weight [out, in]: float32, or int8 with one scale per row (pruned and
 * quantized). Immutable: the arrays are validated when the tensor is made and copied into native memory on first
 * use, so later writes to them have no effect on `linear`. Make one with {@link toSparse} or {@link sparseCsr} /
 * {@link sparseBsr} / {@link sparseNm}.
 */
export class SparseTensor {
  /** Storage format. */
  readonly format: SparseFormat;
  /** Element type of `values`: float32, or int8 (dequantized by `scales`). */
  readonly dtype: 'float32' | 'int8';
  /** [rows, cols] of the dense matrix. */
  readonly shape: readonly [number, number];
  /** CSR: row offsets; BSR: block-row offsets; null for N:M. */
  readonly rowPtr: Int32Array | null;
  /** CSR: column of each value; BSR: block column of each block; null for N:M. */
  readonly colIdx: Uint16Array | Int32Array | null;
  /** Stored values (CSR: one per index; BSR: whole blocks; N:M: n slots per group). */
  readonly values: Float32Array | Int8Array;
  /** int8: the scale of each row (w = scales[row] · q); null for float32. */
  readonly scales: Float32Array | null;
  /** BSR block [rows, cols], else null. */
  readonly blockShape: readonly [number, number] | null;
  /** N:M [n, m], else null. */
  readonly nm: readonly [number, number] | null;
  /** N:M slot offsets (two per byte), else null. */
  readonly indices: Uint8Array | null;
  #handle: NativeSparseF32 | NativeSparseS8 | null = null;
  #nnz = -1;

  /** @internal Use the factory functions; arrays must already be validated. */
  constructor(
    format: SparseFormat,
    shape: readonly [number, number],
    rowPtr: Int32Array | null,
    colIdx: Uint16Array | Int32Array | null,
    values: Float32Array | Int8Array,
    blockShape: readonly [number, number] | null,
    nm: readonly [number, number] | null,
    indices: Uint8Array | null,
    scales: Float32Array | null = null,
  ) {
    if (!Array.isArray(shape) || shape.length !== 2 || !(values instanceof Float32Array || values instanceof Int8Array))
      throw typeError('SparseTensor', `instances are made by toSparse(), sparseCsr(), sparseBsr() or sparseNm(), not by calling the constructor (got shape ${describe(shape)}, values ${describe(values)})`);
    this.format = format;
    this.dtype = values instanceof Int8Array ? 'int8' : 'float32';
    this.shape = Object.freeze([shape[0], shape[1]]) as readonly [number, number];
    this.rowPtr = rowPtr;
    this.colIdx = colIdx;
    this.values = values;
    this.scales = scales;
    this.blockShape = blockShape ? (Object.freeze([blockShape[0], blockShape[1]]) as readonly [number, number]) : null;
    this.nm = nm ? (Object.freeze([nm[0], nm[1]]) as readonly [number, number]) : null;
    this.indices = indices;
  }

  /** Number of rows × cols of the dense matrix. */
  get size(): number {
    return this.shape[0] * this.shape[1];
  }
  /** Values stored (including explicit zeros in blocks and N:M slots). */
  get stored(): number {
    return this.values.length;
  }
  /** Stored values that are nonzero: the exact count of nonzero entries of the dense matrix. */
  get nnz(): number {
    if (this.#nnz < 0) this.#nnz = this.native().nonzeros;
    return this.#nnz;
  }
  /** nnz / size (0 for an empty matrix). */
  get density(): number {
    return this.size === 0 ? 0 : this.nnz / this.size;
  }
  /** 1 − density. */
  get sparsity(): number {
    return this.size === 0 ? 0 : 1 - this.density;
  }
  /**
   * Bytes of native memory held now: the validated copy in the form the kernels run (CSR that the chunked kernel
   * runs is repacked into chunks by the first sparse call, about 5/6 of its CSR bytes, and the CSR arrays are
   * released), plus the dense fallback copy or N:M panels once one was needed.
   */
  get bytes(): number {
    return this.native().bytes;
  }

  /** The dense matrix: float32, or the int8 values (multiply row r by `scales[r]` to dequantize). */
  toDense(): Tensor<'float32'> | Tensor<'int8'> {
    const [n, k] = this.shape;
    if (this.dtype === 'int8') {
      const out = new Int8Array(n * k);
      native.sparseS8ToDense(this.native() as NativeSparseS8, out);
      return new Tensor(out, [n, k], 'int8', n * k);
    }
    const out = allocF32(n * k);
    native.sparseToDense(this.native() as NativeSparseF32, out);
    return new Tensor(out, [n, k], 'float32', n * k);
  }

  /**
   * The kernel `linear` runs for `m` rows of activations under the current ISA cap (a sparse kernel such as
   * `f32_spmm_csr_xt64__avx512f`, or the dense fallback `f32_gemm_…` / `s8_gemm_…`).
   */
  kernelFor(m: number, mode: SparseKernelMode = 'auto'): string {
    checkCount('kernelFor', 'm', m);
    const c = modeCode('kernelFor', mode);
    const h = this.native();
    return this.dtype === 'int8' ? native.sparseS8KernelFor(h as NativeSparseS8, m, c) : native.sparseKernelFor(h as NativeSparseF32, m, c);
  }

  /**
   * The crossover: the highest density at which the sparse kernel beats the dense one at M = m (float32: stored
   * values / size for this format; int8: stored 4-column groups × 4 / size).
   */
  maxSparseDensity(m: number): number {
    checkCount('maxSparseDensity', 'm', m);
    const h = this.native();
    return this.dtype === 'int8' ? native.sparseS8MaxDensity(h as NativeSparseS8, m) : native.sparseMaxDensity(h as NativeSparseF32, m);
  }

  /** @internal The validated native copy (made on first use; its C++ constructor re-checks every array). */
  native(): NativeSparseF32 | NativeSparseS8 {
    if (!this.#handle) {
      const [n, k] = this.shape;
      const a = this.blockShape ? this.blockShape[0] : this.nm ? this.nm[0] : 0;
      const b = this.blockShape ? this.blockShape[1] : this.nm ? this.nm[1] : 0;
      const f = FORMAT_CODE[this.format];
      this.#handle =
        this.values instanceof Int8Array
          ? new native.SparseS8(f, n, k, this.rowPtr, this.colIdx, this.values, a, b, this.indices, this.scales as Float32Array)
          : new native.SparseF32(f, n, k, this.rowPtr, this.colIdx, this.values, a, b, this.indices);
    }
    return this.#handle;
  }
}

function checkCount(fn: string, arg: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw typeError(fn, `${arg} must be a non-negative integer, got ${describe(v)}`);
}

/** @internal */
export function modeCode(fn: string, mode: unknown): number {
  if (mode === undefined || mode === null) return 0;
  const c = ownKey(MODE_CODE, mode) ? MODE_CODE[mode] : undefined;
  if (c === undefined) throw typeError(fn, `sparseKernel must be 'auto', 'sparse' or 'dense', got ${describe(mode)}`);
  return c;
}

function checkShape2(fn: string, shape: unknown): readonly [number, number] {
  if (!Array.isArray(shape) || shape.length !== 2) throw typeError(fn, `shape must be [rows, cols], got ${describe(shape)}`);
  for (let i = 0; i < 2; i++)
    if (!Number.isInteger(shape[i]) || shape[i] < 0 || shape[i] > 2 ** 31)
      throw rangeError(fn, `shape[${i}] must be an integer in [0, 2^31], got ${describe(shape[i])}`);
  if (shape[0] * shape[1] > 2 ** 31 - 1) throw rangeError(fn, `shape [${shape[0]}, ${shape[1]}] has more than 2^31 - 1 entries`);
  return [shape[0], shape[1]];
}

function checkPair(fn: string, arg: string, v: unknown, lo: number, hi: number): readonly [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x)))
    throw typeError(fn, `${arg} must be a pair of integers, got ${describe(v)}`);
  if (v[0] < lo || v[0] > hi || v[1] < lo || v[1] > hi) throw rangeError(fn, `${arg} [${v[0]}, ${v[1]}] must be within [${lo}, ${hi}]`);
  return [v[0], v[1]];
}

function checkIndexArray(fn: string, arg: string, v: unknown): asserts v is Uint16Array | Int32Array {
  if (!(v instanceof Uint16Array) && !(v instanceof Int32Array)) throw typeError(fn, `${arg} must be a Uint16Array or an Int32Array, got ${describe(v)}`);
}

// Row pointers and sorted, in-range indices (shared by CSR and BSR). Plain loops: this runs once per weight.
function checkCompressed(fn: string, rows: number, limit: number, rowPtr: unknown, colIdx: unknown, ptrName: string, idxName: string): number {
  if (!(rowPtr instanceof Int32Array)) throw typeError(fn, `${ptrName} must be an Int32Array, got ${describe(rowPtr)}`);
  checkIndexArray(fn, idxName, colIdx);
  if (rowPtr.length !== rows + 1) throw rangeError(fn, `${ptrName} has ${rowPtr.length} entries, expected ${rows + 1} (rows + 1)`);
  if (rowPtr[0] !== 0) throw rangeError(fn, `${ptrName}[0] must be 0, got ${rowPtr[0]}`);
  for (let r = 0; r < rows; r++) {
    const b = rowPtr[r];
    const e = rowPtr[r + 1];
    if (e < b) throw rangeError(fn, `${ptrName}[${r + 1}] (${e}) < ${ptrName}[${r}] (${b}): row pointers must be non-decreasing`);
    if (e > colIdx.length) throw rangeError(fn, `${ptrName}[${r + 1}] (${e}) exceeds ${idxName}.length (${colIdx.length})`);
    let prev = -1;
    for (let j = b; j < e; j++) {
      const c = colIdx[j];
      if (c < 0 || c >= limit) throw rangeError(fn, `${idxName}[${j}] (${c}) in row ${r} is out of range [0, ${limit})`);
      if (c <= prev) throw rangeError(fn, `${idxName}[${j}] (${c}) in row ${r} is not greater than the previous index (${prev}): indices must be sorted and unique`);
      prev = c;
    }
  }
  const entries = rowPtr[rows];
  if (colIdx.length !== entries) throw rangeError(fn, `${idxName} has ${colIdx.length} entries, ${ptrName}[${rows}] says ${entries}`);
  return entries;
}

// float32 values, or int8 values with one positive finite scale per row.
function checkValues(fn: string, values: unknown, scales: unknown, rows: number): Float32Array | null {
  if (values instanceof Float32Array) {
    if (scales !== undefined && scales !== null) throw typeError(fn, 'scales are only for int8 values (values is a Float32Array)');
    return null;
  }
  if (!(values instanceof Int8Array)) throw typeError(fn, `values must be a Float32Array or an Int8Array, got ${describe(values)}`);
  if (!(scales instanceof Float32Array)) throw typeError(fn, `scales must be a Float32Array (one per row) with int8 values, got ${describe(scales)}`);
  if (scales.length !== rows) throw rangeError(fn, `scales has ${scales.length} values, needs one per row (${rows})`);
  for (let i = 0; i < rows; i++)
    if (!(scales[i] > 0) || !Number.isFinite(scales[i])) throw rangeError(fn, `scales[${i}] must be positive and finite, got ${scales[i]}`);
  return scales;
}

/** Wraps user-supplied CSR arrays (validated: lengths, sorted and in-range column indices). Not copied here. */
export function sparseCsr(init: CsrInit): SparseTensor {
  const fn = 'sparseCsr';
  if (typeof init !== 'object' || init === null) throw typeError(fn, `init must be an object, got ${describe(init)}`);
  const [n, k] = checkShape2(fn, init.shape);
  const nnz = checkCompressed(fn, n, k, init.rowPtr, init.colIdx, 'rowPtr', 'colIdx');
  const scales = checkValues(fn, init.values, init.scales, n);
  if (init.values.length !== nnz) throw rangeError(fn, `values has ${init.values.length} entries, rowPtr[${n}] says ${nnz}`);
  return new SparseTensor('csr', [n, k], init.rowPtr, init.colIdx, init.values, null, null, null, scales);
}

/** Wraps user-supplied block-CSR arrays (validated, including zeros outside the matrix in edge blocks). */
export function sparseBsr(init: BsrInit): SparseTensor {
  const fn = 'sparseBsr';
  if (typeof init !== 'object' || init === null) throw typeError(fn, `init must be an object, got ${describe(init)}`);
  const [n, k] = checkShape2(fn, init.shape);
  const [bh, bw] = checkPair(fn, 'blockShape', init.blockShape, 1, 64);
  const brows = Math.ceil(n / bh);
  const bcols = Math.ceil(k / bw);
  const nb = checkCompressed(fn, brows, bcols, init.rowPtr, init.colIdx, 'rowPtr', 'colIdx');
  const v = init.values;
  const scales = checkValues(fn, v, init.scales, n);
  if (v.length !== nb * bh * bw) throw rangeError(fn, `values has ${v.length} entries, expected ${nb} blocks × ${bh * bw} = ${nb * bh * bw}`);
  if (n % bh !== 0 || k % bw !== 0) {
    const colIdx = init.colIdx;
    for (let br = 0; br < brows; br++)
      for (let b = init.rowPtr[br]; b < init.rowPtr[br + 1]; b++)
        for (let i = 0; i < bh; i++)
          for (let j = 0; j < bw; j++)
            if ((br * bh + i >= n || colIdx[b] * bw + j >= k) && v[(b * bh + i) * bw + j] !== 0)
              throw rangeError(fn, `values of block ${b} at [${i}, ${j}] lie outside the [${n}, ${k}] matrix and must be 0`);
  }
  return new SparseTensor('bsr', [n, k], init.rowPtr, init.colIdx, v, [bh, bw], null, null, scales);
}

/** Wraps user-supplied packed N:M arrays (validated: lengths, offsets < m and increasing within each group). */
export function sparseNm(init: NmInit): SparseTensor {
  const fn = 'sparseNm';
  if (typeof init !== 'object' || init === null) throw typeError(fn, `init must be an object, got ${describe(init)}`);
  const [rows, k] = checkShape2(fn, init.shape);
  const [n, m] = checkPair(fn, 'nm', init.nm, 1, 16);
  if (n > m) throw rangeError(fn, `nm [${n}, ${m}]: n must not exceed m`);
  if (k % m !== 0) throw rangeError(fn, `shape[1] (${k}) must be a multiple of m (${m}) for the n:m format`);
  const perRow = (k / m) * n;
  const rbytes = Math.ceil(perRow / 2);
  const scales = checkValues(fn, init.values, init.scales, rows);
  if (!(init.indices instanceof Uint8Array)) throw typeError(fn, `indices must be a Uint8Array, got ${describe(init.indices)}`);
  if (init.values.length !== rows * perRow) throw rangeError(fn, `values has ${init.values.length} entries, expected ${rows * perRow} (rows × cols/m × n)`);
  if (init.indices.length !== rows * rbytes) throw rangeError(fn, `indices has ${init.indices.length} bytes, expected ${rows * rbytes} (rows × ceil(cols/m × n / 2))`);
  const ib = init.indices;
  for (let r = 0; r < rows; r++)
    for (let g = 0; g < k / m; g++) {
      let prev = -1;
      for (let s = 0; s < n; s++) {
        const t = g * n + s;
        const off = (ib[r * rbytes + (t >> 1)] >> ((t & 1) * 4)) & 15;
        if (off >= m) throw rangeError(fn, `indices: offset ${off} of slot ${s} in group ${g} of row ${r} is >= m (${m})`);
        if (off <= prev) throw rangeError(fn, `indices: offset ${off} of slot ${s} in group ${g} of row ${r} is not greater than the previous offset (${prev}): offsets must be sorted and unique`);
        prev = off;
      }
    }
  return new SparseTensor('nm', [rows, k], null, null, init.values, null, [n, m], ib, scales);
}

/**
 * Converts a dense matrix (a pruned Linear weight [out, in]) to a {@link SparseTensor}: CSR keeps the nonzeros;
 * BSR keeps every block with a nonzero; N:M requires at most n nonzeros in every group of m columns (prune with
 * pattern 'n:m' first). `w` may be float32 (with `dtype: 'int8'` it is quantized per output row, symmetric) or a
 * symmetric int8 {@link QuantizedTensor} with per-tensor or per-row (axis 0) scales. Runs in native code.
 */
export function toSparse(w: Tensor | QuantizedTensor, opts: ToSparseOptions | null = {}): SparseTensor {
  opts = options('toSparse', opts);
  const fn = 'toSparse';
  if (typeof opts !== 'object' || opts === null) throw typeError(fn, `opts must be an object, got ${describe(opts)}`);
  const dtype = opts.dtype ?? (w instanceof QuantizedTensor ? 'int8' : 'float32');
  if (dtype !== 'float32' && dtype !== 'int8') throw typeError(fn, `dtype must be 'float32' or 'int8', got ${describe(dtype)}`);
  let q: QuantizedTensor | null = null;
  if (w instanceof QuantizedTensor) {
    if (dtype !== 'int8') throw typeError(fn, `a QuantizedTensor converts to an int8 SparseTensor, not ${dtype}`);
    checkTensor(fn, 'w.data', w.data); // its values may have been transferred away since quantize()
    q = w;
  } else {
    checkTensor(fn, 'w', w);
    if (w.dtype !== 'float32') throw typeError(fn, `w.dtype must be float32 (or pass a QuantizedTensor), got ${w.dtype}`);
    if (w.ndim !== 2) throw rangeError(fn, `w must be 2-D [out, in], got shape [${w.shape.join(', ')}]`);
    // Per-row symmetric: zeros stay exactly zero, so the sparsity pattern survives quantization.
    if (dtype === 'int8') q = quantize(w, { dtype: 'int8', scheme: 'symmetric', axis: 0 });
  }
  let data: Float32Array;
  let scales: Float32Array | null = null;
  let n: number;
  let k: number;
  if (q) {
    const d = q.data;
    if (d.dtype !== 'int8') throw typeError(fn, `the QuantizedTensor must hold int8 data, got ${d.dtype}`);
    if (d.ndim !== 2) throw rangeError(fn, `the QuantizedTensor must be 2-D [out, in], got shape [${d.shape.join(', ')}]`);
    [n, k] = d.shape;
    for (let i = 0; i < q.zeroPoint.length; i++)
      if (q.zeroPoint[i] !== 0) throw rangeError(fn, `zeroPoint[${i}] is ${q.zeroPoint[i]}: sparse int8 weights must be symmetric (zero point 0)`);
    if (q.axis !== null && q.axis !== 0) throw rangeError(fn, `the QuantizedTensor's scales must be per tensor or per row (axis 0), got axis ${q.axis}`);
    scales = q.axis === 0 ? Float32Array.from(q.scale) : new Float32Array(n).fill(q.scale[0]);
    data = Float32Array.from(d.data as Int8Array);
  } else {
    data = (w as Tensor).data as Float32Array;
    [n, k] = (w as Tensor).shape;
  }
  const format = opts.format ?? 'csr';
  if (!ownKey(FORMAT_CODE, format)) throw typeError(fn, `format must be 'csr', 'bsr' or 'nm', got ${describe(format)}`);
  let a = 0;
  let b = 0;
  if (format === 'bsr') [a, b] = checkPair(fn, 'block', opts.block ?? [1, 16], 1, 64);
  if (format === 'nm') {
    [a, b] = checkPair(fn, 'nm', opts.nm ?? [2, 4], 1, 16);
    if (a > b) throw rangeError(fn, `nm [${a}, ${b}]: n must not exceed m`);
  }
  const limit = format === 'bsr' ? Math.ceil(k / b) : k;
  const it = opts.indexType ?? 'auto';
  if (it !== 'auto' && it !== 'uint16' && it !== 'int32') throw typeError(fn, `indexType must be 'auto', 'uint16' or 'int32', got ${describe(it)}`);
  if (it === 'uint16' && limit > 65536) throw rangeError(fn, `indexType 'uint16' needs at most 65536 ${format === 'bsr' ? 'block columns' : 'columns'}, w has ${limit}`);
  const idx16 = it === 'uint16' || (it === 'auto' && limit <= 65536);
  const r = native.denseToSparse(data, n, k, FORMAT_CODE[format], a, b, idx16);
  const values = scales ? Int8Array.from(r.values) : r.values;
  if (format === 'nm') return new SparseTensor('nm', [n, k], null, null, values, null, [a, b], r.indices, scales);
  return new SparseTensor(format, [n, k], r.rowPtr, r.colIdx, values, format === 'bsr' ? [a, b] : null, null, null, scales);
}

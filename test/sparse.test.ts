import { afterEach, describe, expect, it } from 'vitest';
import {
  getMaxIsa, linear, linearAsync, packWeights, prune, rand, setMaxIsa, setMonitoring, resetStats, sparseBsr, sparseCsr, sparseNm,
  SparseTensor, stats, tensor, toSparse, lastSparseKernel, Tensor, cpuInfo, quantize,
} from '../src/index.js';
import { compiledIsas, expectClose, itIsa, refMatmul, supportedIsas } from './helpers.js';

// Sparse kernels sum the same products as the dense reference in another order: f32 error stays below
// k·eps·Σ|x·w|; 64·eps·Σ|x·w| + 1e-6 is generous for k <= 300 yet catches any wrong or dropped term.
const SPARSE_REL_TOL = 64 * 2 ** -23;
const SPARSE_ABS_TOL = 1e-6;

const best = getMaxIsa();
afterEach(() => {
  setMaxIsa(best);
  setMonitoring(false);
});

type Fmt = { label: string; format: 'csr' | 'bsr' | 'nm'; block?: [number, number]; nm?: [number, number] };
const FORMATS: Fmt[] = [
  { label: 'csr', format: 'csr' },
  { label: 'bsr 1x16', format: 'bsr', block: [1, 16] },
  { label: 'bsr 1x8', format: 'bsr', block: [1, 8] },
  { label: 'bsr 4x4', format: 'bsr', block: [4, 4] },
  { label: 'bsr 2x3', format: 'bsr', block: [2, 3] },
  { label: 'nm 2:4', format: 'nm', nm: [2, 4] },
  { label: 'nm 4:8', format: 'nm', nm: [4, 8] },
  { label: 'nm 1:4', format: 'nm', nm: [1, 4] },
  { label: 'nm 3:8', format: 'nm', nm: [3, 8] },
];

function pruned(fmt: Fmt, n: number, k: number, seed: number, sparsity = 0.7): Tensor<'float32'> {
  const w = rand([n, k], { seed });
  if (fmt.format === 'nm') return prune(w, { pattern: 'n:m', nm: fmt.nm }).weight;
  if (fmt.format === 'bsr') return prune(w, { pattern: 'block', block: fmt.block, sparsity }).weight;
  return prune(w, { sparsity }).weight;
}

function check(x: Tensor, wd: Tensor, y: Tensor, bias: Tensor | null, act: 'none' | 'relu' | 'gelu', what: string) {
  const [n, k] = wd.shape;
  const m = x.size / k;
  const r = refMatmul(x.data as Float32Array, m, k, wd.data as Float32Array, n, true, bias ? (bias.data as Float32Array) : null, act);
  expectClose(y, r.c, r.mag, SPARSE_REL_TOL, SPARSE_ABS_TOL, what);
}

describe('sparse linear on every ISA this CPU has, every format, against the dense reference', () => {
  for (const isa of compiledIsas()) {
    itIsa(isa)(`${isa}: all formats, M around the vector width, row and xt kernels`, () => {
      setMaxIsa(isa);
      let seed = 1;
      for (const fmt of FORMATS) {
        for (const [n, k] of [[17, 24], [33, 64], [8, 120]] as const) {
          const wd = pruned(fmt, n, k, seed++);
          const sp = toSparse(wd, { format: fmt.format, block: fmt.block, nm: fmt.nm });
          for (const m of [1, 2, 3, 4, 5, 8, 16, 17, 65]) {
            const x = rand([m, k], { seed: seed++ });
            const act = (['none', 'relu', 'gelu'] as const)[seed % 3];
            const bias = seed % 2 ? rand([n], { seed: seed++ }) : null;
            const y = linear(x, sp, bias, { activation: act, sparseKernel: 'sparse' });
            const kernel = lastSparseKernel();
            expect(kernel).toMatch(/^f32_spmm_/);
            expect(kernel).toBe(sp.kernelFor(m, 'sparse'));
            check(x, wd, y, bias, act, `${isa} ${fmt.label} m=${m} n=${n} k=${k} (${kernel})`);
          }
        }
      }
    });
  }
});

describe('sparse linear edge cases', () => {
  it('empty rows, fully dense rows, one nonzero, all-zero matrix', () => {
    const n = 6;
    const k = 37;
    const d = new Float32Array(n * k);
    for (let j = 0; j < k; j++) d[1 * k + j] = (j % 7) - 3; // dense row (with a few zeros)
    d[3 * k + 36] = 2.5; // one nonzero, in the last column
    d[5 * k + 0] = -1;
    const wd = tensor(d, [n, k]);
    for (const fmt of FORMATS.filter((f) => f.format !== 'nm')) {
      const sp = toSparse(wd, { format: fmt.format, block: fmt.block });
      for (const m of [1, 3, 20]) {
        const x = rand([m, k], { seed: m });
        check(x, wd, linear(x, sp, null, { sparseKernel: 'sparse' }), null, 'none', `${fmt.label} m=${m}`);
      }
    }
    const zero = toSparse(tensor(new Float32Array(4 * 8), [4, 8]));
    expect(zero.nnz).toBe(0);
    const bias = rand([4], { seed: 3 });
    const y = linear(rand([2, 8], { seed: 4 }), zero, bias, { activation: 'relu', sparseKernel: 'sparse' });
    for (let i = 0; i < 8; i++) expect(y.data[i]).toBe(Math.max(0, bias.data[i % 4] as number));
  });

  it('CSR that the chunked kernel runs keeps one copy: the chunk pack serves every M and replaces the CSR arrays', () => {
    // K = 600 spans several K blocks on AVX-512 (128 columns) and AVX2 (255); 70 % sparse keeps the chunked path.
    for (const isa of supportedIsas().filter((i) => i === 'avx2' || i === 'avx512')) {
      setMaxIsa(isa);
      const wd = pruned(FORMATS[0], 75, 600, 21);
      const sp = toSparse(wd);
      const csrBytes = sp.bytes;
      let packed = 0;
      for (const m of [1, 2, 8, 9, 64, 130]) {
        const x = rand([m, 600], { seed: 22 + m });
        const bias = rand([75], { seed: 23 });
        expect(sp.kernelFor(m, 'sparse')).toMatch(/^f32_spmm_csr_chunks_xt/);
        check(x, wd, linear(x, sp, bias, { activation: 'relu', sparseKernel: 'sparse' }), bias, 'relu', `${isa} chunked m=${m}`);
        expect(lastSparseKernel()).toBe(sp.kernelFor(m, 'sparse'));
        // Packed by the first call (M = 1) and never again; CSR's 6 bytes per value become 5 per slot.
        if (m === 1) packed = sp.bytes;
        expect(sp.bytes, `${isa} m=${m}`).toBe(packed);
      }
      expect(packed).toBeLessThan(csrBytes);
      expect(sp.toDense().data).toEqual(wd.data);
      // A variant without a chunked kernel gets the CSR arrays back (rebuilt once from the pack, then kept).
      setMaxIsa('scalar');
      const x = rand([3, 600], { seed: 24 });
      check(x, wd, linear(x, sp, null, { sparseKernel: 'sparse' }), null, 'none', `${isa} then scalar`);
      expect(lastSparseKernel()).toMatch(/^f32_spmm_csr_(row|xt)/);
      expect(sp.bytes).toBe(packed + csrBytes);
      setMaxIsa(isa);
      check(x, wd, linear(x, sp, null, { sparseKernel: 'sparse' }), null, 'none', `${isa} again`);
      expect(sp.bytes, `${isa}: the chunked call releases the rebuilt CSR`).toBe(packed);
    }
  });

  it('CSR at M past 8 takes the chunked kernel down to 93.5 % sparsity on AVX-512 (80 % on AVX2), the per-row kernel past it', () => {
    // The driver's measured switches (kCsrChunkMinDensity*, kCsrChunkSparseMinDensity): on AVX-512 85 % ran 15–30 %
    // faster chunked, 90 % (192-column blocks) 15–25 %, 96 % even; on AVX2 85 % ran 4–8 % slower chunked.
    for (const isa of supportedIsas().filter((i) => i === 'avx2' || i === 'avx512')) {
      setMaxIsa(isa);
      const chunkedOn512 = isa === 'avx512' ? /^f32_spmm_csr_chunks_xt/ : /^f32_spmm_csr_xt/;
      for (const [sparsity, kernel] of [[0.75, /^f32_spmm_csr_chunks_xt/], [0.85, chunkedOn512], [0.9, chunkedOn512], [0.95, /^f32_spmm_csr_xt/]] as const) {
        const wd = pruned(FORMATS[0], 48, 200, 41, sparsity);
        const sp = toSparse(wd);
        expect(sp.kernelFor(64, 'sparse'), `${isa} ${sparsity}`).toMatch(kernel);
        const x = rand([20, 200], { seed: 42 });
        check(x, wd, linear(x, sp, null, { sparseKernel: 'sparse' }), null, 'none', `${isa} ${sparsity}`);
        expect(lastSparseKernel()).toMatch(kernel);
      }
      // 85 % with K in one chunk block (K = 100): no chunked copy on any ISA (nothing to gain, twice the memory).
      const small = toSparse(pruned(FORMATS[0], 48, 100, 43, 0.85));
      expect(small.kernelFor(64, 'sparse'), `${isa} 85 % K = 100`).toMatch(/^f32_spmm_csr_xt/);
      // 90 % blocks are 192 columns wide on AVX-512: K = 150 stays per-row there too.
      const small90 = toSparse(pruned(FORMATS[0], 48, 150, 44, 0.9));
      expect(small90.kernelFor(64, 'sparse'), `${isa} 90 % K = 150`).toMatch(/^f32_spmm_csr_xt/);
    }
  });

  it('auto runs M = 1 dense where the weights are chunked and too dense for the chunked kernels to win', () => {
    // Chunked CSR at M = 1 measured slower than dense at 70–75 % (docs/sparse.md): the crossover there is 0.22,
    // while CSR that stays per-row (90 %) keeps the row kernel's 0.55.
    for (const isa of supportedIsas().filter((i) => i === 'avx2' || i === 'avx512')) {
      setMaxIsa(isa);
      const w = rand([48, 600], { seed: 51 });
      const at70 = toSparse(prune(w, { sparsity: 0.7 }).weight);
      expect(at70.maxSparseDensity(1), isa).toBe(0.22);
      expect(at70.kernelFor(1), isa).toMatch(/^f32_gemm_/);
      expect(at70.kernelFor(2), isa).toMatch(/^f32_spmm_csr_chunks_xt/);
      const x = rand([1, 600], { seed: 52 });
      check(x, at70.toDense(), linear(x, at70), null, 'none', `${isa} 70 % M = 1 auto`);
      expect(lastSparseKernel(), isa).toMatch(/^f32_gemm_/);
      const at80 = toSparse(prune(w, { sparsity: 0.8 }).weight);
      expect(at80.kernelFor(1), isa).toMatch(/^f32_spmm_csr_/);
      const at95 = toSparse(prune(w, { sparsity: 0.95 }).weight);
      expect(at95.maxSparseDensity(1), isa).toBe(0.55);
      expect(at95.kernelFor(1), isa).toMatch(/^f32_spmm_csr_(row|xt)/);
    }
  });

  it('accepts x with leading batch dimensions and a preallocated out', () => {
    const wd = pruned(FORMATS[0], 10, 16, 5);
    const sp = toSparse(wd);
    const x = rand([2, 3, 16], { seed: 6 });
    const y = linear(x, sp);
    expect(y.shape).toEqual([2, 3, 10]);
    check(x, wd, y, null, 'none', '3-D x');
    const out = tensor(new Float32Array(60), [6, 10]);
    expect(linear(x.reshape([6, 16]), sp, null, { out })).toBe(out);
  });

  it('toDense returns exactly the pruned weights for every format', () => {
    for (const fmt of FORMATS) {
      const wd = pruned(fmt, 9, 24, 11);
      const sp = toSparse(wd, { format: fmt.format, block: fmt.block, nm: fmt.nm });
      expect(Array.from(sp.toDense().data)).toEqual(Array.from(wd.data));
      let nz = 0;
      for (const v of wd.data) nz += v !== 0 ? 1 : 0;
      expect(sp.nnz).toBe(nz);
      expect(sp.density).toBeCloseTo(nz / wd.size, 12);
    }
  });

  it('uses compact column indices where they fit, Int32Array otherwise', () => {
    const wd = pruned(FORMATS[0], 4, 32, 2);
    expect(toSparse(wd).colIdx).toBeInstanceOf(Uint16Array);
    expect(toSparse(wd, { indexType: 'int32' }).colIdx).toBeInstanceOf(Int32Array);
    const wide = tensor(new Float32Array(2 * 70000), [2, 70000]);
    wide.data[69999] = 1;
    wide.data[70000 + 5] = -2;
    const sp = toSparse(wide);
    expect(sp.colIdx).toBeInstanceOf(Int32Array);
    const x = rand([3, 70000], { seed: 9 });
    check(x, wide, linear(x, sp, null, { sparseKernel: 'sparse' }), null, 'none', 'k=70000');
    expect(() => toSparse(wide, { indexType: 'uint16' })).toThrow(/'uint16' needs at most 65536 columns, w has 70000/);
  });

  it('auto mode falls back to the dense kernel above the crossover and says which ran', () => {
    const dense = toSparse(rand([32, 64], { seed: 1 }));
    expect(dense.density).toBe(1);
    const x = rand([16, 64], { seed: 2 });
    setMonitoring(true);
    resetStats();
    linear(x, dense);
    expect(lastSparseKernel()).toMatch(/^f32_gemm_/);
    expect(dense.kernelFor(16)).toBe(lastSparseKernel());
    const sparse = toSparse(prune(rand([32, 64], { seed: 3 }), { sparsity: 0.95 }).weight);
    linear(x, sparse);
    expect(lastSparseKernel()).toMatch(/^f32_spmm_csr_/);
    expect(sparse.maxSparseDensity(16)).toBeGreaterThan(0.05);
    const recorded = Object.keys(stats().ops ?? {}).join(' ') + JSON.stringify(stats());
    expect(recorded).toContain('f32_spmm_csr_');
    expect(cpuInfo().kernels['linear.sparse.csr']).toMatch(/^f32_spmm_csr_xt/);
    // Forced modes agree.
    const a = linear(x, sparse, null, { sparseKernel: 'dense' });
    const b = linear(x, sparse, null, { sparseKernel: 'sparse' });
    check(x, sparse.toDense(), a, null, 'none', 'forced dense');
    check(x, sparse.toDense(), b, null, 'none', 'forced sparse');
  });

  it('keeps its own validated copy: later writes to the arrays do not reach the kernel', () => {
    const wd = pruned(FORMATS[0], 5, 16, 4);
    const sp = toSparse(wd);
    const x = rand([2, 16], { seed: 1 });
    const y0 = linear(x, sp, null, { sparseKernel: 'sparse' });
    (sp.colIdx as Uint16Array).fill(60000); // would be out of range
    sp.values.fill(7);
    const y1 = linear(x, sp, null, { sparseKernel: 'sparse' });
    expect(Array.from(y1.data)).toEqual(Array.from(y0.data));
    expect(packWeights(sp)).toBe(sp);
  });

  it('linearAsync runs the sparse kernel on the pool', async () => {
    const wd = pruned(FORMATS[5], 12, 32, 8);
    const sp = toSparse(wd, { format: 'nm', nm: [2, 4] });
    const x = rand([7, 32], { seed: 3 });
    const y = await linearAsync(x, sp, null, { activation: 'gelu' });
    check(x, wd, y, null, 'gelu', 'async');
  });
});

describe('user-supplied sparse arrays are validated with clear errors', () => {
  const ok = { shape: [2, 4] as [number, number], rowPtr: Int32Array.of(0, 1, 2), colIdx: Uint16Array.of(0, 3), values: Float32Array.of(1, 2) };
  it('accepts a valid CSR and computes with it', () => {
    const sp = sparseCsr(ok);
    expect(sp).toBeInstanceOf(SparseTensor);
    expect(Array.from(sp.toDense().data)).toEqual([1, 0, 0, 0, 0, 0, 0, 2]);
  });
  it('rejects malformed CSR', () => {
    expect(() => sparseCsr({ ...ok, rowPtr: Int32Array.of(0, 1) })).toThrow(RangeError);
    expect(() => sparseCsr({ ...ok, rowPtr: Int32Array.of(0, 1) })).toThrow('sparseCsr: rowPtr has 2 entries, expected 3 (rows + 1)');
    expect(() => sparseCsr({ ...ok, rowPtr: Int32Array.of(1, 1, 2) })).toThrow('sparseCsr: rowPtr[0] must be 0, got 1');
    expect(() => sparseCsr({ ...ok, rowPtr: Int32Array.of(0, 2, 1) })).toThrow('rowPtr[2] (1) < rowPtr[1] (2): row pointers must be non-decreasing');
    expect(() => sparseCsr({ ...ok, rowPtr: Int32Array.of(0, 1, 3) })).toThrow('rowPtr[2] (3) exceeds colIdx.length (2)');
    expect(() => sparseCsr({ ...ok, colIdx: Uint16Array.of(0, 4) })).toThrow('colIdx[1] (4) in row 1 is out of range [0, 4)');
    expect(() => sparseCsr({ ...ok, colIdx: Int32Array.of(-1, 2) })).toThrow('colIdx[0] (-1) in row 0 is out of range [0, 4)');
    expect(() => sparseCsr({ ...ok, rowPtr: Int32Array.of(0, 2, 2), colIdx: Uint16Array.of(3, 1) })).toThrow(
      'colIdx[1] (1) in row 0 is not greater than the previous index (3): indices must be sorted and unique',
    );
    expect(() => sparseCsr({ ...ok, rowPtr: Int32Array.of(0, 2, 2), colIdx: Uint16Array.of(1, 1) })).toThrow('not greater than the previous index (1)');
    expect(() => sparseCsr({ ...ok, values: Float32Array.of(1) })).toThrow('values has 1 entries, rowPtr[2] says 2');
    expect(() => sparseCsr({ ...ok, colIdx: Uint16Array.of(0, 3, 1) })).toThrow('colIdx has 3 entries, rowPtr[2] says 2');
    expect(() => sparseCsr({ ...ok, colIdx: [0, 3] as unknown as Uint16Array })).toThrow(TypeError);
    expect(() => sparseCsr({ ...ok, colIdx: [0, 3] as unknown as Uint16Array })).toThrow('colIdx must be a Uint16Array or an Int32Array, got [0, 3]');
    expect(() => sparseCsr({ ...ok, rowPtr: Uint32Array.of(0, 1, 2) as unknown as Int32Array })).toThrow('rowPtr must be an Int32Array, got Uint32Array(3)');
    expect(() => sparseCsr({ ...ok, values: Float64Array.of(1, 2) as unknown as Float32Array })).toThrow('values must be a Float32Array');
    expect(() => sparseCsr({ ...ok, shape: [2, -1] as unknown as [number, number] })).toThrow('shape[1] must be an integer in [0, 2^31], got -1');
    expect(() => sparseCsr(null as unknown as typeof ok)).toThrow('sparseCsr: init must be an object, got null');
  });
  it('rejects malformed BSR and N:M', () => {
    const bsr = { shape: [4, 6] as [number, number], blockShape: [4, 4] as [number, number], rowPtr: Int32Array.of(0, 1), colIdx: Uint16Array.of(1), values: new Float32Array(16) };
    expect(sparseBsr(bsr).format).toBe('bsr');
    const bad = new Float32Array(16);
    bad[3] = 1; // column 4 + 3 = 7 >= 6
    expect(() => sparseBsr({ ...bsr, values: bad })).toThrow('values of block 0 at [0, 3] lie outside the [4, 6] matrix and must be 0');
    expect(() => sparseBsr({ ...bsr, colIdx: Uint16Array.of(2) })).toThrow('colIdx[0] (2) in row 0 is out of range [0, 2)');
    expect(() => sparseBsr({ ...bsr, values: new Float32Array(15) })).toThrow('values has 15 entries, expected 1 blocks × 16 = 16');
    expect(() => sparseBsr({ ...bsr, blockShape: [0, 4] })).toThrow('blockShape [0, 4] must be within [1, 64]');
    const nm = { shape: [1, 8] as [number, number], nm: [2, 4] as [number, number], values: new Float32Array(4), indices: Uint8Array.of(0x20, 0x31) };
    expect(Array.from(sparseNm({ ...nm, values: Float32Array.of(1, 2, 3, 4) }).toDense().data)).toEqual([1, 0, 2, 0, 0, 3, 0, 4]);
    expect(() => sparseNm({ ...nm, indices: Uint8Array.of(0x20, 0x13) })).toThrow('offset 1 of slot 1 in group 1 of row 0 is not greater than the previous offset (3)');
    expect(() => sparseNm({ ...nm, indices: Uint8Array.of(0x20, 0x41) })).toThrow('offset 4 of slot 1 in group 1 of row 0 is >= m (4)');
    expect(() => sparseNm({ ...nm, shape: [1, 6] })).toThrow('shape[1] (6) must be a multiple of m (4)');
    expect(() => sparseNm({ ...nm, values: new Float32Array(3) })).toThrow('values has 3 entries, expected 4');
    expect(() => sparseNm({ ...nm, indices: Uint8Array.of(0x20) })).toThrow('indices has 1 bytes, expected 2');
    expect(() => sparseNm({ ...nm, nm: [5, 4] })).toThrow('n must not exceed m');
  });
  it('rejects bad toSparse and linear arguments', () => {
    const w = rand([4, 8], { seed: 1 });
    expect(() => toSparse(w, { format: 'nm', nm: [2, 4] })).toThrow(/row 0, columns 0\.\.3 hold \d nonzeros, more than n = 2/);
    expect(() => toSparse(w, { format: 'coo' as 'csr' })).toThrow("toSparse: format must be 'csr', 'bsr' or 'nm', got 'coo'");
    expect(() => toSparse(rand([4], { seed: 1 }))).toThrow('toSparse: w must be 2-D [out, in], got shape [4]');
    expect(() => toSparse(w, { format: 'bsr', block: [1, 65] })).toThrow('block [1, 65] must be within [1, 64]');
    const sp = toSparse(w);
    expect(() => linear(rand([2, 7], { seed: 1 }), sp)).toThrow('linear: x.shape[1] (7) must equal w.shape[1] (8) (in features)');
    expect(() => linear(rand([2, 8], { seed: 1 }), sp, rand([3], { seed: 1 }))).toThrow('linear: bias has 3 elements ([3]), needs 4');
    expect(() => linear(rand([2, 8], { seed: 1 }), sp, null, { sparseKernel: 'fast' as 'auto' })).toThrow(
      "linear: sparseKernel must be 'auto', 'sparse' or 'dense', got 'fast'",
    );
    expect(() => linear(tensor(new Int32Array(16), [2, 8], 'int32'), sp)).toThrow('linear: x.dtype must be float32 for sparse float32 weights, got int32');
    expect(() => sp.kernelFor(-1)).toThrow('kernelFor: m must be a non-negative integer, got -1');
  });
});

describe('int8 sparse (pruned and quantized) weights', () => {
  // Same quantized activations and weights as the dense int8 path: only f32 dequantization rounding differs.
  const INT8_REL_TOL = 1e-5;
  for (const isa of compiledIsas()) {
    itIsa(isa)(`${isa}: every format agrees with the dense int8 linear on the same quantized weights`, () => {
      setMaxIsa(isa);
      let seed = 40;
      for (const fmt of FORMATS.slice(0, 6)) {
        const [n, k] = [19, 40];
        const wd = pruned(fmt, n, k, seed++, 0.8);
        const q = quantize(wd, { dtype: 'int8', scheme: 'symmetric', axis: 0 });
        const sp = toSparse(q, { format: fmt.format, block: fmt.block, nm: fmt.nm });
        expect(sp.dtype).toBe('int8');
        expect(Array.from(sp.toDense().data)).toEqual(Array.from(q.data.data));
        for (const m of [1, 2, 3, 5, 17, 66]) {
          const x = rand([m, k], { seed: seed++, low: -2, high: 2 });
          const bias = rand([n], { seed: seed++ });
          const act = (['none', 'relu', 'gelu'] as const)[seed % 3];
          const ys = linear(x, sp, bias, { activation: act, sparseKernel: 'sparse' });
          expect(lastSparseKernel()).toMatch(/^s8_spmm_g4_/);
          const yd = linear(x, q, bias, { activation: act });
          const mag = new Float64Array(m * n);
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              let g = Math.abs(bias.data[j] as number);
              for (let p = 0; p < k; p++) g += Math.abs((x.data[i * k + p] as number) * (wd.data[j * k + p] as number));
              mag[i * n + j] = 1 + g;
            }
          expectClose(ys, Float64Array.from(yd.data as Float32Array), mag, INT8_REL_TOL, 0, `${isa} int8 ${fmt.label} m=${m}`);
        }
      }
    });
  }

  it('quantizes a float32 weight per row with dtype int8, keeps zeros, and falls back to the dense int8 GEMM', () => {
    const wd = prune(rand([24, 64], { seed: 3 }), { sparsity: 0.9 }).weight;
    const sp = toSparse(wd, { dtype: 'int8' });
    expect(sp.nnz).toBeLessThanOrEqual(Math.round(0.1 * 24 * 64));
    expect(sp.scales!.length).toBe(24);
    const x = rand([4, 64], { seed: 4 });
    linear(x, sp, null, { sparseKernel: 'dense' });
    expect(lastSparseKernel()).toMatch(/^s8_gemm_/);
    const full = toSparse(rand([8, 16], { seed: 5 }), { dtype: 'int8' });
    linear(rand([3, 16], { seed: 6 }), full);
    expect(lastSparseKernel()).toMatch(/^s8_gemm_/); // density 1: above the crossover
    expect(cpuInfo().kernels['linear.sparse.int8']).toMatch(/^s8_spmm_g4_xt/);
  });

  it('rejects what it cannot represent', () => {
    const w = rand([4, 8], { seed: 1 });
    const asym = quantize(w, { dtype: 'int8', scheme: 'asymmetric' });
    if (asym.zeroPoint.some((z) => z !== 0)) expect(() => toSparse(asym)).toThrow('sparse int8 weights must be symmetric (zero point 0)');
    const percol = quantize(w, { dtype: 'int8', scheme: 'symmetric', axis: 1 });
    expect(() => toSparse(percol)).toThrow("the QuantizedTensor's scales must be per tensor or per row (axis 0), got axis 1");
    const ok = { shape: [2, 4] as [number, number], rowPtr: Int32Array.of(0, 1, 2), colIdx: Uint16Array.of(0, 3), values: Int8Array.of(5, -7) };
    expect(() => sparseCsr(ok)).toThrow('sparseCsr: scales must be a Float32Array (one per row) with int8 values, got undefined');
    expect(() => sparseCsr({ ...ok, scales: Float32Array.of(1) })).toThrow('scales has 1 values, needs one per row (2)');
    expect(() => sparseCsr({ ...ok, scales: Float32Array.of(1, -1) })).toThrow('scales[1] must be positive and finite, got -1');
    const sp = sparseCsr({ ...ok, scales: Float32Array.of(0.5, 2) });
    expect(Array.from(sp.toDense().data)).toEqual([5, 0, 0, 0, 0, 0, 0, -7]);
    expect(() => sparseCsr({ ...ok, values: Float32Array.of(1, 2), scales: Float32Array.of(1, 1) })).toThrow('scales are only for int8 values');
  });
});

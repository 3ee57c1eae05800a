import { afterEach, describe, expect, it } from 'vitest';
import { cpuInfo, getMaxIsa, linear, matmul, packWeights, PackedWeights, rand, setMaxIsa, tensor, zeros } from '../src/index.js';
import { expectClose, F32_GEMM_ABS_TOL, F32_GEMM_REL_TOL, compiledIsas, itIsa, refMatmul, supportedIsas, unsupportedIsas, expectSameArray } from './helpers.js';

const best = getMaxIsa();
afterEach(() => {
  setMaxIsa(best);
});

const ACTS = ['none', 'relu', 'gelu'] as const;
// Shapes around every tile edge we ship (MR up to 8, NR 8/12/16/32) plus the odd sizes of the issue.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 63, 64], [2, 64, 33], [5, 17, 31], [7, 65, 65], [8, 1, 32], [9, 255, 17], [13, 31, 47],
  [16, 7, 1], [17, 40, 97], [33, 300, 65], [63, 129, 63], [64, 64, 64], [65, 33, 255],
];

describe('matmul f32 on every ISA this CPU has', () => {
  for (const isa of compiledIsas()) {
    itIsa(isa)(`${isa}: matches the reference across tile edges, transB, bias, activations`, () => {
      setMaxIsa(isa);
      const kernel = cpuInfo().kernels['matmul.f32'];
      let seed = 1;
      // transB, bias and activation cycle with the shape's index (a seed-parity rule left transB and bias never taken).
      for (const [i, [m, k, n]] of SHAPES.entries()) {
        const tb = i % 2 === 1;
        const act = ACTS[i % 3];
        const a = rand([m, k], { seed: seed++ });
        const b = rand(tb ? [n, k] : [k, n], { seed: seed++ });
        const bias = i % 4 >= 2 ? rand([n], { seed: seed++ }) : null;
        const got = matmul(a, b, { transB: tb, bias, activation: act });
        const ref = refMatmul(a.data as Float32Array, m, k, b.data as Float32Array, n, tb, bias ? (bias.data as Float32Array) : null, act);
        expectClose(got, ref.c, ref.mag, F32_GEMM_REL_TOL, F32_GEMM_ABS_TOL + 2e-7, `${kernel} ${m}x${k}x${n} transB=${tb} act=${act}`);
        // Packed weights give the same answer as per-call packing.
        const w = tb ? b : null;
        if (w) {
          const p = packWeights(w) as PackedWeights;
          const got2 = linear(a, p, bias, { activation: act });
          expectSameArray(got2.data, got.data);
        }
      }
    });
  }
  it('packed weights repack transparently when the ISA cap changes', () => {
    const isas = supportedIsas();
    const w = rand([37, 29], { seed: 3 });
    const x = rand([5, 29], { seed: 4 });
    const p = packWeights(w) as PackedWeights;
    const ref = refMatmul(x.data as Float32Array, 5, 29, w.data as Float32Array, 37, true, null, 'none');
    for (const isa of isas) {
      setMaxIsa(isa);
      expectClose(linear(x, p), ref.c, ref.mag, F32_GEMM_REL_TOL, F32_GEMM_ABS_TOL, `packed under ${isa}`);
    }
  });
  it('handles the issue shapes 255x1023x1023 and K=0', () => {
    const a = rand([255, 1023], { seed: 9 });
    const b = rand([1023, 1023], { seed: 10 });
    const got = matmul(a, b);
    // Spot-check rows against the reference (the full reference is slow in JS).
    const rows = [0, 127, 254];
    for (const r of rows) {
      const ar = a.rows(r, r + 1);
      const ref = refMatmul(ar.data as Float32Array, 1, 1023, b.data as Float32Array, 1023, false, null, 'none');
      expectClose(got.rows(r, r + 1), ref.c, ref.mag, F32_GEMM_REL_TOL, F32_GEMM_ABS_TOL, `row ${r}`);
    }
    const z = matmul(zeros([3, 0]), zeros([0, 4]), { bias: tensor([1, -2, 3, -4]), activation: 'relu' });
    expect(Array.from(z.data)).toEqual([1, 0, 3, 0, 1, 0, 3, 0, 1, 0, 3, 0]);
  });
  it('propagates NaN and Inf', () => {
    const a = tensor([NaN, 1, 1, Infinity, 1, 1], [2, 3]);
    const b = tensor([1, 1, 1, 1, 1, 1], [3, 2]);
    const c = matmul(a, b);
    expect(Number.isNaN(c.data[0]) && Number.isNaN(c.data[1])).toBe(true);
    expect(c.data[2]).toBe(Infinity);
    const r = matmul(a, b, { activation: 'relu' });
    expect(Number.isNaN(r.data[0])).toBe(true);
  });
  it('writes into out and keeps leading dimensions', () => {
    const a = rand([2, 3, 4], { seed: 1 });
    const b = rand([4, 5], { seed: 2 });
    const out = zeros([2, 3, 5]);
    const c = matmul(a, b, { out });
    expect(c).toBe(out);
    expect(c.shape).toEqual([2, 3, 5]);
  });
});

describe('matmul/linear bad input', () => {
  const a = rand([4, 8], { seed: 1 });
  const b = rand([8, 3], { seed: 2 });
  it('names the mismatched dimensions', () => {
    expect(() => matmul(rand([2, 63]), rand([64, 4]))).toThrow('matmul: a.shape[1] (63) must equal b.shape[0] (64)');
    expect(() => matmul(a, b, { transB: true })).toThrow(/a.shape\[1\] \(8\) must equal b.shape\[1\] \(3\) \(transB\)/);
    expect(() => linear(a, rand([5, 7]))).toThrow('linear: x.shape[1] (8) must equal w.shape[1] (7) (in features)');
  });
  it('rejects wrong dtypes, bias and out sizes, activations', () => {
    expect(() => matmul(a, tensor(new Int32Array(24), [8, 3]))).toThrow(TypeError);
    expect(() => matmul(a, b, { bias: rand([4]) })).toThrow('matmul: bias has 4 elements ([4]), needs 3');
    expect(() => matmul(a, b, { out: zeros([4, 4]) })).toThrow('matmul: out has shape [4, 4], needs [4, 3]');
    expect(() => matmul(a, b, { out: zeros([4, 3], 'int32') })).toThrow(TypeError);
    expect(() => matmul(a, b, { activation: 'tanh' as never })).toThrow("matmul: activation must be 'none', 'relu' or 'gelu', got 'tanh'");
    expect(() => matmul(a, {} as never)).toThrow(TypeError);
    expect(() => matmul(a, rand([8]))).toThrow(/b must be 2-D/);
    const p = packWeights(rand([3, 9])) as PackedWeights;
    expect(() => linear(a, p)).toThrow("linear: x.shape[1] (8) must equal the packed weights' K (9)");
    expect(() => packWeights(rand([2, 2, 2]))).toThrow(/w must be 2-D/);
  });
  it('rejects a detached input instead of reading freed memory', () => {
    const d = new Float32Array(32);
    const t = tensor(d, [4, 8]);
    structuredClone(d.buffer, { transfer: [d.buffer] });
    expect(() => matmul(t, b)).toThrow(/detached/);
  });
  it('rejects unknown or unsupported ISA caps', () => {
    expect(() => setMaxIsa('avx9000' as never)).toThrow(RangeError);
    expect(() => setMaxIsa('avx9000' as never)).toThrow(/unknown isa 'avx9000'/);
    const missing = unsupportedIsas();
    if (missing.length) expect(() => setMaxIsa(missing[0] as never)).toThrow(/not supported by this CPU/);
  });
});

import { describe, expect, it } from 'vitest';
import { loadOnnx, pruneModel } from '../src/index.js';
import { G, maxDiff, ortRun, randArr, T } from './onnx-build.js';

/** Zeros every value whose index hashes into the first `frac` of the range (deterministic unstructured pruning). */
function pruned(n: number, seed: number, frac: number): Float32Array {
  const r = randArr(n, seed, 0.3);
  return r.map((v, i) => (((i * 2654435761) >>> 0) % 1000 < frac * 1000 ? 0 : v));
}

/** Gemm(transB) + bias → Relu → MatMul → Add(bias) → Gelu-free MatMul, weights pruned to `frac` zeros. */
function model(frac: number): Uint8Array {
  const g = new G(13);
  const x = g.input('x', T.FLOAT, ['batch', 48]);
  const h = g.node('Relu', [g.node('Gemm', [x, g.f32('w1', [80, 48], pruned(80 * 48, 1, frac)), g.f32('b1', [80], randArr(80, 2, 0.1))], { transB: 1 })]);
  const h2 = g.node('Relu', [g.node('Add', [g.node('MatMul', [h, g.f32('w2', [80, 33], pruned(80 * 33, 3, frac))]), g.f32('b2', [33], randArr(33, 4, 0.1))])]);
  g.node('MatMul', [h2, g.f32('w3', [33, 7], pruned(33 * 7, 5, frac))], {}, ['y']);
  g.output('y', T.FLOAT, ['batch', 7]);
  return g.bytes();
}

describe('sparse-linear: pruned MatMul/Gemm weights on the sparse kernels', () => {
  it('90 % zeros: SparseLinear nodes (bias and relu fused) match onnxruntime-node; switched off gives the same', async () => {
    const bytes = model(0.9);
    const m = loadOnnx(bytes);
    expect(m.nodeCounts.SparseLinear).toBe(3);
    expect(m.nodeCounts.Relu ?? 0).toBe(0);
    expect(m.nodeCounts.Add ?? 0).toBe(0);
    for (const rows of [1, 5, 130]) {
      const x = randArr(rows * 48, 7 + rows, 1);
      const got = m.run({ x: { data: x, dims: [rows, 48] } }).y;
      const ref = (await ortRun(bytes, { x: { type: 'float32', data: x, dims: [rows, 48] } })).y;
      const d = maxDiff(got.data as Float32Array, ref.data);
      expect(d.abs).toBeLessThanOrEqual(1e-5 * Math.max(1, d.ref));
      const dense = loadOnnx(bytes, { disable: ['sparse-linear'] });
      expect(dense.nodeCounts.SparseLinear ?? 0).toBe(0);
      const dd = maxDiff(dense.run({ x: { data: x, dims: [rows, 48] } }).y.data as Float32Array, got.data);
      expect(dd.abs).toBeLessThanOrEqual(1e-5 * Math.max(1, dd.ref));
      const asy = await m.runAsync({ x: { data: x, dims: [rows, 48] } });
      expect(Array.from(asy.y.data as Float32Array)).toEqual(Array.from(got.data as Float32Array));
    }
  });
  it('dense weights (30 % zeros) stay on the packed dense GEMM; pruneModel(0.9) output goes sparse', () => {
    expect(loadOnnx(model(0.3)).nodeCounts.SparseLinear ?? 0).toBe(0);
    const p = pruneModel(loadOnnx(model(0)), { sparsity: 0.9 });
    expect(p.nodeCounts.SparseLinear).toBe(3);
  });
});

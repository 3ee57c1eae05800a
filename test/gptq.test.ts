import { describe, expect, it } from 'vitest';
import { gptqRound, refineRounding, SecondMoments } from '../src/onnx/transform/gptq.js';
import { rne } from '../src/onnx/transform/quantize.js';

/** Deterministic pseudo-random numbers in [-1, 1). */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Correlated K-vectors as columns [K, P] (a shared factor plus noise), and their second moments. */
function moments(k: number, p: number, seed: number): SecondMoments {
  const base = rand(p, seed), noise = rand(k * p, seed + 1), x = new Float32Array(k * p);
  for (let i = 0; i < k; i++) for (let j = 0; j < p; j++) x[i * p + j] = base[j] * (1 + i / k) + 0.3 * noise[i * p + j];
  const m = new SecondMoments(k);
  m.addColumns(x, p);
  return m;
}

/** Output error over the samples of a row's dequantized weights: (w − ŵ)ᵀ H (w − ŵ), summed over rows. */
function outputError(rows: Float32Array, ch: number, m: SecondMoments, deq: (o: number, j: number) => number): number {
  const k = m.k;
  let total = 0;
  for (let o = 0; o < ch; o++) {
    const e = Float64Array.from({ length: k }, (_, j) => rows[o * k + j] - deq(o, j));
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) total += e[i] * m.h[i * k + j] * e[j];
  }
  return total;
}

describe('gptqRound / refineRounding', () => {
  const k = 48, ch = 6, group = 16, ng = k / group;
  const rows = rand(ch * k, 7);
  // A few large weights per row make per-block scales differ from the row's.
  for (let o = 0; o < ch; o++) rows[o * k + 3] *= 8;
  const m = moments(k, 400, 11);
  const perRow = Float32Array.from({ length: ch }, (_, o) => Math.max(...rows.subarray(o * k, (o + 1) * k).map(Math.abs)) / 127);
  const perBlock = Float32Array.from({ length: ch * ng }, (_, i) => {
    const o = Math.floor(i / ng), g = i % ng;
    return Math.max(...rows.subarray(o * k + g * group, o * k + (g + 1) * group).map(Math.abs)) / 127;
  });

  it('group 0 is the per-row rounding it always was, and block scales index by (row, input / group)', () => {
    const a = gptqRound(rows, ch, m, perRow, [0], -127, 127, rne);
    const b = gptqRound(rows, ch, m, perRow, [0], -127, 127, rne, 0);
    expect(Array.from(b)).toEqual(Array.from(a));
    // A one-block-per-row layout with group ≥ k gives the per-row result too.
    expect(Array.from(gptqRound(rows, ch, m, perRow, [0], -127, 127, rne, k))).toEqual(Array.from(a));
    const q = gptqRound(rows, ch, m, perBlock, [0], -127, 127, rne, group);
    for (const v of q) expect(Math.abs(v)).toBeLessThanOrEqual(127);
    // Finer scales: the output error is lower than with one scale per row.
    const eRow = outputError(rows, ch, m, (o, j) => a[o * k + j] * perRow[o]);
    const eBlock = outputError(rows, ch, m, (o, j) => q[o * k + j] * perBlock[o * ng + Math.floor(j / group)]);
    expect(eBlock).toBeLessThan(eRow);
  });

  it('refineRounding lowers the output error to a local optimum and keeps the integer range', () => {
    const q = Int32Array.from(rows, (w, i) => Math.min(127, Math.max(-127, rne(w / perRow[Math.floor(i / k)]))));
    const before = outputError(rows, ch, m, (o, j) => q[o * k + j] * perRow[o]);
    const moves = refineRounding(rows, ch, m, perRow, [0], -127, 127, q);
    const after = outputError(rows, ch, m, (o, j) => q[o * k + j] * perRow[o]);
    expect(moves).toBeGreaterThan(0);
    expect(after).toBeLessThan(before);
    for (const v of q) expect(Math.abs(v)).toBeLessThanOrEqual(127);
    // At the optimum no single ±1 move helps any more.
    expect(refineRounding(rows, ch, m, perRow, [0], -127, 127, q)).toBe(0);
  });

  it('refineRounding keeps zero (pruned) weights at the zero point', () => {
    const pr = Float32Array.from(rows, (w, i) => (i % 3 === 0 ? 0 : w));
    const q = gptqRound(pr, ch, m, perBlock, [0], -127, 127, rne, group);
    refineRounding(pr, ch, m, perBlock, [0], -127, 127, q, group);
    pr.forEach((w, i) => {
      if (w === 0) expect(q[i]).toBe(0);
    });
  });
});

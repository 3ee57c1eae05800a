/**
 * Load-time pass `sparse-linear` (listed in `model.optimizations`): a MatMul/Gemm whose constant float32 weight is
 * at least half zeros (after `pruneModel`, or pruned elsewhere) → a SparseLinear node over the weight in CSR, with a
 * constant bias Add and a Relu/Gelu fused; at run time `linear`'s measured fallback ('auto') picks the sparse kernel
 * or the dense GEMM for the row count (docs/sparse.md). Runs before `linear-fusion`, which packs the rest dense.
 * @module
 */
import { Tensor } from '../tensor.js';
import { toSparse } from '../sparse/index.js';
import { attrFloat, attrInt, consumers, type Node } from './graph.js';
import type { Value } from './value.js';
import './ops/sparse.js';
import { constOf as c, only, type Pass } from './pass-util.js';

/** Weights with at least this fraction of exact zeros go sparse. */
export const SPARSE_MIN_ZEROS = 0.5;


function zeroFraction(w: Value): number {
  const W = w.data as Float32Array;
  let z = 0;
  for (let i = 0; i < W.length; i++) if (W[i] === 0) z++;
  return W.length ? z / W.length : 0;
}

export const fuseSparseLinear: Pass = (g) => {
  let count = 0;
  for (const n of g.nodes.slice()) {
    if (n.domain !== '' || (n.op !== 'MatMul' && n.op !== 'Gemm') || !g.nodes.includes(n)) continue;
    const w = c(g, n.inputs[1]);
    if (!w || w.dtype !== 'float32' || w.shape.length !== 2 || w.size < 64 || zeroFraction(w) < SPARSE_MIN_ZEROS) continue;
    const transB = n.op === 'Gemm' && attrInt(n, 'transB', 0) === 1;
    let bias = '';
    if (n.op === 'Gemm') {
      if (attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1) continue;
      if (n.inputs[2]) {
        const cv = c(g, n.inputs[2]);
        const nOut = transB ? w.shape[0] : w.shape[1];
        if (!cv || attrFloat(n, 'beta', 1) !== 1 || cv.dtype !== 'float32' || cv.size !== nOut || (cv.shape.length === 2 && cv.shape[0] !== 1)) continue;
        bias = n.inputs[2];
      }
    }
    // [out, in] rows for the sparse kernels.
    const [r, cc] = w.shape;
    const W = w.data as Float32Array;
    let rows: Float32Array;
    if (transB) rows = W;
    else {
      rows = new Float32Array(w.size);
      for (let i = 0; i < r; i++) for (let j = 0; j < cc; j++) rows[j * r + i] = W[i * cc + j];
    }
    const nOut = transB ? r : cc, k = transB ? cc : r;
    const sparse = toSparse(new Tensor(rows, [nOut, k], 'float32', rows.length));
    const fused: Node = { op: 'SparseLinear', domain: 'simdtensor', name: `${n.name}/SparseLinear`, inputs: [n.inputs[0], bias], outputs: n.outputs.slice(0, 1), attrs: { activation: 0 }, extra: { sparse } };
    g.nodes.splice(g.nodes.indexOf(n), 1, fused);
    // A constant bias Add, then Relu or (exact) Gelu.
    for (;;) {
      const cons = consumers(g);
      const y = fused.outputs[0];
      const next = only(cons, y);
      if (!next || attrInt(fused, 'activation', 0) !== 0) break;
      if (next.op === 'Add' && next.domain === '' && !fused.inputs[1]) {
        const other = next.inputs[0] === y ? next.inputs[1] : next.inputs[0];
        const b = c(g, other);
        if (!b || b.dtype !== 'float32' || b.size !== nOut || b.shape.slice(0, -1).some((d) => d !== 1)) break;
        fused.inputs[1] = other;
      } else if (next.op === 'Relu' && next.domain === '') fused.attrs.activation = 1;
      else if (next.op === 'Gelu' && (next.attrs.approximate ?? 'none') === 'none') fused.attrs.activation = 2;
      else break;
      fused.outputs = [next.outputs[0]];
      g.nodes = g.nodes.filter((m) => m !== next);
    }
    count++;
  }
  return count;
};

/**
 * The fused sparse Linear (domain 'simdtensor') of the `sparse-linear` pass: a MatMul/Gemm whose constant float32
 * weight is mostly zeros (a pruned model) on the sparse kernels, `linear(x, SparseTensor, bias, { sparseKernel:
 * 'auto' })` — the measured fallback picks the sparse kernel or the dense GEMM per row count (docs/sparse.md).
 * @module
 */
import { Tensor } from '../../tensor.js';
import { linear } from '../../ops/matmul.js';
import { linearAsync } from '../../ops/matmul.js';
import type { SparseTensor } from '../../sparse/index.js';
import { rangeError, typeError } from '../../errors.js';
import { attrInt, type Node } from '../graph.js';
import { outOr, type Value } from '../value.js';
import { registerOnnxOp } from './registry.js';

const ACTS = ['none', 'relu', 'gelu'] as const;

function args(n: Node, ins: (Value | undefined)[], outs: (Value | undefined)[]) {
  const x = ins[0]!;
  if (x.dtype !== 'float32') throw typeError('MatMul', `node '${n.name}': x must be float32, got ${x.dtype}`);
  const w = n.extra!.sparse as SparseTensor;
  const [nOut, k] = w.shape;
  if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== k) throw rangeError('MatMul', `node '${n.name}': input [${x.shape.join(', ')}] has K ${x.shape[x.shape.length - 1]}, the weight has ${k}`);
  const out = outOr(outs[0], 'float32', [...x.shape.slice(0, -1), nOut]);
  const bias = ins[1] ? (ins[1] as unknown as Tensor) : null;
  const activation = ACTS[attrInt(n, 'activation', 0)];
  return { x: x as unknown as Tensor, w, bias, out, opts: { activation, sparseKernel: 'auto' as const, out: out as unknown as Tensor } };
}

registerOnnxOp('SparseLinear', {
  run(n, ins, outs) {
    const a = args(n, ins, outs);
    linear(a.x, a.w, a.bias, a.opts);
    return [a.out];
  },
  async runAsync(n, ins, outs, _ctx, signal) {
    const a = args(n, ins, outs);
    await linearAsync(a.x, a.w, a.bias, { ...a.opts, signal });
    return [a.out];
  },
}, 'simdtensor');

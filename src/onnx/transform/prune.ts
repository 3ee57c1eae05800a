/**
 * Magnitude pruning of an ONNX model's MatMul / Gemm / Conv weights, written back as dense zeros (a standard file
 * every runtime loads; the zeros compress well and feed sparse kernels). Reuses {@link prune} (native ranking):
 * 'unstructured', N:M ('2:4', '4:8', … along the input dimension) or blocks ('block' with `block`, or '1x16'…),
 * per layer or with one global magnitude threshold. The original model is never modified.
 * @module
 */
import { describe, rangeError, typeError } from '../../errors.js';
import { prune } from '../../sparse/index.js';
import { Tensor } from '../../tensor.js';
import { editOf, modelOf } from '../export.js';
import type { OnnxModel } from '../model.js';
import { attrI, type EditModel } from './proto.js';
import { weightNodes, weightRows } from './quantize.js';

/** Options of `pruneModel`. */
export interface OnnxPruneOptions {
  /** Fraction of weights (or blocks) zeroed, in [0, 1]; implied by an N:M pattern. */
  sparsity?: number;
  /** 'unstructured' (default), '2:4' (or any 'n:m'), 'block' (1x16 blocks) or a block shorthand like '4x4'. */
  pattern?: string;
  /** 'layer' (default): every layer to `sparsity`; 'global': one magnitude threshold over all pruned layers. */
  scope?: 'layer' | 'global';
  /** Node names / op types ('MatMul', 'Gemm', 'Conv') left dense. */
  skipNodes?: string[];
  skipOps?: string[];
}

/** One pruned layer. */
export interface PrunedLayer {
  node: string;
  op: string;
  weight: string;
  size: number;
  sparsity: number;
}

const FN = 'pruneModel';

function check(o: unknown): OnnxPruneOptions {
  if (o === null || typeof o !== 'object') throw typeError(FN, `opts must be an object, got ${describe(o)}`);
  const opts = o as OnnxPruneOptions;
  const known = ['sparsity', 'pattern', 'scope', 'skipNodes', 'skipOps'];
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw rangeError(FN, `unknown option '${k}' (known: ${known.join(', ')})`);
  const p = opts.pattern ?? 'unstructured';
  if (typeof p !== 'string' || !(p === 'unstructured' || p === 'block' || /^\d+:\d+$/.test(p) || /^\d+x\d+$/.test(p)))
    throw typeError(FN, `opts.pattern must be 'unstructured', 'block', an N:M like '2:4' or a block like '4x4', got ${describe(p)}`);
  const nm = /^\d+:\d+$/.test(p);
  if (!nm && (typeof opts.sparsity !== 'number' || !(opts.sparsity >= 0 && opts.sparsity <= 1)))
    throw rangeError(FN, `opts.sparsity must be a number in [0, 1] for pattern '${p}', got ${describe(opts.sparsity)}`);
  if (opts.scope !== undefined && opts.scope !== 'layer' && opts.scope !== 'global') throw typeError(FN, `opts.scope must be 'layer' or 'global', got ${describe(opts.scope)}`);
  for (const k of ['skipNodes', 'skipOps'] as const) {
    const v = opts[k];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) throw typeError(FN, `opts.${k} must be an array of strings, got ${describe(v)}`);
  }
  return opts;
}

/** The k-th smallest |w| over all layers (the global threshold), by sorting the magnitudes once. */
function globalSparsities(rows: Float32Array[], sparsity: number): number[] {
  const total = rows.reduce((a, r) => a + r.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const r of rows) for (let i = 0; i < r.length; i++) all[o++] = Math.abs(r[i]);
  all.sort();
  const k = Math.round(sparsity * total);
  if (k === 0) return rows.map(() => 0);
  const t = all[k - 1];
  // Entries strictly below the threshold go everywhere; ties at it are shared out in layer order.
  let ties = k;
  const below = rows.map((r) => {
    let n = 0;
    for (let i = 0; i < r.length; i++) if (Math.abs(r[i]) < t) n++;
    ties -= n;
    return n;
  });
  return rows.map((r, j) => {
    let eq = 0;
    for (let i = 0; i < r.length; i++) if (Math.abs(r[i]) === t) eq++;
    const take = Math.min(eq, ties);
    ties -= take;
    return r.length ? (below[j] + take) / r.length : 0;
  });
}

/** Prunes an edited model in place; returns the per-layer results. */
export function pruneEdit(m: EditModel, opts: OnnxPruneOptions): PrunedLayer[] {
  opts = check(opts);
  let targets = weightNodes(m);
  const names = new Set(targets.map((t) => t.node.name));
  for (const s of opts.skipNodes ?? []) if (!names.has(s)) throw rangeError(FN, `opts.skipNodes: no prunable node is named '${s}'`);
  targets = targets.filter((t) => !(opts.skipNodes ?? []).includes(t.node.name) && !(opts.skipOps ?? []).includes(t.node.opType));
  if (targets.length === 0) throw rangeError(FN, 'the model has no MatMul/Gemm/Conv with a constant float32 weight to prune');
  // A weight shared by several nodes is pruned once.
  const seen = new Set<string>();
  targets = targets.filter((t) => !seen.has(t.node.input[1]) && seen.add(t.node.input[1]));
  const rows = targets.map((t) => weightRows(t.node, t.w));
  const pattern = opts.pattern ?? 'unstructured';
  const nm = /^(\d+):(\d+)$/.exec(pattern);
  if (nm) {
    const mm = Number(nm[2]);
    for (let i = 0; i < targets.length; i++)
      if (rows[i].inner % mm !== 0)
        throw rangeError(FN, `node '${targets[i].node.name}' (${targets[i].node.opType}) has ${rows[i].inner} inputs per output, not a multiple of ${mm} for ${pattern} pruning (skip it with opts.skipNodes)`);
  }
  const per = !nm && opts.scope === 'global' ? globalSparsities(rows.map((r) => r.rows), opts.sparsity!) : rows.map(() => opts.sparsity);
  const out: PrunedLayer[] = [];
  targets.forEach((t, i) => {
    const { rows: r, ch, inner } = rows[i];
    const res = prune(new Tensor(r, [ch, inner], 'float32', r.length), { sparsity: nm ? undefined : per[i], pattern: pattern as never });
    const d = res.weight.data as Float32Array;
    // Back to the weight's own layout (MatMul/Gemm B [K, N] was transposed to rows of K).
    let data = d;
    if (t.node.opType === 'MatMul' || (t.node.opType === 'Gemm' && attrI(t.node, 'transB', 0) === 0)) {
      const [k, n] = t.w.shape;
      data = new Float32Array(d.length);
      for (let j = 0; j < n; j++) for (let q = 0; q < k; q++) data[q * n + j] = d[j * k + q];
    }
    m.setInit(t.node.input[1], { dtype: 'float32', shape: t.w.shape.slice(), data, size: data.length });
    out.push({ node: t.node.name, op: t.node.opType, weight: t.node.input[1], size: d.length, sparsity: res.sparsity });
  });
  return out;
}

/** Magnitude-prunes every MatMul/Gemm/Conv weight of an OnnxModel; returns a NEW model (dense zeros). */
export function pruneOnnx(model: OnnxModel, opts: OnnxPruneOptions): OnnxModel {
  const m = editOf(FN, model);
  pruneEdit(m, opts);
  return modelOf(m);
}

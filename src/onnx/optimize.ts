/**
 * Graph passes run at load, each on its own and named in `model.optimizations`: constant folding, the
 * decomposed LayerNorm and GELU patterns fused into single kernels, Div by a constant as Mul, Transpose folded
 * into MatMul's transposed-B form, MatMul/Gemm + bias + activation fused into prepacked Linear epilogues,
 * the dynamic-int8 MatMulInteger chain fused into one int8 GEMM with dequantizing epilogue, int8 weights
 * prepacked, dead nodes removed.
 * @module
 */
import { packWeights, type PackedWeights } from '../ops/matmul.js';
import { attrFloat, attrInt, attrInts, consumers, producers, type Graph, type Node } from './graph.js';
import { getOnnxOp } from './ops/registry.js';
import { packS8 } from './ops/quant.js';
import { prepackConvInt8Node } from './ops/conv-int8.js';
import { mk, type Value } from './value.js';
import { CONV_PASSES } from './optimize-conv.js';
import { fuseSparseLinear } from './optimize-sparse.js';
import { fastDynamicQuantize } from './optimize-int8.js';
import { foldAttentionScale, fuseAttention, fuseQkv } from './optimize-attention.js';

/** A graph pass: rewrites `g` in place and returns how many rewrites it made. */
export type Pass = (g: Graph) => number;

const c = (g: Graph, name: string | undefined): Value | undefined => (name ? g.consts.get(name) : undefined);
const scalarIs = (v: Value | undefined, x: number, tol = 1e-6) => !!v && v.size === 1 && Math.abs(v.data[0] - x) <= tol * Math.max(1, Math.abs(x));

/** The only reader of `name`, or null when it has several, none, or is a graph output. */
function only(cons: Map<string, (Node | null)[]>, name: string): Node | null {
  const l = cons.get(name);
  return l && l.length === 1 && l[0] ? l[0] : null;
}

/** Evaluates nodes whose inputs are all constant (initializers, Constant nodes), once. */
export const foldConstants: Pass = (g) => {
  let count = 0;
  const keep: Node[] = [];
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => (i ? g.consts.get(i) : undefined));
    const allConst = n.inputs.every((i, k) => !i || ins[k]);
    const def = getOnnxOp(n.op, n.domain);
    if (!allConst || !def || n.domain === 'simdtensor') {
      keep.push(n);
      continue;
    }
    const res = def.run(n, ins, [], { opset: g.opset.get(n.domain) ?? 1 });
    n.outputs.forEach((o, k) => {
      if (!o) return;
      const v = res[k];
      // Views of other constants get their own copy (a later run must never see them change).
      const own = mk(v.dtype, v.shape);
      (own.data as Float32Array).set(v.data as Float32Array);
      g.consts.set(o, own);
    });
    count++;
  }
  g.nodes = keep;
  return count;
};

/** Removes nodes whose outputs nobody reads, and constants nobody reads. */
export const removeDead: Pass = (g) => {
  let count = 0;
  for (;;) {
    const cons = consumers(g);
    const before = g.nodes.length;
    g.nodes = g.nodes.filter((n) => n.outputs.some((o) => o && cons.has(o)));
    count += before - g.nodes.length;
    if (g.nodes.length === before) break;
  }
  const cons = consumers(g);
  for (const k of [...g.consts.keys()]) if (!cons.has(k)) g.consts.delete(k);
  return count;
};

function reduceLastAxis(g: Graph, n: Node): boolean {
  if (n.op !== 'ReduceMean' || attrInt(n, 'keepdims', 1) !== 1) return false;
  const axes = n.inputs[1] ? c(g, n.inputs[1]) : null;
  const list = axes ? Array.from(axes.data as ArrayLike<number>) : attrInts(n, 'axes');
  return !!list && list.length === 1 && list[0] === -1;
}

/**
 * LayerNorm written out: m = ReduceMean(x, -1); d = x − m; v = ReduceMean(d², -1); y = d / √(v + eps)
 * [· gamma] [+ beta] → one LayerNorm kernel.
 */
export const fuseLayerNorm: Pass = (g) => {
  let count = 0;
  for (const r1 of g.nodes.slice()) {
    if (!g.nodes.includes(r1) || !reduceLastAxis(g, r1)) continue;
    const cons = consumers(g);
    const x = r1.inputs[0];
    const sub = only(cons, r1.outputs[0]);
    if (!sub || sub.op !== 'Sub' || sub.inputs[0] !== x || sub.inputs[1] !== r1.outputs[0]) continue;
    const d = sub.outputs[0];
    const dl = [...new Set(cons.get(d) ?? [])]; // Mul(d, d) reads d twice
    if (dl.length !== 2 || dl.includes(null)) continue;
    const sq = dl.find((m) => m && ((m.op === 'Pow' && m.inputs[0] === d && scalarIs(c(g, m.inputs[1]), 2)) || (m.op === 'Mul' && m.inputs[0] === d && m.inputs[1] === d)))!;
    const div = dl.find((m) => m && m.op === 'Div' && m.inputs[0] === d)!;
    if (!sq || !div) continue;
    const r2 = only(cons, sq.outputs[0]);
    if (!r2 || !reduceLastAxis(g, r2)) continue;
    const add = only(cons, r2.outputs[0]);
    if (!add || add.op !== 'Add') continue;
    const epsName = add.inputs[0] === r2.outputs[0] ? add.inputs[1] : add.inputs[0];
    const eps = c(g, epsName);
    if (!eps || eps.size !== 1) continue;
    const sqrt = only(cons, add.outputs[0]);
    if (!sqrt || sqrt.op !== 'Sqrt' || only(cons, sqrt.outputs[0]) !== div || div.inputs[1] !== sqrt.outputs[0]) continue;
    const removed = [r1, sub, sq, r2, add, sqrt, div];
    let y = div.outputs[0];
    let gamma = '', beta = '';
    const mul = only(cons, y);
    if (mul && mul.op === 'Mul') {
      const other = mul.inputs[0] === y ? mul.inputs[1] : mul.inputs[0];
      const gv = c(g, other);
      if (gv && gv.dtype === 'float32' && gv.shape.length <= 1) {
        gamma = other;
        removed.push(mul);
        y = mul.outputs[0];
        const badd = only(cons, y);
        if (badd && badd.op === 'Add') {
          const o2 = badd.inputs[0] === y ? badd.inputs[1] : badd.inputs[0];
          const bv = c(g, o2);
          if (bv && bv.dtype === 'float32' && bv.shape.length <= 1 && bv.size === gv.size) {
            beta = o2;
            removed.push(badd);
            y = badd.outputs[0];
          }
        }
      }
    }
    const fused: Node = { op: 'LayerNorm', domain: 'simdtensor', name: `${r1.name}/LayerNorm`, inputs: [x, gamma, beta], outputs: [y], attrs: { epsilon: eps.data[0] } };
    g.nodes.splice(g.nodes.indexOf(r1), 1, fused);
    g.nodes = g.nodes.filter((m) => !removed.includes(m));
    count++;
  }
  return count;
};

/**
 * Add(a, b) of two computed values whose only reader is a LayerNorm (the fused pattern, or LayerNormalization over
 * the last axis) → that LayerNorm with b as a residual input [a, gamma, beta, b]: the sum is formed in the norm's
 * first pass instead of a pass and a buffer of its own (a transformer's residual connections). The shapes are
 * checked each run; a broadcasting Add runs as before.
 */
export const fuseResidualLayerNorm: Pass = (g) => {
  let count = 0;
  const cons = consumers(g), prod = producers(g);
  for (const ln of g.nodes.slice()) {
    const onnxLn = ln.op === 'LayerNormalization' && ln.domain === '' && attrInt(ln, 'axis', -1) === -1 && !ln.outputs[1] && !ln.outputs[2];
    if (!(onnxLn || (ln.op === 'LayerNorm' && ln.domain === 'simdtensor')) || ln.inputs[3]) continue;
    const add = prod.get(ln.inputs[0]);
    if (!add || add.op !== 'Add' || add.domain !== '' || add.inputs.length !== 2 || only(cons, add.outputs[0]) !== ln) continue;
    if (add.inputs.some((i) => !i || c(g, i))) continue;
    // LayerNormalization (one output, last axis) is the same computation as the fused node, epsilon default included.
    ln.op = 'LayerNorm';
    ln.domain = 'simdtensor';
    ln.outputs = ln.outputs.slice(0, 1);
    ln.inputs = [add.inputs[0], ln.inputs[1] ?? '', ln.inputs[2] ?? '', add.inputs[1]];
    g.nodes = g.nodes.filter((m) => m !== add);
    count++;
  }
  return count;
};

/** GELU written out: x · 0.5 · (1 + erf(x / √2)) in its usual export orders → one Gelu kernel. */
export const fuseGelu: Pass = (g) => {
  let count = 0;
  for (const erf of g.nodes.slice()) {
    if (erf.op !== 'Erf' || !g.nodes.includes(erf)) continue;
    const cons = consumers(g), prod = producers(g);
    const scale = prod.get(erf.inputs[0]);
    if (!scale || only(cons, scale.outputs[0]) !== erf) continue;
    const x = scale.inputs[0];
    if (!((scale.op === 'Div' && scalarIs(c(g, scale.inputs[1]), Math.SQRT2, 1e-4)) || (scale.op === 'Mul' && scalarIs(c(g, scale.inputs[1]), Math.SQRT1_2, 1e-4)))) continue;
    const add = only(cons, erf.outputs[0]);
    if (!add || add.op !== 'Add' || !scalarIs(c(g, add.inputs[0] === erf.outputs[0] ? add.inputs[1] : add.inputs[0]), 1)) continue;
    const m1 = only(cons, add.outputs[0]);
    if (!m1 || m1.op !== 'Mul') continue;
    const other = m1.inputs[0] === add.outputs[0] ? m1.inputs[1] : m1.inputs[0];
    let removed: Node[], y: string;
    if (other === x) {
      // (x · (1 + erf)) · 0.5
      const m2 = only(cons, m1.outputs[0]);
      if (!m2 || m2.op !== 'Mul' || !scalarIs(c(g, m2.inputs[0] === m1.outputs[0] ? m2.inputs[1] : m2.inputs[0]), 0.5)) continue;
      removed = [scale, erf, add, m1, m2];
      y = m2.outputs[0];
    } else {
      // (x · 0.5) · (1 + erf)
      const half = prod.get(other);
      if (!half || half.op !== 'Mul' || only(cons, other) !== m1) continue;
      const hx = half.inputs[0] === x ? half.inputs[1] : half.inputs[1] === x ? half.inputs[0] : '';
      if (!hx || !scalarIs(c(g, hx), 0.5)) continue;
      removed = [scale, erf, add, m1, half];
      y = m1.outputs[0];
    }
    const fused: Node = { op: 'Gelu', domain: 'com.microsoft', name: `${erf.name}/Gelu`, inputs: [x], outputs: [y], attrs: {} };
    const at = Math.min(...removed.map((m) => g.nodes.indexOf(m)));
    g.nodes.splice(at, 0, fused);
    g.nodes = g.nodes.filter((m) => !removed.includes(m));
    count++;
  }
  return count;
};

/** Div(x, constant float32) → Mul(x, 1/constant): the native kernels multiply, and do not divide. */
export const divToMul: Pass = (g) => {
  let count = 0;
  for (const n of g.nodes) {
    if (n.op !== 'Div' || n.domain !== '') continue;
    const b = c(g, n.inputs[1]);
    if (!b || b.dtype !== 'float32') continue;
    const r = mk('float32', b.shape);
    for (let i = 0; i < b.size; i++) r.data[i] = 1 / b.data[i];
    const name = `${n.inputs[1]}/reciprocal`;
    g.consts.set(name, r);
    n.op = 'Mul';
    n.inputs = [n.inputs[0], name];
    count++;
  }
  return count;
};

/**
 * MatMul(a, Transpose(b, perm)) where perm moves b's last axis → MatMulTransB(a, Transpose(b, perm')) with perm'
 * keeping the last axis (row copies instead of an element gather), or no Transpose at all when perm' is the identity.
 */
export const fuseTransposeMatMul: Pass = (g) => {
  let count = 0;
  const cons = consumers(g), prod = producers(g);
  for (const n of g.nodes.slice()) {
    if (n.op !== 'MatMul' || n.domain !== '') continue;
    const t = prod.get(n.inputs[1]);
    if (!t || t.op !== 'Transpose' || only(cons, t.outputs[0]) !== n) continue;
    const perm = attrInts(t, 'perm');
    if (!perm || perm.length < 3) continue;
    const r = perm.length;
    const p2 = perm.slice();
    [p2[r - 2], p2[r - 1]] = [p2[r - 1], p2[r - 2]];
    // Only when it helps: the new transpose keeps the last axis (whole rows move) and the old one did not.
    if (perm[r - 1] === r - 1 || p2[r - 1] !== r - 1) continue;
    n.op = 'MatMulTransB';
    n.domain = 'simdtensor';
    if (p2.every((p, i) => p === i)) {
      n.inputs = [n.inputs[0], t.inputs[0]];
      g.nodes = g.nodes.filter((m) => m !== t);
    } else t.attrs = { ...t.attrs, perm: p2 };
    count++;
  }
  return count;
};

const ACT: Record<string, number> = { Relu: 1, Gelu: 2 };

/** Follows a fused GEMM output into a constant bias Add and a Relu/Gelu; returns the final output name. */
function absorbEpilogue(g: Graph, node: Node, nOut: number, allowBias: boolean): number {
  let absorbed = 0;
  for (;;) {
    const cons = consumers(g);
    const y = node.outputs[0];
    const next = only(cons, y);
    if (!next) break;
    if (allowBias && next.op === 'Add' && !node.inputs[node.op === 'Linear' ? 1 : 3] && attrInt(node, 'activation', 0) === 0) {
      const other = next.inputs[0] === y ? next.inputs[1] : next.inputs[0];
      const b = c(g, other);
      if (!b || b.dtype !== 'float32' || b.size !== nOut || b.shape.length > 1 && b.shape.slice(0, -1).some((d) => d !== 1)) break;
      if (node.op === 'Linear') node.inputs[1] = other;
      else node.inputs[3] = other;
    } else if (next.domain === (next.op === 'Gelu' ? next.domain : '') && ACT[next.op] && attrInt(node, 'activation', 0) === 0 && (next.op !== 'Gelu' || (next.attrs.approximate ?? 'none') === 'none')) {
      node.attrs.activation = ACT[next.op];
    } else break;
    node.outputs = [next.outputs[0]];
    g.nodes = g.nodes.filter((m) => m !== next);
    absorbed++;
  }
  return absorbed;
}

/** MatMul/Gemm with constant float32 weights → Linear over weights packed once, + bias + activation. */
export const fuseLinear: Pass = (g) => {
  let count = 0;
  for (const n of g.nodes.slice()) {
    if (n.domain !== '' || (n.op !== 'MatMul' && n.op !== 'Gemm')) continue;
    const w = c(g, n.inputs[1]);
    if (!w || w.dtype !== 'float32' || w.shape.length !== 2) continue;
    let packed: PackedWeights, bias = '';
    if (n.op === 'Gemm') {
      if (attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1) continue;
      const cv = c(g, n.inputs[2]);
      if (n.inputs[2]) {
        const nOut = attrInt(n, 'transB', 0) ? w.shape[0] : w.shape[1];
        if (!cv || attrFloat(n, 'beta', 1) !== 1 || cv.size !== nOut || cv.dtype !== 'float32' || (cv.shape.length === 2 && cv.shape[0] !== 1)) continue;
        bias = n.inputs[2];
      }
      packed = packWeights(w as never, { layout: attrInt(n, 'transB', 0) ? 'linear' : 'kn' }) as PackedWeights;
    } else packed = packWeights(w as never, { layout: 'kn' }) as PackedWeights;
    const fused: Node = { op: 'Linear', domain: 'simdtensor', name: `${n.name}/Linear`, inputs: [n.inputs[0], bias], outputs: n.outputs.slice(0, 1), attrs: { activation: 0 }, extra: { packed } };
    g.nodes.splice(g.nodes.indexOf(n), 1, fused);
    absorbEpilogue(g, fused, packed.n, !bias);
    count++;
  }
  return count;
};

/**
 * onnxruntime's dynamic quantization of a MatMul: MatMulInteger(xq, Wq, xz, wz) → Cast(float) → Mul(·, x_scale·w_scale)
 * [→ Add(bias)] → one int8 GEMM whose epilogue dequantizes (and adds the bias, and applies Relu/Gelu).
 */
export const fuseDynamicInt8: Pass = (g) => {
  let count = 0;
  for (const n of g.nodes.slice()) {
    if (n.op !== 'MatMulInteger' || n.domain !== '' || !g.nodes.includes(n)) continue;
    const cons = consumers(g), prod = producers(g);
    const w = c(g, n.inputs[1]);
    const wz = n.inputs[3] ? c(g, n.inputs[3]) : undefined;
    if (!w || w.shape.length !== 2 || (n.inputs[3] && !wz)) continue;
    const cast = only(cons, n.outputs[0]);
    if (!cast || cast.op !== 'Cast' || cast.attrs.to !== 1) continue;
    const mul = only(cons, cast.outputs[0]);
    if (!mul || mul.op !== 'Mul') continue;
    const sName = mul.inputs[0] === cast.outputs[0] ? mul.inputs[1] : mul.inputs[0];
    const sm = prod.get(sName);
    if (!sm || sm.op !== 'Mul' || only(cons, sName) !== mul) continue;
    // x_scale (from DynamicQuantizeLinear / the graph) times the weight's constant scale.
    let xs = sm.inputs[0], ws = c(g, sm.inputs[1]);
    if (!ws) [xs, ws] = [sm.inputs[1], c(g, sm.inputs[0])];
    if (!ws || ws.dtype !== 'float32' || (ws.size !== 1 && ws.size !== w.shape[1])) continue;
    const xsVal = c(g, xs);
    if (xsVal && xsVal.size !== 1) continue;
    const packed = packS8(w, wz, ws);
    const fused: Node = { op: 'Int8Linear', domain: 'simdtensor', name: `${n.name}/Int8Linear`, inputs: [n.inputs[0], xs, n.inputs[2] ?? '', ''], outputs: mul.outputs.slice(), attrs: { activation: 0 }, extra: { packed } };
    g.nodes.splice(g.nodes.indexOf(n), 1, fused);
    g.nodes = g.nodes.filter((m) => m !== cast && m !== mul && m !== sm);
    absorbEpilogue(g, fused, w.shape[1], true);
    count++;
  }
  return count;
};

/** int8 weights of MatMulInteger / QLinearMatMul / groups-1 ConvInteger and QLinearConv packed once (with their zero points and scales). */
export const prepackInt8: Pass = (g) => {
  let count = 0;
  for (const n of g.nodes) {
    if (n.domain !== '' || n.extra?.packed) continue;
    if (n.op === 'MatMulInteger') {
      const w = c(g, n.inputs[1]);
      const wz = n.inputs[3] ? c(g, n.inputs[3]) : undefined;
      if (!w || w.shape.length !== 2 || (n.inputs[3] && !wz) || (w.dtype !== 'int8' && w.dtype !== 'uint8')) continue;
      n.extra = { packed: packS8(w, wz, undefined) };
      count++;
    } else if (n.op === 'QLinearMatMul') {
      const w = c(g, n.inputs[3]), ws = c(g, n.inputs[4]), wz = n.inputs[5] ? c(g, n.inputs[5]) : undefined;
      if (!w || !ws || w.shape.length !== 2 || (n.inputs[5] && !wz) || (w.dtype !== 'int8' && w.dtype !== 'uint8')) continue;
      n.extra = { packed: packS8(w, wz, ws) };
      count++;
    } else if ((n.op === 'ConvInteger' || n.op === 'QLinearConv') && prepackConvInt8Node(n, g.consts)) count++;
  }
  return count;
};

/** The passes in the order they run (names as listed by `model.optimizations`). */
export const PASSES: [string, Pass][] = [
  ['constant-folding', foldConstants],
  ['dead-node-removal', removeDead],
  ['layernorm-fusion', fuseLayerNorm],
  ['gelu-fusion', fuseGelu],
  ['div-by-constant', divToMul],
  ['attention-scale-folding', foldAttentionScale],
  ['attention-fusion', fuseAttention],
  ['qkv-fusion', fuseQkv],
  ...CONV_PASSES,
  ['transpose-matmul', fuseTransposeMatMul],
  ['sparse-linear', fuseSparseLinear],
  ['linear-fusion', fuseLinear],
  ['dynamic-int8-fusion', fuseDynamicInt8],
  ['fast-dynamic-quantize', fastDynamicQuantize],
  ['int8-prepack', prepackInt8],
  ['residual-layernorm', fuseResidualLayerNorm],
  ['dead-node-removal', removeDead],
];

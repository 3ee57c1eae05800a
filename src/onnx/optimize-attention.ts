/**
 * Load-time pass for attention (listed in `model.optimizations` as 'attention-scale-folding'): the scores' scale,
 * Mul(MatMul(Q, Kᵀ), c) with a constant scalar c (1/√d after `div-by-constant`), moves into the constant weights
 * and bias of the projection that makes Q (or K): Q = Reshape/Transpose(x·W + b) becomes x·(c·W) + c·b, and the
 * pass over the [batch, heads, seq, seq] scores disappears. Float32 MatMul weights are scaled; in onnxruntime's
 * dynamic int8 form (MatMulInteger → Cast → Mul(x_scale · w_scale) → Add(b)) the weight scale w_scale is, so the
 * int8 weights and the quantization stay as they are. Results differ from the unfolded graph by float32 rounding.
 *
 * 'attention-fusion' then replaces each head-split attention block — Transpose(Q), Transpose(K) (perm [0,2,3,1]),
 * Transpose(V) of the [batch, seq, heads, d] Reshapes → MatMul(Q, Kᵀ) → [· or ÷ a constant scalar] → [+ mask] →
 * Softmax(last axis) → MatMul(·, V) → Transpose([0,2,1,3]) — with one fused Attention node (ops/attention.ts) that
 * reads the Reshape outputs in place and writes what the last Transpose wrote: no [batch, heads, seq, seq] value
 * and no transposed copies remain. 'qkv-fusion' (after linear-fusion) merges the Q, K and V projections of one
 * input into a single Linear / Int8Linear whose output rows the Attention node reads at three column offsets.
 * @module
 */
import { consumers, producers, type Graph, type Node } from './graph.js';
import { mk, type Value } from './value.js';
import { attrInt, attrInts } from './graph.js';
import { constOf as c, only, otherInput, type Pass } from './pass-util.js';
import './ops/attention.js';

let seq = 0;
function scaledConst(g: Graph, name: string, v: Value, s: number): string {
  const r = mk('float32', v.shape);
  for (let i = 0; i < v.size; i++) r.data[i] = Math.fround(v.data[i] * s);
  let out = `${name}/attention_scaled#${seq++}`;
  while (g.consts.has(out)) out = `${name}/attention_scaled#${seq++}`;
  g.consts.set(out, r);
  return out;
}
const isF32 = (v: Value | undefined): v is Value => !!v && v.dtype === 'float32';

/**
 * From `name` back through single-reader Reshape/Transpose nodes to the projection that makes it; the edits that
 * multiply that projection by s (not applied), or null when it is not x·W [+ b] with constant W (or w_scale) and b.
 */
function projection(g: Graph, name: string, cons: Map<string, (Node | null)[]>, prod: Map<string, Node>): ((s: number) => void) | null {
  let v = name;
  for (let hops = 0; hops < 4; hops++) {
    const p = prod.get(v);
    if (!p || p.domain !== '' || (p.op !== 'Reshape' && p.op !== 'Transpose') || p.inputs[0] === undefined) break;
    v = p.inputs[0];
    if (!only(cons, v)) return null;
  }
  let n = prod.get(v);
  if (!n || n.domain !== '') return null;
  const edits: ((s: number) => void)[] = [];
  if (n.op === 'Add') {
    const add = n;
    const bi = add.inputs.findIndex((i) => isF32(c(g, i)));
    if (bi < 0 || add.inputs.length !== 2 || isF32(c(g, add.inputs[1 - bi]))) return null;
    const bName = add.inputs[bi];
    edits.push((s) => (add.inputs[bi] = scaledConst(g, bName, c(g, bName)!, s)));
    v = add.inputs[1 - bi];
    if (only(cons, v) !== add) return null;
    n = prod.get(v);
    if (!n || n.domain !== '') return null;
  }
  if (n.op === 'MatMul' && isF32(c(g, n.inputs[1])) && !c(g, n.inputs[0])) {
    const mm = n, wName = n.inputs[1];
    if ((cons.get(wName) ?? []).length !== 1) return null;
    edits.push((s) => (mm.inputs[1] = scaledConst(g, wName, c(g, wName)!, s)));
  } else if (n.op === 'Mul') {
    // onnxruntime's dynamic form: Mul(Cast(MatMulInteger), Mul(x_scale, w_scale)).
    const mul = n;
    const si = mul.inputs.findIndex((i) => prod.get(i)?.op === 'Mul');
    if (si < 0) return null;
    const cast = prod.get(mul.inputs[1 - si]);
    if (!cast || cast.op !== 'Cast' || prod.get(cast.inputs[0])?.op !== 'MatMulInteger') return null;
    const sm = prod.get(mul.inputs[si])!;
    if (only(cons, sm.outputs[0]) !== mul) return null;
    const wi = sm.inputs.findIndex((i) => isF32(c(g, i)));
    if (wi < 0 || isF32(c(g, sm.inputs[1 - wi]))) return null;
    const wsName = sm.inputs[wi];
    if ((cons.get(wsName) ?? []).length !== 1) return null;
    edits.push((s) => (sm.inputs[wi] = scaledConst(g, wsName, c(g, wsName)!, s)));
  } else return null;
  return (s) => edits.forEach((e) => e(s));
}

export const foldAttentionScale: Pass = (g) => {
  let count = 0;
  for (const mul of g.nodes.slice()) {
    if (mul.op !== 'Mul' || mul.domain !== '' || mul.inputs.length !== 2 || !g.nodes.includes(mul)) continue;
    const ci = mul.inputs.findIndex((i) => { const v = c(g, i); return isF32(v) && v.size === 1; });
    if (ci < 0) continue;
    const s = c(g, mul.inputs[ci])!.data[0];
    if (!(s > 0) || !Number.isFinite(s)) continue;
    const cons = consumers(g), prod = producers(g);
    const sName = mul.inputs[1 - ci];
    const mm = prod.get(sName);
    if (!mm || mm.op !== 'MatMul' || mm.domain !== '' || only(cons, sName) !== mul || mm.inputs.some((i) => c(g, i))) continue;
    // The scores must keep their shape: a scalar of rank ≤ the scores' (broadcast only adds leading 1s, never dims).
    if (c(g, mul.inputs[ci])!.shape.length > 2) continue;
    const edit = projection(g, mm.inputs[0], cons, prod) ?? projection(g, mm.inputs[1], cons, prod);
    if (!edit) continue;
    edit(s);
    mm.outputs = mul.outputs.slice();
    g.nodes = g.nodes.filter((x) => x !== mul);
    count++;
  }
  return count;
};

const isPerm = (n: Node | undefined, perm: number[]): n is Node => {
  if (!n || n.op !== 'Transpose' || n.domain !== '') return false;
  const p = attrInts(n, 'perm');
  return !!p && p.length === perm.length && p.every((v, i) => v === perm[i]);
};

/** Softmax(scale·Q·Kᵀ + mask)·V over head-split Q/K/V → one Attention node (see the module comment). */
export const fuseAttention: Pass = (g) => {
  let count = 0;
  for (const sm of g.nodes.slice()) {
    if (sm.op !== 'Softmax' || sm.domain !== '' || !g.nodes.includes(sm)) continue;
    const axis = attrInt(sm, 'axis', (g.opset.get('') ?? 13) < 13 ? 1 : -1);
    if (axis !== -1 && axis !== 3) continue;
    const cons = consumers(g), prod = producers(g);
    const removed: Node[] = [sm];
    // Back from the Softmax: [Add(mask)] ← [Mul/Div(constant scalar)] ← MatMul(Q, Kᵀ).
    let x = sm.inputs[0], mask = '', scale = 1;
    let n = prod.get(x);
    if (n && n.op === 'Add' && n.domain === '' && only(cons, x) === sm) {
      const add = n;
      // The scores side: a MatMul, or a Mul/Div by a constant of a MatMul's output (the mask may be a Mul too).
      const isMM = (p: Node | undefined) => !!p && p.op === 'MatMul' && p.domain === '';
      const si = add.inputs.findIndex((i) => {
        const p = prod.get(i);
        return isMM(p) || (!!p && (p.op === 'Mul' || p.op === 'Div') && p.domain === '' && !!c(g, p.inputs[1]) && isMM(prod.get(p.inputs[0])));
      });
      if (si < 0 || add.inputs[0] === add.inputs[1]) continue;
      mask = add.inputs[1 - si];
      const mv = c(g, mask);
      if (mv && mv.dtype !== 'float32') continue;
      removed.push(add);
      x = add.inputs[si];
      n = prod.get(x);
      if (only(cons, x) !== add) continue;
    }
    if (n && (n.op === 'Mul' || n.op === 'Div') && n.domain === '') {
      const sv = c(g, n.inputs[1]);
      if (!sv || sv.dtype !== 'float32' || sv.size !== 1 || sv.shape.length > 2 || only(cons, x) !== removed[removed.length - 1]) continue;
      scale = n.op === 'Mul' ? sv.data[0] : Math.fround(1 / sv.data[0]);
      removed.push(n);
      x = n.inputs[0];
      n = prod.get(x);
    }
    if (!n || n.op !== 'MatMul' || n.domain !== '' || only(cons, x) !== removed[removed.length - 1]) continue;
    const qk = n;
    removed.push(qk);
    const qt = prod.get(qk.inputs[0]), kt = prod.get(qk.inputs[1]);
    if (!isPerm(qt, [0, 2, 1, 3]) || !isPerm(kt, [0, 2, 3, 1])) continue;
    // Forward from the Softmax: MatMul(P, Transpose(V)) → Transpose([0, 2, 1, 3]).
    const pv = only(cons, sm.outputs[0]);
    if (!pv || pv.op !== 'MatMul' || pv.domain !== '' || pv.inputs[0] !== sm.outputs[0]) continue;
    const vt = prod.get(pv.inputs[1]);
    const tr = only(cons, pv.outputs[0]);
    if (!isPerm(vt, [0, 2, 1, 3]) || !isPerm(tr ?? undefined, [0, 2, 1, 3])) continue;
    removed.push(pv, tr!);
    const fused: Node = {
      op: 'Attention', domain: 'simdtensor', name: `${qk.name}/Attention`,
      inputs: [qt!.inputs[0], kt!.inputs[0], vt!.inputs[0], ...(mask ? [mask] : [])],
      outputs: tr!.outputs.slice(), attrs: { scale },
    };
    g.nodes.splice(g.nodes.indexOf(tr!), 1, fused);
    // The Transposes of Q/K/V go too when the block was their only reader.
    for (const t of [qt!, kt!, vt!]) if ((cons.get(t.outputs[0]) ?? []).every((r) => r && removed.includes(r))) removed.push(t);
    g.nodes = g.nodes.filter((m) => !removed.includes(m));
    count++;
  }
  return count;
};

/** A concatenation along the last axis of 1-D or [K, Ni] constants (same leading dims), as a new constant. */
function concatLast(g: Graph, names: string[]): string {
  const vs = names.map((n) => c(g, n)!);
  const rows = vs[0].shape.length === 2 ? vs[0].shape[0] : 1;
  const widths = vs.map((v) => (v.shape.length === 2 ? v.shape[1] : v.size));
  const total = widths.reduce((a, b) => a + b, 0);
  const r = mk(vs[0].dtype, vs[0].shape.length === 2 ? [rows, total] : [total]);
  for (let i = 0; i < rows; i++) {
    let off = 0;
    vs.forEach((v, k) => {
      for (let j = 0; j < widths[k]; j++) r.data[i * total + off + j] = v.data[i * widths[k] + j];
      off += widths[k];
    });
  }
  let out = `${names[0]}/qkv#${seq++}`;
  while (g.consts.has(out)) out = `${names[0]}/qkv#${seq++}`;
  g.consts.set(out, r);
  return out;
}

/** Per-column copy of a scalar constant (a weight scale), `n` wide. */
function spread(v: Value, n: number): Value {
  const r = mk('float32', [n]);
  r.data.fill(v.data[0] as never);
  return r;
}

interface Proj {
  /** Nodes making the projection, first to last (the last one's output is the projection). */
  nodes: Node[];
  x: string;
  w: string;
  b: string;
  /** int8: the MatMulInteger's xz input and weight zero point name, the x-scale input and weight-scale constant. */
  q?: { xz: string; wz: string; xs: string; ws: string };
}

/** x·W + b with constant W [K, N] and b [N] (float32), or onnxruntime's dynamic int8 form of it; else null. */
function projOf(g: Graph, name: string, cons: Map<string, (Node | null)[]>, prod: Map<string, Node>): Proj | null {
  const add = prod.get(name);
  if (!add || add.op !== 'Add' || add.domain !== '' || add.inputs.length !== 2) return null;
  const bi = add.inputs.findIndex((i) => isF32(c(g, i)));
  if (bi < 0) return null;
  const b = add.inputs[bi], y = add.inputs[1 - bi];
  const bv = c(g, b)!;
  if (bv.shape.length !== 1 || only(cons, y) !== add) return null;
  const n = prod.get(y);
  if (!n || n.domain !== '') return null;
  if (n.op === 'MatMul') {
    const w = c(g, n.inputs[1]);
    if (!isF32(w) || w.shape.length !== 2 || w.shape[1] !== bv.size || c(g, n.inputs[0])) return null;
    return { nodes: [n, add], x: n.inputs[0], w: n.inputs[1], b };
  }
  if (n.op !== 'Mul') return null;
  const si = n.inputs.findIndex((i) => prod.get(i)?.op === 'Mul');
  if (si < 0) return null;
  const cast = prod.get(n.inputs[1 - si]), sm = prod.get(n.inputs[si])!;
  if (!cast || cast.op !== 'Cast' || cast.attrs.to !== 1 || only(cons, cast.outputs[0]) !== n || only(cons, sm.outputs[0]) !== n) return null;
  const mi = prod.get(cast.inputs[0]);
  if (!mi || mi.op !== 'MatMulInteger' || mi.domain !== '' || only(cons, mi.outputs[0]) !== cast) return null;
  const w = c(g, mi.inputs[1]);
  if (!w || w.shape.length !== 2 || w.shape[1] !== bv.size || (w.dtype !== 'int8' && w.dtype !== 'uint8')) return null;
  const wsi = sm.inputs.findIndex((i) => isF32(c(g, i)));
  if (wsi < 0 || c(g, sm.inputs[1 - wsi]) || c(g, sm.inputs[wsi])!.size !== 1) return null;
  const wz = mi.inputs[3] ?? '';
  if (wz && (!c(g, wz) || c(g, wz)!.size !== 1)) return null;
  return { nodes: [mi, cast, sm, n, add], x: mi.inputs[0], w: mi.inputs[1], b, q: { xz: mi.inputs[2] ?? '', wz, xs: sm.inputs[1 - wsi], ws: sm.inputs[wsi] } };
}

/** H and d of a Reshape target [batch, seq, H, d]: a constant, or a Concat whose tail is the constant [H, d]. */
function headSplit(g: Graph, shape: string, prod: Map<string, Node>): [number, number] | null {
  const v = c(g, shape);
  if (v) return v.size === 4 ? [Number(v.data[2]), Number(v.data[3])] : null;
  const cat = prod.get(shape);
  if (!cat || cat.op !== 'Concat' || cat.domain !== '') return null;
  const tail = c(g, cat.inputs[cat.inputs.length - 1]);
  return tail && tail.size === 2 && cat.inputs.length === 3 ? [Number(tail.data[0]), Number(tail.data[1])] : null;
}

/**
 * The Q, K and V projections of one input, each read only through its Reshape by one 4-D Attention node, → one
 * projection with the three weights (and biases, and int8 weight scales) side by side; the Attention reads its
 * [batch, seq, 3·H·d] output at three column offsets and checks the Reshape target at run time.
 */
export const fuseQkv: Pass = (g) => {
  let count = 0;
  for (const at of g.nodes.slice()) {
    if (at.op !== 'Attention' || at.domain !== 'simdtensor' || at.attrs.heads !== undefined) continue;
    const cons = consumers(g), prod = producers(g);
    const rs = at.inputs.slice(0, 3).map((i) => prod.get(i));
    if (rs.some((r) => !r || r.op !== 'Reshape' || r.domain !== '' || attrInt(r, 'allowzero', 0) !== 0 || r.inputs[1] !== rs[0]!.inputs[1] || only(cons, r.outputs[0]) !== at)) continue;
    if (new Set(at.inputs.slice(0, 3)).size !== 3) continue;
    const hd = headSplit(g, rs[0]!.inputs[1], prod);
    if (!hd) continue;
    const ps = rs.map((r) => (only(cons, r!.inputs[0]) === r ? projOf(g, r!.inputs[0], cons, prod) : null));
    if (ps.some((p) => !p) || ps.some((p) => p!.x !== ps[0]!.x || !!p!.q !== !!ps[0]!.q)) continue;
    const P = ps as Proj[];
    const [heads, d] = hd;
    if (P.some((p) => c(g, p.b)!.size !== heads * d || c(g, p.w)!.shape[0] !== c(g, P[0].w)!.shape[0])) continue;
    const q0 = P[0].q;
    if (q0 && P.some((p) => p.q!.xz !== q0.xz || p.q!.xs !== q0.xs || (p.q!.wz ? c(g, p.q!.wz)!.data[0] : 0) !== (q0.wz ? c(g, q0.wz)!.data[0] : 0) || c(g, p.w)!.dtype !== c(g, P[0].w)!.dtype)) continue;
    const w = concatLast(g, P.map((p) => p.w)), b = concatLast(g, P.map((p) => p.b));
    const y = `${at.name}/qkv`;
    const width = 3 * heads * d;
    let made: Node[];
    if (!q0) {
      const mm = `${y}/matmul`;
      made = [
        { op: 'MatMul', domain: '', name: `${at.name}/qkv_matmul`, inputs: [P[0].x, w], outputs: [mm], attrs: {} },
        { op: 'Add', domain: '', name: `${at.name}/qkv_bias`, inputs: [mm, b], outputs: [y], attrs: {} },
      ];
    } else {
      // Per-column weight scales: each projection's scalar spread over its columns.
      const wsName = `${y}/w_scale`;
      const wsv = mk('float32', [width]);
      P.forEach((p, k) => wsv.data.set(spread(c(g, p.q!.ws)!, heads * d).data as Float32Array, k * heads * d));
      g.consts.set(wsName, wsv);
      made = [
        { op: 'MatMulInteger', domain: '', name: `${at.name}/qkv_mmi`, inputs: [P[0].x, w, q0.xz, q0.wz], outputs: [`${y}/acc`], attrs: {} },
        { op: 'Cast', domain: '', name: `${at.name}/qkv_cast`, inputs: [`${y}/acc`], outputs: [`${y}/accf`], attrs: { to: 1 } },
        { op: 'Mul', domain: '', name: `${at.name}/qkv_scale`, inputs: [q0.xs, wsName], outputs: [`${y}/s`], attrs: {} },
        { op: 'Mul', domain: '', name: `${at.name}/qkv_deq`, inputs: [`${y}/accf`, `${y}/s`], outputs: [`${y}/deq`], attrs: {} },
        { op: 'Add', domain: '', name: `${at.name}/qkv_bias`, inputs: [`${y}/deq`, b], outputs: [y], attrs: {} },
      ];
    }
    // The merged projection takes the place of the earliest node it replaces (after x and its quantization).
    const gone = new Set<Node>([...P.flatMap((p) => p.nodes), ...(rs as Node[])]);
    const anchor = g.nodes[Math.min(...[...gone].map((m) => g.nodes.indexOf(m)))];
    g.nodes = g.nodes.filter((m) => !gone.has(m) || m === anchor);
    g.nodes.splice(g.nodes.indexOf(anchor), 1, ...made);
    at.inputs = [y, y, y, at.inputs[3] ?? '', rs[0]!.inputs[1]];
    at.attrs = { ...at.attrs, heads, dk: d, dv: d, qOffset: 0, kOffset: heads * d, vOffset: 2 * heads * d };
    count++;
  }
  return count;
};

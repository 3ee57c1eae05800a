/**
 * Load-time passes for convolutional graphs (listed in `model.optimizations`): the decomposed hard-swish fused
 * into one op, batch norm and per-channel / scalar affine ops folded into the conv weights, a scalar affine in
 * front of an unpadded conv folded into it, and Conv/ConvTranspose with constant weights packed once with a
 * residual Add and the following activation in the conv epilogue.
 * @module
 */
import { Tensor } from '../tensor.js';
import { packConvWeights, PackedConvWeights } from '../conv/conv2d.js';
import { attrInt, attrInts, attrStr, consumers, producers, type Graph, type Node } from './graph.js';
import { bnScaleShift, packShuffle, type FusedConvExtra } from './ops/conv.js';
import { mk, type Value } from './value.js';
import { fuseDynamicInt8Conv, routeInt8ConvFloat } from './optimize-int8.js';
import { activationOf, clipBounds, constOf as c, dwOk, geometry, only, otherInput, type Pass } from './pass-util.js';
import type { Int8ConvExtra } from './ops/conv-int8.js';

const scalarIs = (v: Value | undefined, x: number, tol = 1e-6) => !!v && v.size === 1 && Math.abs(v.data[0] - x) <= tol * Math.max(1, Math.abs(x));

let seq = 0;
function newConst(g: Graph, base: string, v: Value): string {
  let name = `${base}#${seq++}`;
  while (g.consts.has(name)) name = `${base}#${seq++}`;
  g.consts.set(name, v);
  return name;
}

/**
 * x · Clip(x + 3, 0, 6) / 6 (the Div already a Mul by 1/6 after `div-by-constant`, or still a Div by 6), in either
 * operand order → HardSwish.
 */
export const fuseHardSwish: Pass = (g) => {
  let count = 0;
  for (const add of g.nodes.slice()) {
    if (add.op !== 'Add' || add.domain !== '' || !g.nodes.includes(add)) continue;
    const cons = consumers(g);
    const three = add.inputs.find((i) => scalarIs(c(g, i), 3));
    if (!three) continue;
    const x = otherInput(add, three);
    if (c(g, x)) continue;
    const clip = only(cons, add.outputs[0]);
    if (!clip || clip.op !== 'Clip' || clip.inputs[0] !== add.outputs[0]) continue;
    const b = clipBounds(g, clip);
    if (!b || b[0] !== 0 || b[1] !== 6) continue;
    const mul = only(cons, clip.outputs[0]);
    if (!mul || mul.op !== 'Mul' || otherInput(mul, clip.outputs[0]) !== x) continue;
    const last = only(cons, mul.outputs[0]);
    if (!last || !((last.op === 'Mul' && scalarIs(c(g, otherInput(last, mul.outputs[0])), 1 / 6, 1e-6)) || (last.op === 'Div' && last.inputs[0] === mul.outputs[0] && scalarIs(c(g, last.inputs[1]), 6)))) continue;
    const fused: Node = { op: 'HardSwish', domain: '', name: `${add.name}/HardSwish`, inputs: [x], outputs: [last.outputs[0]], attrs: {} };
    g.nodes.splice(g.nodes.indexOf(last), 1, fused);
    g.nodes = g.nodes.filter((m) => m !== add && m !== clip && m !== mul);
    count++;
  }
  return count;
};

/**
 * x + x·s → x·(1 + s) when the Mul's only reader is the Add (PP-LCNet's squeeze-excite with identity: s is the
 * [N, C, 1, 1] gate, so 1 + s is tiny and one full-size pass goes away).
 */
export const fuseScaleResidual: Pass = (g) => {
  let count = 0;
  for (const add of g.nodes.slice()) {
    if (add.op !== 'Add' || add.domain !== '' || add.inputs.length !== 2) continue;
    const cons = consumers(g), prod = producers(g);
    for (const mName of add.inputs) {
      const mul = prod.get(mName);
      const x = otherInput(add, mName);
      if (!mul || mul.op !== 'Mul' || mul.domain !== '' || only(cons, mName) !== add || !mul.inputs.includes(x) || c(g, x)) continue;
      const sName = otherInput(mul, x);
      if (sName === x) continue;
      const one = newConst(g, `${mul.name}/one`, mk('float32', [], Float32Array.of(1)));
      const s1 = `${sName}/plus_one#${seq++}`;
      const inc: Node = { op: 'Add', domain: '', name: `${mul.name}/plus_one`, inputs: [sName, one], outputs: [s1], attrs: {} };
      const fused: Node = { op: 'Mul', domain: '', name: `${add.name}/scale`, inputs: [x, s1], outputs: [add.outputs[0]], attrs: {} };
      const at = g.nodes.indexOf(add);
      g.nodes.splice(at, 1, inc, fused);
      g.nodes = g.nodes.filter((m) => m !== mul);
      count++;
      break;
    }
  }
  return count;
};

/** The channel count (dim 1) of a value when the graph fixes it (conv weights, carried through shape-keeping ops). */
function channelsOf(g: Graph, prod: Map<string, Node>, name: string, depth = 0): number | null {
  if (depth > 64) return null;
  const p = prod.get(name);
  if (!p || p.domain !== '') return null;
  if (p.op === 'Conv' || p.op === 'ConvTranspose') {
    const w = c(g, p.inputs[1]);
    if (!w || w.shape.length < 3) return null;
    return p.op === 'Conv' ? w.shape[0] : w.shape[1] * attrInt(p, 'group', 1);
  }
  if (UNARY.has(p.op) || ['Clip', 'Resize', 'MaxPool', 'AveragePool', 'BatchNormalization', 'GlobalAveragePool', 'GlobalMaxPool'].includes(p.op))
    return channelsOf(g, prod, p.inputs[0], depth + 1);
  if (BINARY.has(p.op)) {
    for (const i of p.inputs) if (!c(g, i)) {
      const k = channelsOf(g, prod, i, depth + 1);
      if (k !== null && k > 1) return k;
    }
    return null;
  }
  if (p.op === 'Concat' && attrInt(p, 'axis', 0) === 1) {
    let sum = 0;
    for (const i of p.inputs) {
      const k = channelsOf(g, prod, i, depth + 1);
      if (k === null) return null;
      sum += k;
    }
    return sum;
  }
  return null;
}

/**
 * Conv(Concat(a, b, …, axis 1), W) → Conv(a, W[:, a's channels]) + Conv(b, W[:, b's]) + … as a chain whose Adds
 * `conv-fusion` turns into residual epilogues: no concatenated copy (an element-wise gather in NHWC). Needs every
 * input's channel count from the graph (conv weights upstream) and a plain groups-1 Conv with constant weights.
 */
export const splitConcatConv: Pass = (g) => {
  let count = 0;
  for (const n of g.nodes.slice()) {
    if (n.op !== 'Conv' || n.domain !== '' || attrInt(n, 'group', 1) !== 1) continue;
    const info = convWeights(g, n);
    if (!info || info.w.shape.length !== 4) continue;
    const cons = consumers(g), prod = producers(g);
    const cat = prod.get(n.inputs[0]);
    if (!cat || cat.op !== 'Concat' || cat.domain !== '' || attrInt(cat, 'axis', 0) !== 1 || only(cons, cat.outputs[0]) !== n || cat.inputs.length < 2) continue;
    const chans = cat.inputs.map((i) => channelsOf(g, prod, i));
    if (chans.some((k) => k === null) || chans.reduce((a: number, b) => a + (b as number), 0) !== info.w.shape[1]) continue;
    const [M, C, kh, kw] = info.w.shape;
    const W = info.w.data as Float32Array;
    const parts: Node[] = [];
    let off = 0, prev = '';
    cat.inputs.forEach((inp, i) => {
      const ci = chans[i]!;
      const wi = mk('float32', [M, ci, kh, kw]);
      for (let m = 0; m < M; m++) (wi.data as Float32Array).set(W.subarray((m * C + off) * kh * kw, (m * C + off + ci) * kh * kw), m * ci * kh * kw);
      off += ci;
      const last = i === cat.inputs.length - 1;
      const y = `${n.outputs[0]}/part${i}#${seq++}`;
      const ins = [inp, newConst(g, `${n.inputs[1]}/part${i}`, wi)];
      if (i === 0 && n.inputs[2]) ins.push(n.inputs[2]);
      parts.push({ op: 'Conv', domain: '', name: `${n.name}/part${i}`, inputs: ins, outputs: [i === 0 ? (last ? n.outputs[0] : y) : y], attrs: { ...n.attrs } });
      if (i > 0) {
        const sum = last ? n.outputs[0] : `${n.outputs[0]}/sum${i}#${seq++}`;
        parts.push({ op: 'Add', domain: '', name: `${n.name}/sum${i}`, inputs: [y, prev], outputs: [sum], attrs: {} });
        prev = sum;
      } else prev = y;
    });
    g.nodes.splice(g.nodes.indexOf(n), 1, ...parts);
    g.nodes = g.nodes.filter((m) => m !== cat);
    count++;
  }
  return count;
};

/** A float32 scalar constant's value (shape of rank ≤ 4, one element), or null. */
function scalarConst(g: Graph, name: string): number | null {
  const v = c(g, name);
  return v && v.dtype === 'float32' && v.size === 1 && v.shape.length <= 4 ? v.data[0] : null;
}

/**
 * y = x·a + b written as Mul and Add by scalar constants (PP-LCNetV3's learnable affine after each activation,
 * where no conv can absorb it) → one ScalarAffine pass over memory instead of two.
 */
export const fuseScalarAffine: Pass = (g) => {
  let count = 0;
  for (const mul of g.nodes.slice()) {
    if (mul.op !== 'Mul' || mul.domain !== '' || !g.nodes.includes(mul)) continue;
    const ai = mul.inputs.findIndex((i) => scalarConst(g, i) !== null);
    if (ai < 0 || mul.inputs[0] === mul.inputs[1]) continue;
    const x = mul.inputs[1 - ai];
    const cons = consumers(g);
    const add = only(cons, mul.outputs[0]);
    if (!add || add.domain !== '' || (add.op !== 'Add' && !(add.op === 'Sub' && add.inputs[0] === mul.outputs[0]))) continue;
    const bName = otherInput(add, mul.outputs[0]);
    const b = scalarConst(g, bName);
    if (b === null) continue;
    const fused: Node = { op: 'ScalarAffine', domain: 'simdtensor', name: `${mul.name}/ScalarAffine`, inputs: [x, mul.inputs[ai], bName], outputs: [add.outputs[0]], attrs: { negate_b: add.op === 'Sub' ? 1 : 0 } };
    g.nodes.splice(g.nodes.indexOf(add), 1, fused);
    g.nodes = g.nodes.filter((m) => m !== mul);
    count++;
  }
  return count;
};

/**
 * A ScalarAffine whose input is a FusedConv's hard-swish output read by nothing else → the conv epilogue computes
 * a·hardSwish(y) + b (the `{ hardSwish: { scale, shift } }` activation): PP-LCNetV3's affine after each activation
 * costs no pass over memory. The ScalarAffine joins the conv's tail (for the unfused fallback).
 */
export const fuseConvAffineEpilogue: Pass = (g) => {
  let count = 0;
  const prod = producers(g);
  for (const n of g.nodes.slice()) {
    if (n.op !== 'ScalarAffine' || n.domain !== 'simdtensor') continue;
    const conv = prod.get(n.inputs[0]);
    if (!conv || conv.op !== 'FusedConv' || conv.domain !== 'simdtensor' || !g.nodes.includes(conv)) continue;
    const e = conv.extra as unknown as FusedConvExtra;
    if (e.opts.activation !== 'hardSwish' || only(consumers(g), n.inputs[0]) !== n) continue;
    const a = c(g, n.inputs[1]), b = c(g, n.inputs[2]);
    // Constants of a higher rank than the conv output would broadcast it to a new shape: not a plain affine.
    if (!a || !b || a.shape.length > e.rank || b.shape.length > e.rank) continue;
    const scale = Math.fround(a.data[0]), shift = Math.fround(attrInt(n, 'negate_b', 0) ? -b.data[0] : b.data[0]);
    e.opts.activation = { hardSwish: { scale, shift } };
    e.tail.push({ node: n, ins: ['y', a, b] });
    conv.outputs = [n.outputs[0]];
    g.nodes = g.nodes.filter((m) => m !== n);
    count++;
  }
  return count;
};

/** The constant float32 weights of a Conv/ConvTranspose (2-D or 1-D) with its output channel count. */
function convWeights(g: Graph, n: Node): { w: Value; m: number; groups: number; transposed: boolean } | null {
  if (n.domain !== '' || (n.op !== 'Conv' && n.op !== 'ConvTranspose')) return null;
  const w = c(g, n.inputs[1]);
  if (!w || w.dtype !== 'float32' || (w.shape.length !== 4 && w.shape.length !== 3)) return null;
  if (n.inputs[2] && !c(g, n.inputs[2])) return null;
  const groups = attrInt(n, 'group', 1);
  const transposed = n.op === 'ConvTranspose';
  const m = transposed ? w.shape[1] * groups : w.shape[0];
  return { w, m, groups, transposed };
}

/** A constant that broadcasts per output channel of a rank-`r` NCHW output: its values per channel (length 1 or m). */
function perChannel(v: Value | undefined, m: number, r: number): Float32Array | null {
  if (!v || v.dtype !== 'float32') return null;
  if (v.size === 1 && v.shape.length <= r) return Float32Array.of(v.data[0]);
  if (v.size !== m || v.shape.length > r) return null;
  const s = new Array<number>(r - v.shape.length).fill(1).concat(v.shape as number[]);
  if (s.some((d, i) => (i === 1 ? d !== m : d !== 1))) return null;
  return Float32Array.from(v.data as Float32Array);
}

/** Rewrites a conv's weights and bias to w'[o] = w[o]·scale[o], b'[o] = b[o]·scale[o] + shift[o]. */
function scaleConv(g: Graph, n: Node, info: NonNullable<ReturnType<typeof convWeights>>, scale: Float32Array | null, shift: Float32Array | null): void {
  const { w, m, groups, transposed } = info;
  const at = (a: Float32Array, o: number) => (a.length === 1 ? a[0] : a[o]);
  if (scale) {
    const nw = mk('float32', w.shape);
    const W = w.data as Float32Array, NW = nw.data as Float32Array;
    const inner = w.size / (w.shape[0] * w.shape[1]);
    if (!transposed) {
      const per = w.size / m;
      for (let o = 0; o < m; o++) {
        const s = at(scale, o);
        for (let i = o * per; i < (o + 1) * per; i++) NW[i] = W[i] * s;
      }
    } else {
      // [C, M/groups, k…]: input channel ci of group ci / (C/groups) feeds outputs grp·(M/groups) + j.
      const C = w.shape[0], mg = w.shape[1], cg = C / groups;
      for (let ci = 0; ci < C; ci++) {
        const grp = Math.floor(ci / cg);
        for (let j = 0; j < mg; j++) {
          const s = at(scale, grp * mg + j), base = (ci * mg + j) * inner;
          for (let t = 0; t < inner; t++) NW[base + t] = W[base + t] * s;
        }
      }
    }
    n.inputs[1] = newConst(g, `${n.inputs[1]}/folded`, nw);
  }
  const b = c(g, n.inputs[2]);
  if (scale || shift) {
    const nb = mk('float32', [m]);
    for (let o = 0; o < m; o++) {
      const b0 = b ? b.data[b.size === 1 ? 0 : o] : 0;
      nb.data[o] = Math.fround(b0 * (scale ? at(scale, o) : 1)) + (shift ? at(shift, o) : 0);
    }
    n.inputs[2] = newConst(g, `${n.name}/bias`, nb);
  }
}

/**
 * Conv/ConvTranspose with constant weights followed by BatchNormalization (constant statistics), or by a Mul / Add /
 * Sub with a scalar or per-channel constant → the affine folded into the weights and bias; repeated while it applies.
 */
export const foldConvAffine: Pass = (g) => {
  let count = 0;
  for (const n of g.nodes.slice()) {
    for (;;) {
      if (!g.nodes.includes(n)) break;
      const info = convWeights(g, n);
      if (!info) break;
      const cons = consumers(g);
      const next = only(cons, n.outputs[0]);
      if (!next || next.domain !== '') break;
      const r = info.w.shape.length;
      let scale: Float32Array | null = null, shift: Float32Array | null = null;
      if (next.op === 'BatchNormalization' && next.inputs[0] === n.outputs[0] && !next.outputs.slice(1).some((o) => o) && attrInt(next, 'training_mode', 0) === 0 && attrInt(next, 'spatial', 1) === 1) {
        const p = next.inputs.slice(1, 5).map((i) => c(g, i));
        if (p.some((v) => !v || v.dtype !== 'float32' || v.size !== info.m)) break;
        ({ scale, shift } = bnScaleShift(next, p[0]!, p[1]!, p[2]!, p[3]!));
      } else if (next.op === 'Mul' || next.op === 'Add' || (next.op === 'Sub' && next.inputs[0] === n.outputs[0])) {
        const k = perChannel(c(g, otherInput(next, n.outputs[0])), info.m, r);
        if (!k || next.inputs[0] === next.inputs[1]) break;
        if (next.op === 'Mul') scale = k;
        else shift = next.op === 'Add' ? k : k.map((v) => -v);
      } else break;
      scaleConv(g, n, info, scale, shift);
      n.outputs = [next.outputs[0]];
      g.nodes = g.nodes.filter((m) => m !== next);
      count++;
    }
  }
  return count;
};

/** True when a Conv node reads no padding (every tap of every output lies inside the input). */
function unpadded(n: Node): boolean {
  const auto = attrStr(n, 'auto_pad', 'NOTSET');
  if (auto === 'VALID') return true;
  if (auto !== 'NOTSET') return false;
  const p = attrInts(n, 'pads');
  return !p || p.every((v) => v === 0);
}

/**
 * A scalar affine y = a·x + b (Mul, then Add, by scalar constants) whose only reader is an unpadded Conv with
 * constant weights → W' = a·W, bias' = bias + b·Σ W over each output channel's taps (exact: no padding taps).
 */
export const foldConvInputAffine: Pass = (g) => {
  let count = 0;
  for (const n of g.nodes.slice()) {
    if (!g.nodes.includes(n) || n.op !== 'Conv' || !unpadded(n)) continue;
    const info = convWeights(g, n);
    if (!info) continue;
    const w = info.w;
    const cons = consumers(g), prod = producers(g);
    let a = 1, b = 0;
    const removed: Node[] = [];
    let src = n.inputs[0];
    let p = prod.get(src);
    if (p && p.op === 'Add' && p.domain === '' && only(cons, src) === n) {
      const k = p.inputs.find((i) => c(g, i)) ?? '';
      const kv = c(g, k);
      if (kv && kv.size === 1 && kv.dtype === 'float32' && kv.shape.length <= w.shape.length) {
        b = kv.data[0];
        removed.push(p);
        src = otherInput(p, k);
        p = prod.get(src);
      }
    }
    if (p && p.op === 'Mul' && p.domain === '' && (removed.length ? only(cons, src) === removed[0] : only(cons, src) === n)) {
      const k = c(g, p.inputs[0]) ? p.inputs[0] : c(g, p.inputs[1]) ? p.inputs[1] : '';
      const kv = c(g, k);
      if (kv && kv.size === 1 && kv.dtype === 'float32' && kv.shape.length <= w.shape.length) {
        a = kv.data[0];
        removed.push(p);
        src = otherInput(p, k);
      }
    }
    if (!removed.length) continue;
    const { m } = info;
    const W = w.data as Float32Array, per = w.size / m;
    const nw = mk('float32', w.shape), nb = mk('float32', [m]);
    const bias = c(g, n.inputs[2]);
    for (let o = 0; o < m; o++) {
      let sum = 0;
      for (let i = o * per; i < (o + 1) * per; i++) {
        sum += W[i];
        nw.data[i] = W[i] * a;
      }
      nb.data[o] = (bias ? bias.data[o] : 0) + b * sum;
    }
    n.inputs = [src, newConst(g, `${n.inputs[1]}/folded`, nw), newConst(g, `${n.name}/bias`, nb)];
    g.nodes = g.nodes.filter((x) => !removed.includes(x));
    count++;
  }
  return count;
};

/**
 * Conv/ConvTranspose with constant float32 weights → a FusedConv over weights packed once (depthwise: the raw
 * weights, for the depthwise kernels), absorbing a residual Add (non-depthwise Conv) and then an activation.
 * The absorbed nodes are kept in `extra.tail` for the rare run whose residual broadcasts instead of matching.
 */
export const fuseConv: Pass = (g) => {
  let count = 0;
  for (const n of g.nodes.slice()) {
    if (!g.nodes.includes(n)) continue;
    const info = convWeights(g, n);
    if (!info) continue;
    const { w, groups, transposed } = info;
    const rank = w.shape.length;
    const kernel = attrInts(n, 'kernel_shape');
    if (kernel && kernel.some((d, i) => d !== w.shape[2 + i])) continue; // the op reports the mismatch at run time
    const wt = w as unknown as Tensor;
    const w4 = rank === 4 ? wt : new Tensor(wt.data as Float32Array, [w.shape[0], w.shape[1], 1, w.shape[2]], 'float32', w.size);
    const cin = transposed ? w.shape[0] : w.shape[1] * groups;
    const depthwise = !transposed && groups > 1 && groups === cin && info.m === cin && w.shape[1] === 1;
    const bias = c(g, n.inputs[2]) as unknown as Tensor | undefined;
    if (bias && bias.size !== info.m) continue;
    // Geometry: as the op computes it; output_shape for ConvTranspose stays with the plain op.
    if (transposed && attrInts(n, 'output_shape')) continue;
    const geo = geometry(n, rank, transposed);
    if (!geo) continue;
    // ConvTranspose with kernel = stride and nothing else: a 1×1 conv and a depth-to-space transpose.
    const g2 = geo as unknown as { strides: [number, number]; dilations: [number, number]; pads: number[]; outputPadding: [number, number] };
    const shuffle = transposed && groups === 1 && g2.strides[0] === w4.shape[2] && g2.strides[1] === w4.shape[3] && Array.isArray(g2.pads) && g2.pads.every((v) => v === 0) &&
      g2.dilations.every((v) => v === 1) && g2.outputPadding.every((v) => v === 0)
      ? { kh: w4.shape[2], kw: w4.shape[3], m: info.m, wT: w4, bias: bias ?? null }
      : undefined;
    const extra: FusedConvExtra = {
      w: shuffle ? packShuffle(shuffle, false) : depthwise ? w4 : packConvWeights(w4, { weightLayout: transposed ? 'iohw' : 'oihw', groups, transposed, bias: bias ?? null }),
      shuffle,
      bias: depthwise ? (bias ?? null) : null,
      opts: { ...geo, groups },
      transposed,
      rank,
      tail: [],
      opset: g.opset.get('') ?? 1,
    };
    const fused: Node = { op: 'FusedConv', domain: 'simdtensor', name: `${n.name}/FusedConv`, inputs: [n.inputs[0]], outputs: [n.outputs[0]], attrs: {}, extra: extra as unknown as Record<string, unknown> };
    let at = g.nodes.indexOf(n);
    g.nodes.splice(at, 1, fused);
    // Residual: Add(conv, r) with r not constant (plain Conv, not depthwise), then one activation.
    for (let step = 0; step < 2; step++) {
      const cons = consumers(g);
      const y = fused.outputs[0];
      const next = only(cons, y);
      if (!next) break;
      if (step === 0 && next.op === 'Add' && next.domain === '' && !transposed && !depthwise) {
        const r = otherInput(next, y);
        if (!r || r === y || c(g, r)) break;
        fused.inputs[1] = r;
      } else {
        const act = activationOf(g, next);
        if (!act || (depthwise && !dwOk(act))) break;
        Object.assign(extra.opts, act);
        step = 2;
      }
      extra.tail.push({ node: next, ins: next.inputs.map((i) => (i === y ? 'y' : i === fused.inputs[1] ? 'r' : c(g, i) ?? null)) });
      fused.outputs = [next.outputs[0]];
      // The fused node runs where the last absorbed node ran (its residual is computed by then).
      const ni = g.nodes.indexOf(next);
      g.nodes.splice(ni, 1, fused);
      g.nodes.splice(at, 1);
      at = g.nodes.indexOf(fused);
    }
    count++;
  }
  return count;
};

const UNARY = new Set(['ScalarAffine', 'Relu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Elu', 'Tanh', 'Exp', 'Neg', 'Abs', 'Sqrt', 'Erf', 'Softplus', 'Identity', 'Dropout']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min']);
/** NCHW axis → its position in NHWC. */
const TO_NHWC_AXIS = [0, 3, 1, 2];

/** A constant broadcast against a 4-D NCHW value, rewritten for the NHWC form (null when its rank is above 4). */
function nhwcConst(g: Graph, name: string): string | null {
  const v = c(g, name)!;
  if (v.shape.length > 4) return null;
  if (v.size === 1 || v.shape.length < 3) {
    // Rank ≤ 2 broadcasts over H, W (or W alone): only a scalar keeps its meaning after the permutation.
    if (v.size !== 1) return null;
    return name;
  }
  const s = new Array<number>(4 - v.shape.length).fill(1).concat(v.shape as number[]);
  const t = mk(v.dtype, [s[0], s[2], s[3], s[1]]);
  const [A, B, C, D] = s;
  for (let a = 0; a < A; a++)
    for (let b = 0; b < B; b++)
      for (let h = 0; h < C; h++)
        for (let w = 0; w < D; w++) t.data[((a * C + h) * D + w) * B + b] = v.data[((a * B + b) * C + h) * D + w];
  return newConst(g, `${name}/nhwc`, t);
}

/**
 * Runs the convolutional part of the graph in NHWC, the conv kernels' native layout: every fused 2-D conv reads
 * and writes NHWC, and pools, Resize, Concat over channels, unary ops and broadcasting binaries whose inputs are
 * NHWC (constants permuted once here) stay NHWC; a Transpose back to NCHW is inserted only where another op (or a
 * graph output) reads the value, and one to NHWC where a conv reads an NCHW value (the graph input).
 */
export const nhwcLayout: Pass = (g) => {
  const nhwc = new Map<string, string>(); // NCHW name → the name of its NHWC form
  const onlyNhwc = new Set<string>(); // values whose producer now writes only the NHWC form
  const out: Node[] = [];
  let count = 0, k = 0;
  const toNchw = (name: string) => {
    if (!onlyNhwc.has(name)) return;
    out.push({ op: 'LayoutTranspose', domain: 'simdtensor', name: `${name}/to_nchw`, inputs: [nhwc.get(name)!], outputs: [name], attrs: { perm: [0, 3, 1, 2] } });
    onlyNhwc.delete(name);
  };
  const toNhwc = (name: string): string => {
    let t = nhwc.get(name);
    if (!t) {
      t = `${name}/nhwc#${k++}`;
      out.push({ op: 'LayoutTranspose', domain: 'simdtensor', name: `${name}/to_nhwc`, inputs: [name], outputs: [t], attrs: { perm: [0, 2, 3, 1] } });
      nhwc.set(name, t);
    }
    return t;
  };
  const convertOutputs = (n: Node) => {
    n.outputs = n.outputs.map((o) => {
      if (!o) return o;
      const t = `${o}/nhwc#${k++}`;
      nhwc.set(o, t);
      onlyNhwc.add(o);
      return t;
    });
    count++;
  };
  const readers = consumers(g);
  const feedsInt8Conv = (name: string) => {
    const l = readers.get(name);
    return !!l && l.every((r) => r && r.domain === 'simdtensor' && r.op === 'Int8Conv' && r.inputs[0] === name && (r.extra as unknown as Int8ConvExtra).rank === 4);
  };
  for (const n of g.nodes) {
    const isN = (i: string) => !!i && nhwc.has(i);
    let convert = false;
    if (n.domain === 'simdtensor' && n.op === 'FusedConv' && (n.extra as unknown as FusedConvExtra).rank === 4) {
      const e = n.extra as unknown as FusedConvExtra;
      n.inputs = n.inputs.map((i) => (i ? toNhwc(i) : i));
      e.opts = { ...e.opts, layout: 'nhwc', weightLayout: e.transposed ? 'iohw' : 'oihw' };
      if (e.w instanceof PackedConvWeights) delete e.opts.weightLayout;
      if (e.shuffle) e.w = packShuffle(e.shuffle, true);
      convertOutputs(n);
      out.push(n);
      continue;
    }
    if (n.domain === 'simdtensor' && n.op === 'Int8Conv' && (n.extra as unknown as Int8ConvExtra).rank === 4) {
      // The dynamic-int8 conv reads its quantized input in NHWC (a uint8 transpose when its producer is NCHW).
      const e = n.extra as unknown as Int8ConvExtra;
      n.inputs = [toNhwc(n.inputs[0]), ...n.inputs.slice(1)];
      e.opts = { ...e.opts, layout: 'nhwc' };
      if (e.packed instanceof Tensor) e.opts.weightLayout = 'oihw';
      convertOutputs(n);
      out.push(n);
      continue;
    }
    if (n.domain === '' && n.op === 'DynamicQuantizeLinear' && n.outputs[0] && (isN(n.inputs[0]) || feedsInt8Conv(n.outputs[0]))) {
      // Elementwise with one scale and zero point per tensor: the quantized values keep x's layout. Where x is
      // NCHW and only 2-D int8 convs read the result, x itself goes NHWC (the native float32 transpose).
      n.inputs = [isN(n.inputs[0]) ? nhwc.get(n.inputs[0])! : toNhwc(n.inputs[0])];
      const o = n.outputs[0], t = `${o}/nhwc#${k++}`;
      nhwc.set(o, t);
      onlyNhwc.add(o);
      n.outputs = [t, ...n.outputs.slice(1)];
      count++;
      out.push(n);
      continue;
    }
    if (n.domain === '' || (n.domain === 'simdtensor' && n.op === 'ScalarAffine')) {
      const x = n.inputs[0];
      if ((n.op === 'MaxPool' || n.op === 'AveragePool') && isN(x) && (attrInts(n, 'kernel_shape')?.length ?? 0) === 2 && !n.outputs[1]) convert = true;
      else if ((n.op === 'GlobalAveragePool' || n.op === 'GlobalMaxPool' || n.op === 'Resize') && isN(x)) convert = true;
      else if ((UNARY.has(n.op) || n.op === 'Clip') && isN(x) && n.outputs.length === 1) convert = n.op !== 'Clip' || n.inputs.slice(1).every((i) => !i || c(g, i)?.size === 1);
      else if (n.op === 'Concat' && n.inputs.length > 0 && n.inputs.every(isN)) {
        const a = attrInt(n, 'axis', 0);
        if (a >= -4 && a < 4) {
          n.attrs = { ...n.attrs, axis: TO_NHWC_AXIS[a < 0 ? a + 4 : a] };
          convert = true;
        }
      } else if (BINARY.has(n.op) && n.inputs.length === 2 && n.inputs.some(isN)) {
        const other = isN(n.inputs[0]) ? n.inputs[1] : n.inputs[0];
        if (isN(other)) convert = true;
        else if (c(g, other)) {
          const t = nhwcConst(g, other);
          if (t) {
            n.inputs = n.inputs.map((i) => (i === other ? t : i));
            convert = true;
          }
        }
      }
    }
    if (convert) {
      n.inputs = n.inputs.map((i, j) => (isN(i) && (j === 0 || BINARY.has(n.op) || n.op === 'Concat') ? nhwc.get(i)! : i));
      n.extra = { ...n.extra, nhwc: true };
      convertOutputs(n);
    } else for (const i of n.inputs) if (i) toNchw(i);
    out.push(n);
  }
  for (const o of g.outputs) toNchw(o.name);
  g.nodes = out;
  return count;
};

/** The passes, in order, for optimize.ts's list. */
export const CONV_PASSES: [string, Pass][] = [
  ['hardswish-fusion', fuseHardSwish],
  ['conv-batchnorm-folding', foldConvAffine],
  ['conv-input-affine-folding', foldConvInputAffine],
  ['concat-conv-split', splitConcatConv],
  ['conv-fusion', fuseConv],
  ['scale-residual-fusion', fuseScaleResidual],
  ['scalar-affine-fusion', fuseScalarAffine],
  ['conv-affine-epilogue', fuseConvAffineEpilogue],
  ['dynamic-int8-conv-fusion', fuseDynamicInt8Conv],
  ['int8-conv-float-route', routeInt8ConvFloat],
  ['nhwc-layout', nhwcLayout],
];

/**
 * Load-time passes for dynamically quantized graphs: 'dynamic-int8-conv-fusion' (onnxruntime's quantize_dynamic form
 * of a Conv, [DynamicQuantizeLinear →] ConvInteger(xq, Wq, xz, wz) → Cast(float) → Mul(·, x_scale·w_scale) [→ Add(bias)]
 * [→ affines] [→ activation], becomes one Int8Conv node whose epilogue dequantizes, weights packed once; it runs
 * before `nhwc-layout`, which keeps the chain NHWC) and 'fast-dynamic-quantize'.
 * @module
 */
import { Tensor } from '../tensor.js';
import { QuantizedTensor } from '../int8/index.js';
import { packConvWeights } from '../conv/conv2d.js';
import { attrInt, attrInts, consumers, producers, type Graph, type Node } from './graph.js';
import type { Int8ConvExtra } from './ops/conv-int8.js';
import type { Value } from './value.js';
import type { Conv2dOptions } from '../conv/conv2d.js';
import { activationOf, constOf as c, dwOk, geometry, only, otherInput, type Pass } from './pass-util.js';


/** A constant broadcasting per output channel against an [N, M, …] output of rank r: its M (or 1) values. */
function perChannel(v: Value | undefined, m: number, r: number): Float32Array | null {
  if (!v || v.dtype !== 'float32') return null;
  if (v.size === 1 && v.shape.length <= r) return new Float32Array(m).fill(v.data[0]);
  if (v.size !== m || v.shape.length > r) return null;
  const s = new Array<number>(r - v.shape.length).fill(1).concat(v.shape as number[]);
  if (s.some((d, i) => (i === 1 ? d !== m : d !== 1))) return null;
  return Float32Array.from(v.data as Float32Array);
}

/** A constant float32 scalar (any rank ≤ 4 with one element), or null. */
function scalarOf(g: Graph, name: string | undefined): number | null {
  const v = c(g, name);
  return v && v.dtype === 'float32' && v.size === 1 && v.shape.length <= 4 ? v.data[0] : null;
}

/**
 * y = x·a + b per output channel for a node reading `y0`: a ScalarAffine, or a Mul / Add / Sub by a constant that
 * broadcasts per channel. Null when `n` is none of these.
 */
function affineOf(g: Graph, n: Node, y0: string, m: number, r: number): { a: Float32Array; b: Float32Array } | null {
  if (n.domain === 'simdtensor' && n.op === 'ScalarAffine' && n.inputs[0] === y0) {
    const a = scalarOf(g, n.inputs[1]), b = scalarOf(g, n.inputs[2]);
    if (a === null || b === null) return null;
    return { a: new Float32Array(m).fill(a), b: new Float32Array(m).fill(n.attrs.negate_b ? -b : b) };
  }
  if (n.domain !== '' || n.inputs.length !== 2 || n.inputs[0] === n.inputs[1]) return null;
  const k = perChannel(c(g, otherInput(n, y0)), m, r);
  if (!k) return null;
  if (n.op === 'Mul') return { a: k, b: new Float32Array(m) };
  if (n.op === 'Add') return { a: new Float32Array(m).fill(1), b: k };
  if (n.op === 'Sub' && n.inputs[0] === y0) return { a: new Float32Array(m).fill(1), b: k.map((v) => -v) };
  return null;
}

/** True when a conv's padding is zero everywhere (an affine of its input can then move into its weights exactly). */
function unpadded(geo: Conv2dOptions): boolean {
  const p = geo.pads;
  return p === 'valid' || (Array.isArray(p) && p.every((v) => v === 0));
}

/**
 * ConvInteger → Cast → Mul(x_scale·w_scale) [→ Add bias] [→ per-channel affines] [→ activation] → Int8Conv.
 * groups 1: the int8 conv kernels with the dequantizing epilogue: bias, the affines that follow (PP-LCNetV3's
 * learnable affine, a BatchNormalization left as Mul/Add) folded into the per-channel scales and bias, and every
 * conv activation (relu, relu6/clip, leaky, sigmoid, hard-sigmoid, hard-swish) fused. Where the
 * DynamicQuantizeLinear before it feeds this conv alone, it is absorbed too: the node reads the float32 input and
 * quantizes it itself (onnxruntime's arithmetic, one native pass into a reused buffer); and a scalar affine between
 * the previous activation and that DynamicQuantizeLinear moves into this conv's weights when the conv has no padding
 * (conv(a·h + b) = a·conv(h) + b·ΣW: h is quantized instead of a·h + b — the same per-tensor precision, not
 * bit-identical with onnxruntime's run of the file). Grouped/depthwise: the float32 (depthwise) kernels on the
 * dequantized input with dequantized weights (see Int8ConvExtra).
 */
export const fuseDynamicInt8Conv: Pass = (g) => {
  let count = 0;
  // quantizeModel's convActivations, from the file's metadata: pointwise convs quantize their input per pixel.
  const perPixel = g.metadata?.get('simdtensor.conv_activations') === 'per-pixel';
  for (const n of g.nodes.slice()) {
    if (n.op !== 'ConvInteger' || n.domain !== '' || !g.nodes.includes(n)) continue;
    const w = c(g, n.inputs[1]);
    const wz = n.inputs[3] ? c(g, n.inputs[3]) : undefined;
    if (!w || (w.dtype !== 'int8' && w.dtype !== 'uint8') || (w.shape.length !== 4 && w.shape.length !== 3) || (n.inputs[3] && !wz)) continue;
    const rank = w.shape.length, m = w.shape[0];
    if (wz && (wz.dtype !== w.dtype || (wz.size !== 1 && wz.size !== m))) continue;
    const kernel = attrInts(n, 'kernel_shape');
    if (kernel && kernel.some((d, i) => d !== w.shape[2 + i])) continue;
    const geo = geometry(n, rank, false);
    if (!geo) continue;
    const groups = attrInt(n, 'group', 1);
    const cons = consumers(g), prod = producers(g);
    const cast = only(cons, n.outputs[0]);
    if (!cast || cast.op !== 'Cast' || cast.attrs.to !== 1) continue;
    const mul = only(cons, cast.outputs[0]);
    if (!mul || mul.op !== 'Mul' || mul.domain !== '') continue;
    const sName = otherInput(mul, cast.outputs[0]);
    const sm = prod.get(sName);
    if (!sm || sm.op !== 'Mul' || only(cons, sName) !== mul) continue;
    let xs = sm.inputs[0], wsv = c(g, sm.inputs[1]);
    if (!wsv) [xs, wsv] = [sm.inputs[1], c(g, sm.inputs[0])];
    const ws = perChannel(wsv, m, rank);
    if (!ws || ws.some((v) => !(v > 0) || !Number.isFinite(v))) continue;
    const xsv = c(g, xs);
    if (xsv && xsv.size !== 1) continue;
    const removed = [cast, mul, sm];
    let y = mul.outputs[0];
    let bias: Float32Array | null = null;
    let next = only(cons, y);
    if (next && next.op === 'Add' && next.domain === '') {
      const b = perChannel(c(g, otherInput(next, y)), m, rank);
      if (b && next.inputs[0] !== next.inputs[1]) {
        bias = b;
        removed.push(next);
        y = next.outputs[0];
        next = only(cons, y);
      }
    }
    const opts: Conv2dOptions = { ...geo, groups };
    // The weights as [M, C/groups, kH, kW] (1-D: kH = 1) with one zero point per output channel.
    const shape4 = rank === 4 ? w.shape.slice() : [w.shape[0], w.shape[1], 1, w.shape[2]];
    const zp = new Int32Array(m);
    if (wz) for (let o = 0; o < m; o++) zp[o] = wz.data[wz.size === 1 ? 0 : o];
    let input = n.inputs[0], xzName = n.inputs[2] ?? '', dynamic = false;
    if (groups === 1) {
      // Affines after the bias: y·a + b per channel → scales·a, bias·a + b (a > 0: the int8 epilogue's scales are positive).
      while (next) {
        const af = affineOf(g, next, y, m, rank);
        if (!af || af.a.some((v) => !(v > 0) || !Number.isFinite(v)) || af.b.some((v) => !Number.isFinite(v))) break;
        const b0 = bias ?? new Float32Array(m);
        for (let o = 0; o < m; o++) {
          ws[o] = Math.fround(ws[o] * af.a[o]);
          b0[o] = Math.fround(Math.fround(b0[o] * af.a[o]) + af.b[o]);
        }
        bias = b0;
        removed.push(next);
        y = next.outputs[0];
        next = only(cons, y);
      }
      const act = next ? activationOf(g, next) : null;
      if (next && act) {
        Object.assign(opts, act);
        removed.push(next);
        y = next.outputs[0];
        // PP-LCNetV3's learnable affine after the hard-swish (a ScalarAffine read by it alone): a·hardSwish(y) + b
        // in the same epilogue, so the affine costs no pass over memory (the padded depthwise conv that reads it
        // could not take it into its weights).
        const sa = only(consumers(g), y);
        if (opts.activation === 'hardSwish' && sa && sa.domain === 'simdtensor' && sa.op === 'ScalarAffine' && sa.inputs[0] === y) {
          const a = scalarOf(g, sa.inputs[1]), b = scalarOf(g, sa.inputs[2]);
          if (a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b)) {
            opts.activation = { hardSwish: { scale: Math.fround(a), shift: Math.fround(sa.attrs.negate_b ? -b : b) } };
            removed.push(sa);
            y = sa.outputs[0];
          }
        }
      }
      // The DynamicQuantizeLinear that feeds this conv alone: quantized inside the node.
      const dq = prod.get(n.inputs[0]);
      if (dq && dq.op === 'DynamicQuantizeLinear' && dq.domain === '' && dq.outputs[0] === n.inputs[0] && only(cons, dq.outputs[0]) === n &&
        dq.outputs[1] === xs && only(cons, xs) === sm && (!dq.outputs[2] || !cons.get(dq.outputs[2]) || (cons.get(dq.outputs[2])!.every((r) => r === n) && n.inputs[2] === dq.outputs[2]))) {
        removed.push(dq);
        input = dq.inputs[0];
        dynamic = true;
        // A scalar affine before it (read by it alone), on an unpadded conv: moved into the weights.
        const pa = prod.get(input);
        const a = pa && pa.domain === 'simdtensor' && pa.op === 'ScalarAffine' && only(cons, input) === dq ? scalarOf(g, pa.inputs[1]) : null;
        const b = a !== null ? scalarOf(g, pa!.inputs[2]) : null;
        if (a !== null && b !== null && a > 0 && Number.isFinite(a) && Number.isFinite(b) && unpadded(geo)) {
          const bb = pa!.attrs.negate_b ? -b : b;
          const b0 = bias ?? new Float32Array(m);
          const per = w.size / m, W = w.data;
          for (let o = 0; o < m; o++) {
            let sw = 0;
            for (let i = o * per; i < (o + 1) * per; i++) sw += W[i] - zp[o];
            b0[o] = Math.fround(b0[o] + bb * sw * ws[o]);
            ws[o] = Math.fround(ws[o] * a);
          }
          bias = b0;
          removed.push(pa!);
          input = pa!.inputs[0];
        }
      }
    } else if (next) {
      // The float path's (depthwise) kernels take every conv activation (hard-swish, clip…).
      const act = activationOf(g, next);
      if (act && dwOk(act)) {
        Object.assign(opts, act);
        removed.push(next);
        y = next.outputs[0];
      }
    }
    let extra: Int8ConvExtra;
    const biasT = bias ? new Tensor(bias, [m], 'float32', m) : null;
    if (groups === 1) {
      const q = new QuantizedTensor(new Tensor(w.data as Int8Array, shape4, w.dtype as 'int8', w.size), ws, zp, 0, 'asymmetric');
      const pointwise = rank === 4 && w.shape[2] === 1 && w.shape[3] === 1 && unpadded(geo) && [geo.strides ?? 1].flat().every((v) => v === 1);
      extra = { packed: packConvWeights(q, { weightLayout: 'oihw', bias: biasT }), bias: null, opts, rank, ...(dynamic ? { dynamic } : {}), ...(dynamic && perPixel && pointwise ? { perPixel: true } : {}) };
      // What the float32 route of 'int8-conv-float-route' dequantizes, should it be taken (references, no copies).
      if (dynamic) extra.src = { q, bias: biasT };
    } else {
      const per = w.size / m, W = w.data, F = new Float32Array(w.size);
      for (let o = 0; o < m; o++) for (let i = o * per; i < (o + 1) * per; i++) F[i] = (W[i] - zp[o]) * ws[o];
      extra = { packed: new Tensor(F, shape4, 'float32', F.length), bias: biasT, opts, rank };
    }
    const fused: Node = { op: 'Int8Conv', domain: 'simdtensor', name: `${n.name}/Int8Conv`, inputs: dynamic ? [input] : [n.inputs[0], xs, xzName], outputs: [y], attrs: {}, extra: extra as unknown as Record<string, unknown> };
    // Runs where the last absorbed node ran (x_scale's Mul may come after the ConvInteger).
    const last = removed.reduce((a, r) => Math.max(a, g.nodes.indexOf(r)), g.nodes.indexOf(n));
    g.nodes.splice(last, 1, fused);
    g.nodes = g.nodes.filter((x) => x !== n && !removed.includes(x));
    count++;
  }
  return count;
};

/**
 * 'int8-conv-float-route': every dynamic groups-1 Int8Conv (its float32 input in hand) may run as a float32 conv
 * with its int8 weights dequantized, chosen per input shape at run time where int8 loses (see `int8FloatWins` in
 * ops/conv-int8.ts: a short reduction, or few pixels per image). Disabling the pass keeps every one int8.
 */
export const routeInt8ConvFloat: Pass = (g) => {
  let count = 0;
  for (const n of g.nodes) {
    if (n.domain !== 'simdtensor' || n.op !== 'Int8Conv') continue;
    const e = n.extra as unknown as Int8ConvExtra;
    if (!e.dynamic || !e.src || e.floatRoute) continue;
    e.floatRoute = true;
    count++;
  }
  return count;
};

/**
 * DynamicQuantizeLinear whose outputs only fused simdtensor int8 nodes read (Int8Linear, Int8Conv: their
 * epilogues dequantize in float32, so they are not bit-exact with onnxruntime anyway) → 'DynamicQuantize'
 * (domain 'simdtensor'): the same range, scale and zero point from the library's SIMD min/max and quantize kernels,
 * ~10× faster than the division-exact kernel that the standard op keeps for MatMulInteger/ConvInteger readers
 * (whose int32 outputs must equal onnxruntime's bit for bit). Listed as 'fast-dynamic-quantize'.
 */
export const fastDynamicQuantize: Pass = (g) => {
  let count = 0;
  const cons = consumers(g);
  const fused = (r: Node | null) => !!r && r.domain === 'simdtensor' && (r.op === 'Int8Linear' || r.op === 'Int8Conv');
  for (const n of g.nodes) {
    if (n.op !== 'DynamicQuantizeLinear' || n.domain !== '' || !n.outputs[0]) continue;
    const readers = n.outputs.filter((o) => o).flatMap((o) => cons.get(o) ?? []);
    if (readers.length === 0 || !readers.every(fused) || g.outputs.some((o) => n.outputs.includes(o.name))) continue;
    n.op = 'DynamicQuantize';
    n.domain = 'simdtensor';
    count++;
  }
  return count;
};

/**
 * The first node of an optimized graph whose result for one row of the batch depends on the other rows through a
 * dynamic activation quantization: DynamicQuantizeLinear, its fused DynamicQuantize, or a dynamic Int8Conv (per
 * tensor; its per-pixel form too, which falls back to one scale for the whole tensor when any row holds NaN/±Inf).
 * Each computes one scale and zero point over the whole tensor, as onnxruntime's DynamicQuantizeLinear does, so
 * rows of different callers concatenated into one batch would quantize each other: `batchOnnx` runs such a model
 * per request. Null when no node does.
 */
export function rowCouplingNode(g: Graph): Node | null {
  for (const n of g.nodes) {
    if (n.op === 'DynamicQuantizeLinear' || n.op === 'DynamicQuantize') return n;
    if (n.op === 'Int8Conv' && (n.extra as unknown as Int8ConvExtra | undefined)?.dynamic) return n;
  }
  return null;
}

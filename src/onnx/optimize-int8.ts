/**
 * Load-time pass for dynamically quantized convolutions (listed in `model.optimizations` as
 * 'dynamic-int8-conv-fusion'): onnxruntime's quantize_dynamic form of a Conv,
 * ConvInteger(xq, Wq, xz, wz) → Cast(float) → Mul(·, x_scale·w_scale) [→ Add(bias)] [→ Relu; grouped: any conv activation], becomes one Int8Conv
 * node whose epilogue dequantizes (weights packed once). It runs before `nhwc-layout`, which keeps the chain NHWC.
 * @module
 */
import { Tensor } from '../tensor.js';
import { QuantizedTensor } from '../int8/index.js';
import { packConvWeights } from '../conv/conv2d.js';
import { attrInt, attrInts, attrStr, consumers, producers, type Graph, type Node } from './graph.js';
import type { Int8ConvExtra } from './ops/conv-int8.js';
import type { Value } from './value.js';
import type { Conv2dOptions } from '../conv/conv2d.js';
import { activationOf, dwOk, geometry } from './optimize-conv.js';

type Pass = (g: Graph) => number;

const c = (g: Graph, name: string | undefined): Value | undefined => (name ? g.consts.get(name) : undefined);
function only(cons: Map<string, (Node | null)[]>, name: string): Node | null {
  const l = cons.get(name);
  return l && l.length === 1 && l[0] ? l[0] : null;
}
const otherInput = (n: Node, name: string) => (n.inputs[0] === name ? n.inputs[1] : n.inputs[0]);

/** A constant broadcasting per output channel against an [N, M, …] output of rank r: its M (or 1) values. */
function perChannel(v: Value | undefined, m: number, r: number): Float32Array | null {
  if (!v || v.dtype !== 'float32') return null;
  if (v.size === 1 && v.shape.length <= r) return new Float32Array(m).fill(v.data[0]);
  if (v.size !== m || v.shape.length > r) return null;
  const s = new Array<number>(r - v.shape.length).fill(1).concat(v.shape as number[]);
  if (s.some((d, i) => (i === 1 ? d !== m : d !== 1))) return null;
  return Float32Array.from(v.data as Float32Array);
}

/**
 * ConvInteger → Cast → Mul(x_scale·w_scale) [→ Add bias] [→ Relu] → Int8Conv. groups 1: the int8 conv kernels
 * with the dequantizing epilogue (bias, relu fused). Grouped/depthwise: the float32 (depthwise) kernels on the
 * dequantized input with dequantized weights (see Int8ConvExtra).
 */
export const fuseDynamicInt8Conv: Pass = (g) => {
  let count = 0;
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
    if (next && next.op === 'Relu' && next.domain === '') {
      opts.activation = 'relu';
      removed.push(next);
      y = next.outputs[0];
    } else if (next && groups > 1) {
      // The float path's (depthwise) kernels take every conv activation (hard-swish, clip…).
      const act = activationOf(g, next);
      if (act && dwOk(act)) {
        Object.assign(opts, act);
        removed.push(next);
        y = next.outputs[0];
      }
    }
    // The weights as [M, C/groups, kH, kW] (1-D: kH = 1) with one zero point per output channel.
    const shape4 = rank === 4 ? w.shape.slice() : [w.shape[0], w.shape[1], 1, w.shape[2]];
    const zp = new Int32Array(m);
    if (wz) for (let o = 0; o < m; o++) zp[o] = wz.data[wz.size === 1 ? 0 : o];
    let extra: Int8ConvExtra;
    const biasT = bias ? new Tensor(bias, [m], 'float32', m) : null;
    if (groups === 1) {
      const q = new QuantizedTensor(new Tensor(w.data as Int8Array, shape4, w.dtype as 'int8', w.size), ws, zp, 0, 'asymmetric');
      extra = { packed: packConvWeights(q, { weightLayout: 'oihw', bias: biasT }), bias: null, opts, rank };
    } else {
      const per = w.size / m, W = w.data, F = new Float32Array(w.size);
      for (let o = 0; o < m; o++) for (let i = o * per; i < (o + 1) * per; i++) F[i] = (W[i] - zp[o]) * ws[o];
      extra = { packed: new Tensor(F, shape4, 'float32', F.length), bias: biasT, opts, rank };
    }
    const fused: Node = { op: 'Int8Conv', domain: 'simdtensor', name: `${n.name}/Int8Conv`, inputs: [n.inputs[0], xs, n.inputs[2] ?? ''], outputs: [y], attrs: {}, extra: extra as unknown as Record<string, unknown> };
    // Runs where the last absorbed node ran (x_scale's Mul may come after the ConvInteger).
    const last = removed.reduce((a, r) => Math.max(a, g.nodes.indexOf(r)), g.nodes.indexOf(n));
    g.nodes.splice(last, 1, fused);
    g.nodes = g.nodes.filter((x) => x !== n && !removed.includes(x));
    count++;
  }
  return count;
};

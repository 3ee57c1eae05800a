/**
 * Post-training int8 quantization of an ONNX model, written in the standard operators onnxruntime's quantizer
 * writes, so the exported file runs anywhere:
 *
 * - `mode: 'dynamic'`: every MatMul / Gemm with a constant weight becomes DynamicQuantizeLinear(x) →
 *   MatMulInteger(xq, Wq, xz, wz) → Cast(float) → Mul(x_scale · w_scale) [→ Add bias] with int8 (or uint8) weights
 *   per output channel; activations are quantized per tensor at run time. Conv becomes ConvInteger → Cast → Mul
 *   (x_scale · w_scale per output channel) [→ Add bias], as quantize_dynamic writes it (onnxruntime's ConvInteger
 *   takes a single weight zero point, so int8 weights are symmetric with one zero point 0 and per-channel scales;
 *   uint8 Conv weights fall back to per tensor), or with `convForm: 'weight-only'` int8 weights behind a
 *   DequantizeLinear (axis 0) feeding the float32 Conv.
 * - `mode: 'static'`: QDQ form — QuantizeLinear → DequantizeLinear on each quantized node's activation input with
 *   a per-tensor uint8 scale/zero point from {@link calibrateOnnx}, and int8 per-channel weights behind a
 *   DequantizeLinear.
 *
 * Both need ai.onnx opset ≥ 13 (per-axis DequantizeLinear); older models are upgraded on the way (see
 * `upgradeOpset`). The original model is never modified: a new OnnxModel is returned.
 * @module
 */
import { describe, options, rangeError, typeError } from '../../errors.js';
import { Calibrator, type CalibrationMethod } from '../../int8/index.js';
import { Tensor } from '../../tensor.js';
import { editOf, modelOf } from '../export.js';
import { loadOnnx } from '../model.js';
import type { OnnxFeed, OnnxModel } from '../model.js';
import type { Value } from '../value.js';
import { int8FloatWins } from '../ops/conv-int8.js';
import { foldBatchNorm } from './fold.js';
import { attrF, attrI, DT, EditModel, nodeProto, upgradeOpset, type Msg } from './proto.js';
import { gptqRound, SecondMoments } from './gptq.js';

/** Per-tensor activation parameters found by {@link calibrateOnnx}. */
export interface TensorCalibration {
  min: number;
  max: number;
  scale: number;
  zeroPoint: number;
}

/** What {@link calibrateOnnx} returns: uint8 asymmetric parameters per activation tensor name. */
export interface OnnxCalibration {
  method: CalibrationMethod;
  samples: number;
  tensors: Record<string, TensorCalibration>;
}

/** Options of `quantizeModel` for an OnnxModel. */
export interface OnnxQuantizeOptions {
  /** 'dynamic' (activations quantized at run time) or 'static' (QDQ with calibrated ranges; needs `calibration`). */
  mode: 'dynamic' | 'static';
  /** Weight element type (default 'int8', symmetric; 'uint8' is asymmetric per channel). */
  weightType?: 'int8' | 'uint8';
  /** One scale per output channel (default true) or one per tensor. */
  perChannel?: boolean;
  /** Node names left in float32. */
  skipNodes?: string[];
  /** Operator types left in float32 ('MatMul', 'Gemm', 'Conv'). */
  skipOps?: string[];
  /** Leave the first quantizable node (in graph order) in float32. */
  keepFirst?: boolean;
  /** Leave the last quantizable node in float32. */
  keepLast?: boolean;
  /**
   * Leave grouped Convs (depthwise and other group > 1) in float32. Default: true in 'dynamic' mode, false in
   * 'static'. Dynamic mode quantizes activations per tensor, and a depthwise conv's channels have very different
   * ranges, so these are the layers whose int8 form drifts most (PaddleOCR rec: they account for most of the
   * argmax disagreement); their weights are a small share of the file (9 taps per channel), and neither runtime
   * computes them faster in int8 (onnxruntime's ConvInteger is slow on them; simdtensor runs them on the float
   * kernels). Excluding them is what onnxruntime users do through `nodes_to_exclude`.
   */
  skipDepthwise?: boolean;
  /** For 'static': the result of {@link calibrateOnnx} on this model. */
  calibration?: OnnxCalibration;
  /**
   * Dynamic mode, Conv: 'integer' (default; ConvInteger as onnxruntime's quantize_dynamic writes it — int8 compute
   * in onnxruntime), 'weight-only' (int8 weights behind a DequantizeLinear, float32 Conv), or 'auto': 'integer'
   * except for the convs that simdtensor runs faster in float32 — a reduction C/group·kh·kw below 32, or at most 64
   * input pixels per image in a float run over `roundingSamples[0]` (without samples only the first rule applies):
   * a stem over 3 channels, squeeze-excite convs at 1×1, convs after a large pooling. Same file size; those convs
   * also keep float32 activations.
   */
  convForm?: 'integer' | 'weight-only' | 'auto';
  /**
   * Dynamic mode, ConvInteger: how simdtensor quantizes a pointwise (1×1, stride 1, unpadded) conv's activations at
   * run time. 'per-pixel' (default): one scale and zero point per pixel (per row of the NHWC GEMM) — a pixel's
   * channels share a range much better than a whole feature map does; 'per-tensor': DynamicQuantizeLinear's one
   * range. Recorded in the file's metadata_props as `simdtensor.conv_activations` and read when simdtensor loads
   * the file; the graph itself is the standard one, so onnxruntime (which ignores the key) runs it per tensor.
   */
  convActivations?: 'per-pixel' | 'per-tensor';
  /**
   * Sample feeds (as for `model.run`) whose activations guide the rounding of the weights of every MatMul, Gemm and
   * pointwise (1×1, groups 1) Conv: error-compensating rounding (src/onnx/transform/gptq.ts) instead of rounding
   * each weight to the nearest step. The scales and the file's operators are unchanged; the int8 layer's output
   * error on inputs like these is smaller. Per-channel weights only (ignored with `perChannel: false`).
   */
  roundingSamples?: Record<string, OnnxFeed>[];
}

/** metadata_props key of {@link OnnxQuantizeOptions.convActivations}. */
export const CONV_ACTIVATIONS_KEY = 'simdtensor.conv_activations';

const FN = 'quantizeModel';
const OPS = ['MatMul', 'Gemm', 'Conv'];

/** Round half to even (onnxruntime's nearbyint). */
export function rne(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A quantizable node: its op and constant float32 weight. */
interface Target {
  node: Msg;
  w: Value;
}

/** The nodes `quantizeModel` / `pruneModel` would touch: MatMul (2-D constant B), Gemm (constant B, transA 0), Conv (constant W). */
export function weightNodes(m: EditModel, ops: string[] = OPS): Target[] {
  const out: Target[] = [];
  for (const n of m.nodes) {
    if ((n.domain ?? '') !== '' || !ops.includes(n.opType)) continue;
    const w = m.constValue(n.input[1]);
    if (!w || w.dtype !== 'float32' || m.constValue(n.input[0])) continue;
    if (n.opType === 'MatMul' && w.shape.length !== 2) continue;
    if (n.opType === 'Gemm' && (w.shape.length !== 2 || attrI(n, 'transA', 0) !== 0)) continue;
    if (n.opType === 'Conv' && w.shape.length < 3) continue;
    out.push({ node: n, w });
  }
  return out;
}

/** Weight as [channels, inner] rows: MatMul/Gemm B [K, N] → N rows of K (transposed); Conv W [M, …] → M rows. */
export function weightRows(n: Msg, w: Value): { rows: Float32Array; ch: number; inner: number } {
  const d = w.data as Float32Array;
  if (n.opType === 'Conv') return { rows: d, ch: w.shape[0], inner: w.size / Math.max(1, w.shape[0]) };
  const transB = n.opType === 'Gemm' && attrI(n, 'transB', 0) === 1;
  if (transB) return { rows: d, ch: w.shape[0], inner: w.shape[1] };
  const [k, nn] = w.shape;
  const rows = new Float32Array(w.size);
  for (let i = 0; i < k; i++) for (let j = 0; j < nn; j++) rows[j * k + i] = d[i * nn + j];
  return { rows, ch: nn, inner: k };
}

/** Quantized weight rows, with per-row (or one) scale and zero point. */
function quantRows(rows: Float32Array, ch: number, inner: number, type: 'int8' | 'uint8', perChannel: boolean, moments?: SecondMoments) {
  const q = type === 'int8' ? new Int8Array(rows.length) : new Uint8Array(rows.length);
  const groups = perChannel ? ch : 1;
  const len = perChannel ? inner : rows.length;
  const scale = new Float32Array(groups), zp = type === 'int8' ? new Int8Array(groups) : new Uint8Array(groups);
  for (let g = 0; g < groups; g++) {
    let lo = 0, hi = 0;
    for (let i = g * len; i < (g + 1) * len; i++) {
      const v = rows[i];
      if (!Number.isFinite(v)) throw rangeError(FN, `a weight holds ${v}; int8 quantization needs finite weights`);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    let s: number, z: number;
    if (type === 'int8') {
      s = Math.max(-lo, hi) / 127;
      z = 0;
    } else {
      s = (hi - lo) / 255;
      z = s > 0 ? Math.min(255, Math.max(0, rne(-lo / s))) : 0;
    }
    if (!(s > 0)) s = 1; // an all-zero channel: any scale gives q = 0
    s = Math.fround(s);
    scale[g] = s;
    zp[g] = z;
    const [qlo, qhi] = type === 'int8' ? [-127, 127] : [0, 255];
    for (let i = g * len; i < (g + 1) * len; i++) q[i] = Math.min(qhi, Math.max(qlo, rne(rows[i] / s) + z));
  }
  if (moments && perChannel && moments.k === inner && moments.count > 0) {
    const [qlo, qhi] = type === 'int8' ? [-127, 127] : [0, 255];
    q.set(gptqRound(rows, ch, moments, scale, zp, qlo, qhi, rne));
  }
  return { q, scale, zp };
}

/** Rows [ch, inner] back to the layout of the original weight. */
function toLayout<T extends Int8Array | Uint8Array | Float32Array>(n: Msg, w: Value, rows: T): T {
  if (n.opType === 'Conv' || (n.opType === 'Gemm' && attrI(n, 'transB', 0) === 1)) return rows;
  const [k, nn] = w.shape;
  const out = new (rows.constructor as new (n: number) => T)(rows.length);
  for (let j = 0; j < nn; j++) for (let i = 0; i < k; i++) out[i * nn + j] = rows[j * k + i];
  return out;
}

function val(dtype: Value['dtype'], shape: number[], data: Value['data']): Value {
  return { dtype, shape, data, size: data.length };
}

function checkOptions(o: unknown): OnnxQuantizeOptions {
  // The OnnxModel form's options are required (opts.mode): null and undefined are both refused here.
  if (o === null || typeof o !== 'object') throw typeError(FN, `opts must be an object, got ${describe(o)}`);
  const opts = o as OnnxQuantizeOptions;
  const known = ['mode', 'weightType', 'perChannel', 'skipNodes', 'skipOps', 'keepFirst', 'keepLast', 'calibration', 'convForm', 'skipDepthwise', 'convActivations', 'roundingSamples'];
  if (opts.roundingSamples !== undefined && (!Array.isArray(opts.roundingSamples) || opts.roundingSamples.length === 0 || opts.roundingSamples.some((f) => !f || typeof f !== 'object')))
    throw typeError(FN, `opts.roundingSamples must be a non-empty array of feeds ({ inputName: tensor }), got ${describe(opts.roundingSamples)}`);
  if (opts.convActivations !== undefined && opts.convActivations !== 'per-pixel' && opts.convActivations !== 'per-tensor') throw typeError(FN, `opts.convActivations must be 'per-pixel' or 'per-tensor', got ${describe(opts.convActivations)}`);
  if (opts.convForm !== undefined && opts.convForm !== 'integer' && opts.convForm !== 'weight-only' && opts.convForm !== 'auto') throw typeError(FN, `opts.convForm must be 'integer', 'weight-only' or 'auto', got ${describe(opts.convForm)}`);
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw rangeError(FN, `unknown option '${k}' for an OnnxModel (known: ${known.join(', ')})`);
  if (opts.mode !== 'dynamic' && opts.mode !== 'static') throw typeError(FN, `opts.mode must be 'dynamic' or 'static', got ${describe(opts.mode)}`);
  if (opts.weightType !== undefined && opts.weightType !== 'int8' && opts.weightType !== 'uint8') throw typeError(FN, `opts.weightType must be 'int8' or 'uint8', got ${describe(opts.weightType)}`);
  for (const k of ['skipNodes', 'skipOps'] as const) {
    const v = opts[k];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) throw typeError(FN, `opts.${k} must be an array of strings, got ${describe(v)}`);
  }
  for (const op of opts.skipOps ?? []) if (!OPS.includes(op)) throw rangeError(FN, `opts.skipOps: '${op}' is not a quantizable op type (${OPS.join(', ')})`);
  for (const k of ['perChannel', 'keepFirst', 'keepLast', 'skipDepthwise'] as const) if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw typeError(FN, `opts.${k} must be a boolean, got ${describe(opts[k])}`);
  if (opts.mode === 'static') {
    const c = opts.calibration;
    if (!c || typeof c !== 'object' || typeof c.tensors !== 'object') throw typeError(FN, `static quantization needs opts.calibration (the result of calibrateOnnx(model, samples)), got ${describe(c)}`);
  } else if (opts.calibration !== undefined) throw rangeError(FN, "opts.calibration is only used with mode 'static'");
  return opts;
}

/** The nodes to quantize after the skip options. */
function selected(m: EditModel, opts: OnnxQuantizeOptions): Target[] {
  let t = weightNodes(m);
  const names = new Set(t.map((x) => x.node.name));
  for (const s of opts.skipNodes ?? []) if (!names.has(s)) throw rangeError(FN, `opts.skipNodes: no quantizable node is named '${s}' (quantizable: ${[...names].slice(0, 12).map((x) => `'${x}'`).join(', ')}${names.size > 12 ? ', …' : ''})`);
  t = t.filter((x) => !(opts.skipNodes ?? []).includes(x.node.name) && !(opts.skipOps ?? []).includes(x.node.opType));
  if (opts.skipDepthwise ?? opts.mode === 'dynamic') t = t.filter((x) => x.node.opType !== 'Conv' || attrI(x.node, 'group', 1) === 1);
  if (opts.keepFirst && t.length) t = t.slice(1);
  if (opts.keepLast && t.length) t = t.slice(0, -1);
  return t;
}

/** Writes the int8 weight of `t` and returns {wq, ws, wz} initializer names (in the weight's own layout). */
const shared = new WeakMap<EditModel, Map<string, { wq: string; ws: string; wz: string; ch: number }>>();
/** int8 Gemm weights already stored transposed for MatMulInteger. */
const transposedOf = new WeakMap<EditModel, Set<string>>();

/** The Conv targets `convForm: 'auto'` writes weight-only — set by quantizeEdit for one run. */
let currentWeightOnly: Set<Msg> | null = null;
/** Second moments of the inputs of the targets, per (input name, kind) — set by quantizeEdit for one run. */
let currentMoments: Map<string, SecondMoments> | null = null;
const momentsKey = (n: Msg) => `${n.input[0]}|${n.opType === 'Conv' ? 'conv' : 'rows'}`;

function weightInits(m: EditModel, t: Target, type: 'int8' | 'uint8', perChannel: boolean, scalarZero = false) {
  // A weight read by several nodes of the same kind (tied weights) is quantized and stored once (per input when the
  // rounding follows the input's statistics).
  const mom = currentMoments?.get(momentsKey(t.node));
  const key = [t.node.input[1], t.node.opType, attrI(t.node, 'transB', 0), type, perChannel, scalarZero, mom ? t.node.input[0] : ''].join('|');
  let cache = shared.get(m);
  if (!cache) shared.set(m, (cache = new Map()));
  const hit = cache.get(key);
  if (hit) return hit;
  const r = quantizedWeight(m, t, type, perChannel, scalarZero, mom);
  cache.set(key, r);
  return r;
}

function quantizedWeight(m: EditModel, t: Target, type: 'int8' | 'uint8', perChannel: boolean, scalarZero: boolean, mom?: SecondMoments) {
  const { rows, ch, inner } = weightRows(t.node, t.w);
  const { q, scale, zp } = quantRows(rows, ch, inner, type, perChannel, mom);
  const base = t.node.input[1];
  const wq = m.addInit(`${base}_quantized`, val(type, t.w.shape.slice(), toLayout(t.node, t.w, q)));
  const shape = perChannel ? [ch] : [];
  const ws = m.addInit(`${base}_scale`, val('float32', shape, scale));
  // Symmetric int8 zero points are all 0: one scalar serves every channel.
  const wz = scalarZero ? m.addInit(`${base}_zero_point`, val(type, [], zp.subarray(0, 1))) : m.addInit(`${base}_zero_point`, val(type, shape, zp));
  return { wq, ws, wz, ch };
}

/** The outputs [xq, x_scale, x_zero_point] of x's DynamicQuantizeLinear: one per input, added to `pre` once. */
function dynamicQuantized(m: EditModel, x: string, dql: Map<string, string[]>, pre: Msg[]): string[] {
  let q = dql.get(x);
  if (!q) {
    q = [m.fresh(`${x}_quantized`), m.fresh(`${x}_scale`), m.fresh(`${x}_zero_point`)];
    pre.push(nodeProto('DynamicQuantizeLinear', [x], q, m.fresh(`${x}_DynamicQuantizeLinear`)));
    dql.set(x, q);
  }
  return q;
}

/**
 * Conv in onnxruntime's dynamic form: DynamicQuantizeLinear(x) → ConvInteger(xq, Wq, xz, wz) (same attributes) →
 * Cast → Mul(x_scale · w_scale[M, 1, …]) [→ Add(B[M, 1, …])].
 */
function convInteger(m: EditModel, n: Msg, wq: string, ws: string, wz: string, ch: number, perChannel: boolean, rank: number, dql: Map<string, string[]>, pre: Msg[]): Msg[] {
  const x = n.input[0];
  const q = dynamicQuantized(m, x, dql, pre);
  const y = n.output[0];
  const bshape = [ch, ...new Array<number>(rank - 2).fill(1)];
  if (perChannel) {
    const s = m.constValue(ws)!;
    m.setInit(ws, val('float32', bshape, s.data));
  }
  const acc = m.fresh(`${y}_ConvInteger`), accf = m.fresh(`${y}_cast`), sc = m.fresh(`${y}_scale`);
  const bias = n.input[2] ? m.constValue(n.input[2]) : undefined;
  const mid = n.input[2] ? m.fresh(`${y}_nobias`) : y;
  const ci = nodeProto('ConvInteger', [q[0], wq, q[2], wz], [acc], m.fresh(`${n.name}_ConvInteger`));
  ci.attribute = (n.attribute as Msg[]).slice();
  const nodes = [
    ci,
    nodeProto('Cast', [acc], [accf], m.fresh(`${n.name}_cast`), { to: ['int', DT.FLOAT] }),
    nodeProto('Mul', [q[1], ws], [sc], m.fresh(`${n.name}_scale_mul`)),
    nodeProto('Mul', [accf, sc], [mid], m.fresh(`${n.name}_dequant`)),
  ];
  if (n.input[2]) {
    let b = n.input[2];
    if (bias) b = m.addInit(`${b}_reshaped`, val('float32', bshape, bias.data));
    else {
      const shp = m.addInit(`${y}_bias_shape`, val('int64', [bshape.length], Float64Array.from(bshape)));
      const br = m.fresh(`${y}_bias`);
      nodes.push(nodeProto('Reshape', [b, shp], [br], m.fresh(`${n.name}_bias_reshape`)));
      b = br;
    }
    nodes.push(nodeProto('Add', [mid, b], [y], m.fresh(`${n.name}_bias`)));
  }
  return nodes;
}

/** Gemm → the MatMul form: y = alpha·(A·B') + beta·C. Returns the nodes computing y from the MatMul result `mm`. */
function gemmTail(m: EditModel, n: Msg, mm: string, y: string): Msg[] {
  const alpha = attrF(n, 'alpha', 1), beta = attrF(n, 'beta', 1);
  const nodes: Msg[] = [];
  let cur = mm;
  if (alpha !== 1) {
    const a = m.addInit(`${y}_alpha`, val('float32', [], Float32Array.of(alpha)));
    const o = n.input[2] && beta !== 0 ? m.fresh(`${y}_scaled`) : y;
    nodes.push(nodeProto('Mul', [cur, a], [o], m.fresh(`${n.name}_alpha`)));
    cur = o;
  }
  if (n.input[2] && beta !== 0) {
    let c = n.input[2];
    const cv = m.constValue(c);
    if (beta !== 1) {
      if (cv) c = m.addInit(`${c}_beta`, val('float32', cv.shape.slice(), Float32Array.from(cv.data as Float32Array, (x) => x * beta)));
      else {
        const bb = m.addInit(`${y}_beta`, val('float32', [], Float32Array.of(beta)));
        const cb = m.fresh(`${y}_c`);
        nodes.push(nodeProto('Mul', [c, bb], [cb], m.fresh(`${n.name}_beta`)));
        c = cb;
      }
    }
    nodes.push(nodeProto('Add', [cur, c], [y], m.fresh(`${n.name}_bias`)));
    cur = y;
  }
  if (cur !== y) nodes.push(nodeProto('Identity', [cur], [y], m.fresh(`${n.name}_out`)));
  return nodes;
}

/** Rewrites one target in dynamic form; returns the nodes replacing it. */
function dynamicNode(m: EditModel, t: Target, opts: OnnxQuantizeOptions, dql: Map<string, string[]>, pre: Msg[]): Msg[] {
  const n = t.node;
  const type = opts.weightType ?? 'int8';
  const weightOnly = n.opType === 'Conv' && (opts.convForm === 'weight-only' || !!currentWeightOnly?.has(n));
  const convInt = n.opType === 'Conv' && !weightOnly;
  // onnxruntime's ConvInteger takes one weight zero point: asymmetric uint8 Conv weights go per tensor.
  const perChannel = opts.perChannel !== false && !(convInt && type === 'uint8');
  const { wq, ws, wz, ch } = weightInits(m, t, type, perChannel, convInt && type === 'int8');
  if (weightOnly) {
    const wf = m.fresh(`${n.input[1]}_dequantized`);
    const dq = nodeProto('DequantizeLinear', [wq, ws, wz], [wf], m.fresh(`${n.name}_weight_dq`), opts.perChannel !== false ? { axis: ['int', 0] } : {});
    n.input = [n.input[0], wf, ...n.input.slice(2)];
    return [dq, n];
  }
  if (convInt) return convInteger(m, n, wq, ws, wz, ch, perChannel, t.w.shape.length, dql, pre);
  const x = n.input[0];
  const q = dynamicQuantized(m, x, dql, pre);
  const y = n.output[0];
  const gemm = n.opType === 'Gemm';
  let wIn = wq;
  let wZero = wz;
  let transposed = transposedOf.get(m);
  if (!transposed) transposedOf.set(m, (transposed = new Set()));
  if (gemm && attrI(n, 'transB', 0) === 1 && !transposed.has(wq)) {
    transposed.add(wq);
    // MatMulInteger takes B as [K, N]: store the transposed int8 weight (and nothing else changes).
    const w = m.constValue(wq)!;
    const [nn, k] = w.shape;
    const tq = new (w.data.constructor as new (n: number) => Int8Array)(w.size);
    for (let i = 0; i < nn; i++) for (let j = 0; j < k; j++) tq[j * nn + i] = (w.data as Int8Array)[i * k + j];
    wIn = m.setInit(wq, val(w.dtype, [k, nn], tq));
    wZero = wz;
  }
  const acc = m.fresh(`${y}_MatMulInteger`), accf = m.fresh(`${y}_cast`), sc = m.fresh(`${y}_scale`);
  const mmOut = gemm ? m.fresh(`${y}_matmul`) : y;
  return [
    nodeProto('MatMulInteger', [q[0], wIn, q[2], wZero], [acc], m.fresh(`${n.name}_MatMulInteger`)),
    nodeProto('Cast', [acc], [accf], m.fresh(`${n.name}_cast`), { to: ['int', DT.FLOAT] }),
    nodeProto('Mul', [q[1], ws], [sc], m.fresh(`${n.name}_scale_mul`)),
    nodeProto('Mul', [accf, sc], [mmOut], m.fresh(`${n.name}_dequant`)),
    ...(gemm ? gemmTail(m, n, mmOut, y) : []),
  ];
}

/** Rewrites one target in QDQ form; returns the nodes replacing it. */
function staticNode(m: EditModel, t: Target, opts: OnnxQuantizeOptions, qdq: Map<string, string[]>, pre: Msg[]): Msg[] {
  const n = t.node;
  const cal = opts.calibration!;
  const x = n.input[0];
  const p = cal.tensors[x];
  if (!p) throw rangeError(FN, `opts.calibration has no range for '${x}' (input of node '${n.name}'); calibrate this model (calibrateOnnx) with the same skip options`);
  let xd = qdq.get(x)?.[0];
  if (!xd) {
    const s = m.addInit(`${x}_scale`, val('float32', [], Float32Array.of(p.scale)));
    const z = m.addInit(`${x}_zero_point`, val('uint8', [], Uint8Array.of(p.zeroPoint)));
    const xq = m.fresh(`${x}_QuantizeLinear`);
    xd = m.fresh(`${x}_DequantizeLinear`);
    pre.push(nodeProto('QuantizeLinear', [x, s, z], [xq], m.fresh(`${x}_q`)));
    pre.push(nodeProto('DequantizeLinear', [xq, s, z], [xd], m.fresh(`${x}_dq`)));
    qdq.set(x, [xd]);
  }
  const perChannel = opts.perChannel !== false;
  const { wq, ws, wz } = weightInits(m, t, opts.weightType ?? 'int8', perChannel);
  const wf = m.fresh(`${n.input[1]}_DequantizeLinear`);
  const axis = n.opType === 'Conv' || (n.opType === 'Gemm' && attrI(n, 'transB', 0) === 1) ? 0 : 1;
  const nodes: Msg[] = [nodeProto('DequantizeLinear', [wq, ws, wz], [wf], m.fresh(`${n.name}_weight_dq`), perChannel ? { axis: ['int', axis] } : {})];
  // A constant bias (Conv, or Gemm with beta 1 and a 1-D C) as int32 with scale x_scale · w_scale and no zero point,
  // so the whole node is in QDQ form (what onnxruntime fuses into QLinearConv / QGemm).
  const bias = n.input[2] ? m.constValue(n.input[2]) : undefined;
  let b = n.input[2];
  if (bias && bias.dtype === 'float32' && bias.shape.length === 1 && (n.opType === 'Conv' || (attrF(n, 'beta', 1) === 1 && attrF(n, 'alpha', 1) === 1))) {
    const wsv = m.constValue(ws)!.data as Float32Array;
    const sc = Float32Array.from(bias.data as Float32Array, (_, c) => Math.fround(p.scale * wsv[perChannel ? c : 0]));
    const bq = Int32Array.from(bias.data as Float32Array, (v, c) => Math.max(-2147483648, Math.min(2147483647, rne(v / sc[c]))));
    const bqn = m.addInit(`${b}_quantized`, val('int32', [bias.size], bq));
    const bsn = m.addInit(`${b}_scale`, val('float32', [bias.size], sc));
    b = m.fresh(`${n.input[2]}_DequantizeLinear`);
    nodes.push(nodeProto('DequantizeLinear', [bqn, bsn], [b], m.fresh(`${n.name}_bias_dq`), { axis: ['int', 0] }));
  }
  n.input = [xd, wf, ...(n.input.length > 2 ? [b, ...n.input.slice(3)] : [])];
  nodes.push(n);
  // The output too, when calibrated: Q → DQ after the node (its readers then take it as already quantized).
  const y = n.output[0];
  const py = cal.tensors[y];
  if (py) {
    const pre = m.fresh(`${y}_float`);
    n.output = [pre, ...n.output.slice(1)];
    const s = m.addInit(`${y}_scale`, val('float32', [], Float32Array.of(py.scale)));
    const z = m.addInit(`${y}_zero_point`, val('uint8', [], Uint8Array.of(py.zeroPoint)));
    const yq = m.fresh(`${y}_QuantizeLinear`);
    nodes.push(nodeProto('QuantizeLinear', [pre, s, z], [yq], m.fresh(`${y}_q`)));
    nodes.push(nodeProto('DequantizeLinear', [yq, s, z], [y], m.fresh(`${y}_dq`)));
    qdq.set(y, [y]);
  }
  return nodes;
}

/** Applies the quantization to an edited model (shared by quantizeOnnx and the CLI). Returns the count of nodes. */
export function quantizeEdit(m: EditModel, opts: OnnxQuantizeOptions, moments: Map<string, SecondMoments> | null = null, pixels: Map<string, number> | null = null): number {
  if (!(opts.skipOps ?? []).includes('Conv')) foldBatchNorm(m);
  const targets = selected(m, opts);
  if (targets.length === 0) return 0;
  currentMoments = moments;
  currentWeightOnly = opts.mode === 'dynamic' && opts.convForm === 'auto' ? new Set(targets.filter((t) => autoWeightOnly(t, pixels)).map((t) => t.node)) : null;
  try {
    return quantizeTargets(m, opts, targets);
  } finally {
    currentMoments = null;
    currentWeightOnly = null;
  }
}

/**
 * True for a Conv target that `convForm: 'auto'` writes weight-only (`pixels`: input name → pixels per image): the
 * runtime's own rule, {@link int8FloatWins} (where simdtensor's float32 conv beats its int8 one: quantizing the input
 * and the int8 GEMM's fixed costs outweigh its faster inner loop). Without a pixel count only the reduction decides.
 */
function autoWeightOnly(t: Target, pixels: Map<string, number> | null): boolean {
  if (t.node.opType !== 'Conv') return false;
  const k = t.w.size / Math.max(1, t.w.shape[0]);
  return int8FloatWins(k, pixels?.get(t.node.input[0] as string) ?? Infinity);
}

/**
 * Pixels per image of every Conv target's input in a float32 run of `pm` (a copy; edited into a probe) over one
 * feed: what `convForm: 'auto'` decides with.
 */
export function convInputPixels(pm: EditModel, opts: OnnxQuantizeOptions, feeds: Record<string, OnnxFeed>, what = `${FN}: opts.roundingSamples[0]`): Map<string, number> {
  if (!(opts.skipOps ?? []).includes('Conv')) foldBatchNorm(pm);
  const names = [...new Set(selected(pm, opts).filter((t) => t.node.opType === 'Conv').map((t) => t.node.input[0] as string))];
  const graphIn = new Set(((pm.graph.input as Msg[]) ?? []).map((i) => i.name));
  const outs = new Set(((pm.graph.output as Msg[]) ?? []).map((o) => o.name));
  for (const name of names) if (!outs.has(name) && !graphIn.has(name)) pm.graph.output.push({ name, type: { tensorType: { elemType: DT.FLOAT } } });
  let o: Record<string, { shape: readonly number[] }>;
  try {
    o = loadOnnx(pm.bytes()).run(feeds) as never;
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw new (e.constructor as typeof TypeError)(`${what}: ${e.message}`);
    throw e;
  }
  const res = new Map<string, number>();
  for (const name of names) {
    const f = (graphIn.has(name) ? feeds[name] : o[name]) as { shape?: readonly number[]; dims?: readonly number[] } | undefined;
    const shape = f?.shape ?? f?.dims;
    if (shape && shape.length >= 3) res.set(name, shape.slice(2).reduce((a, b) => a * b, 1));
  }
  return res;
}

/** True for the targets whose rounding can follow their input's second moments: MatMul/Gemm, pointwise Conv. */
function momentsTarget(t: Target): boolean {
  if (t.node.opType !== 'Conv') return true;
  return attrI(t.node, 'group', 1) === 1 && t.w.shape.slice(2).every((d) => d === 1);
}

/**
 * Runs the float32 model (batch norms folded, as quantizeEdit will see it) over `samples` and accumulates Σ x·xᵀ of
 * the inputs of every target that can use them.
 */
function secondMomentsOf(model: OnnxModel, opts: OnnxQuantizeOptions, samples: Record<string, OnnxFeed>[]): Map<string, SecondMoments> {
  return roundingMoments(editOf(FN, model), opts, samples);
}

/**
 * {@link quantizeEdit}'s `moments` for `roundingSamples`: runs the float32 form of `pm` (a copy of the model to be
 * quantized; it is edited into a probe) over the samples. Shared by quantizeModel and the optimize command.
 */
export function roundingMoments(pm: EditModel, opts: OnnxQuantizeOptions, samples: Record<string, OnnxFeed>[], what = `${FN}: opts.roundingSamples`): Map<string, SecondMoments> {
  if (!(opts.skipOps ?? []).includes('Conv')) foldBatchNorm(pm);
  const targets = selected(pm, opts).filter(momentsTarget);
  const graphIn = new Set(((pm.graph.input as Msg[]) ?? []).map((i) => i.name));
  const outs = new Set(((pm.graph.output as Msg[]) ?? []).map((o) => o.name));
  const res = new Map<string, SecondMoments>();
  for (const t of targets) {
    const name = t.node.input[0] as string;
    if (!outs.has(name) && !graphIn.has(name)) {
      pm.graph.output.push({ name, type: { tensorType: { elemType: DT.FLOAT } } });
      outs.add(name);
    }
    const k = t.node.opType === 'Conv' ? t.w.shape[1] : t.node.opType === 'Gemm' && attrI(t.node, 'transB', 0) === 1 ? t.w.shape[1] : t.w.shape[0];
    if (!res.has(momentsKey(t.node))) res.set(momentsKey(t.node), new SecondMoments(k));
  }
  const probe = loadOnnx(pm.bytes());
  samples.forEach((feeds, i) => {
    let o: Record<string, { data: unknown; shape: number[] }>;
    try {
      o = probe.run(feeds) as never;
    } catch (e) {
      if (e instanceof TypeError || e instanceof RangeError) throw new (e.constructor as typeof TypeError)(`${what}[${i}]: ${e.message}`);
      throw e;
    }
    for (const [key, mom] of res) {
      const [name, kind] = key.split('|');
      const v = graphIn.has(name) ? (feeds[name] as { data: unknown; dims?: number[]; shape?: number[] }) : o[name];
      const data = v?.data, shape = (v as { shape?: number[]; dims?: number[] })?.shape ?? (v as { dims?: number[] })?.dims;
      if (!(data instanceof Float32Array) || !shape) continue;
      if (kind === 'conv') {
        if (shape.length < 3 || shape[1] !== mom.k) continue;
        const plane = data.length / (shape[0] * mom.k);
        for (let b = 0; b < shape[0]; b++) mom.addColumns(data.subarray(b * mom.k * plane, (b + 1) * mom.k * plane), plane);
      } else if (shape[shape.length - 1] === mom.k) mom.addRows(data, data.length / mom.k);
    }
  });
  return res;
}

function quantizeTargets(m: EditModel, opts: OnnxQuantizeOptions, targets: Target[]): number {
  upgradeOpset(m, 13, FN);
  const set = new Map(targets.map((t) => [t.node, t]));
  const dql = new Map<string, string[]>();
  const out: Msg[] = [];
  for (const n of m.nodes) {
    const t = set.get(n);
    if (!t) {
      out.push(n);
      continue;
    }
    const pre: Msg[] = [];
    const rep = opts.mode === 'dynamic' ? dynamicNode(m, t, opts, dql, pre) : staticNode(m, t, opts, dql, pre);
    out.push(...pre, ...rep);
  }
  m.graph.node = out;
  m.pruneInits();
  if (opts.mode === 'dynamic' && opts.convForm !== 'weight-only' && targets.some((t) => t.node.opType === 'Conv' && !currentWeightOnly?.has(t.node))) {
    const props = ((m.proto.metadataProps as Msg[] | undefined) ?? []).filter((e) => e.key !== CONV_ACTIVATIONS_KEY);
    props.push({ key: CONV_ACTIVATIONS_KEY, value: opts.convActivations ?? 'per-pixel' });
    m.proto.metadataProps = props;
  }
  return targets.length;
}

/**
 * int8 quantization of an OnnxModel (what `quantizeModel(model, opts)` does for one): returns a NEW model whose
 * `saveOnnx` writes the standard int8 operators; the original stays intact.
 */
export function quantizeOnnx(model: OnnxModel, opts: OnnxQuantizeOptions): OnnxModel {
  const o = checkOptions(opts);
  const moments = o.roundingSamples ? secondMomentsOf(model, o, o.roundingSamples) : null;
  const pixels = o.mode === 'dynamic' && o.convForm === 'auto' && o.roundingSamples ? convInputPixels(editOf(FN, model), o, o.roundingSamples[0]) : null;
  const m = editOf(FN, model);
  const n = quantizeEdit(m, o, moments, pixels);
  if (n === 0) throw rangeError(FN, `the model has no MatMul/Gemm/Conv with a constant float32 weight left to quantize (after skipNodes/skipOps/keepFirst/keepLast)`);
  return modelOf(m);
}

/** Options of {@link calibrateOnnx}. */
export interface OnnxCalibrateOptions {
  /** 'minmax' (default), 'percentile' or 'mse' (see `Calibrator`). */
  method?: CalibrationMethod;
  /** For 'percentile' (default 99.99). */
  percentile?: number;
  /** Calibrate only the inputs of these targets (the same skip options as quantizeModel); default all. */
  skipNodes?: string[];
  skipOps?: string[];
}

/**
 * Runs the float32 model over `samples` (feeds, as for `model.run`) and records the range of every activation
 * that feeds a quantizable MatMul/Gemm/Conv: uint8 asymmetric scale/zero point per tensor for static quantization.
 */
export function calibrateOnnx(model: OnnxModel, samples: Record<string, OnnxFeed>[], opts: OnnxCalibrateOptions | null = {}): OnnxCalibration {
  const c = calibrationProbe(editOf('calibrate', model), samples, opts);
  const probe = loadOnnx(c.bytes);
  samples.forEach((feeds, i) => {
    let outs;
    try {
      outs = probe.run(feeds);
    } catch (e) {
      // The probe's feed checks name OnnxModel.run: say which sample of calibrate() was wrong, same error class.
      if (e instanceof TypeError || e instanceof RangeError) throw new (e.constructor as typeof TypeError)(`calibrate: samples[${i}]: ${e.message}`);
      throw e;
    }
    c.observe(feeds, outs);
  });
  return c.finish();
}

/** A float activation of the probe model, or a feed. */
type Observed = { dtype: string; size: number; data: ArrayLike<number>; shape?: readonly number[]; dims?: readonly number[] };

/**
 * The calibration machinery on an edited model: `bytes` is a probe model whose graph outputs include every
 * activation feeding a quantizable node; `observe(feeds, outputs)` records one sample (outputs from any runtime);
 * `finish()` returns the parameters. Used by calibrateOnnx (simdtensor) and the optimize command (onnxruntime
 * when simdtensor cannot run the model).
 */
export function calibrationProbe(m: EditModel, samples: unknown, opts: OnnxCalibrateOptions | null) {
  const fn = 'calibrate';
  if (!Array.isArray(samples) || samples.length === 0) throw typeError(fn, `samples must be a non-empty array of feeds ({ inputName: tensor }), got ${describe(samples)}`);
  opts = options(fn, opts); // null / undefined mean no options (the API contract)
  const method = opts.method ?? 'minmax';
  if (method !== 'minmax' && method !== 'percentile' && method !== 'mse') throw typeError(fn, `opts.method must be 'minmax', 'percentile' or 'mse', got ${describe(method)}`);
  samples.forEach((feeds, i) => {
    if (!feeds || typeof feeds !== 'object') throw typeError(fn, `samples[${i}] must be feeds ({ inputName: tensor }), got ${describe(feeds)}`);
  });
  foldBatchNorm(m); // the graph quantizeModel will see (names of Conv inputs do not change)
  // Inputs and outputs of every quantizable node (outputs get their own Q → DQ in the static form).
  const names = [...new Set(selected(m, { mode: 'static', skipNodes: opts.skipNodes, skipOps: opts.skipOps }).flatMap((t) => [t.node.input[0] as string, t.node.output[0] as string]))];
  const graphIn = new Set(((m.graph.input as Msg[]) ?? []).map((i) => i.name));
  const outs = new Set(((m.graph.output as Msg[]) ?? []).map((o) => o.name));
  // Every observed activation becomes a graph output of a probe model.
  for (const name of names) if (!outs.has(name) && !graphIn.has(name)) m.graph.output.push({ name, type: { tensorType: { elemType: DT.FLOAT } } });
  const cals = new Map(names.map((n) => [n, new Calibrator({ method, percentile: opts.percentile })]));
  let count = 0;
  return {
    bytes: m.bytes(),
    observe(feeds: Record<string, unknown>, outputs: Record<string, unknown>): void {
      count++;
      for (const [name, c] of cals) {
        const v = (graphIn.has(name) ? feeds[name] : outputs[name]) as Observed | undefined;
        if (!v) continue;
        const data = v.data as Float32Array;
        if (!(data instanceof Float32Array) || data.length === 0) continue;
        const dims = (v.shape ?? v.dims)!;
        c.observe(new Tensor(data, dims.slice(), 'float32', data.length));
      }
    },
    finish(): OnnxCalibration {
      const tensors: Record<string, TensorCalibration> = {};
      for (const [name, c] of cals) {
        if (c.count === 0) continue;
        const { min, max } = c.range({ symmetric: false, dtype: 'uint8' });
        const { scale, zeroPoint } = c.params({ dtype: 'uint8', scheme: 'asymmetric' });
        tensors[name] = { min: min[0], max: max[0], scale: scale[0], zeroPoint: zeroPoint[0] };
      }
      return { method, samples: count, tensors };
    },
  };
}


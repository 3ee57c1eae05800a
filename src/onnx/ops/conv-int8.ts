/**
 * int8 convolutions as onnxruntime's quantizer writes them: ConvInteger (exact int32 sums), QLinearConv
 * (requantized output), and the fused dynamic-int8 conv node (domain 'simdtensor', from
 * [DynamicQuantizeLinear →] ConvInteger → Cast → Mul(x_scale·w_scale) [→ Add bias] [→ affines] [→ activation]) with a dequantizing epilogue.
 *
 * groups = 1 runs on the int8 conv kernels (src/conv/conv2d-int8.ts: u8/s8 activations × int8/uint8 weights with
 * per-output-channel zero points, padding = the activation zero point). Grouped and depthwise int8 convs, which the
 * int8 kernels do not take, run the float32 conv on (x − x_zero_point) and (w − w_zero_point): every product and
 * every partial sum is an integer, so the float32 result is exact while K·max|x − xz|·max|w − wz| < 2^24 (K = taps ×
 * channels per group; a depthwise 3×3 has K = 9). Beyond that bound a plain integer loop computes it (slow, exact).
 * @module
 */
import { rangeError, typeError } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { native } from '../../native.js';
import { dequantize, QuantizedTensor } from '../../int8/index.js';
import { conv2d, conv2dAsync, packConvWeights, type Conv2dOptions } from '../../conv/conv2d.js';
import { int8ConvCall, PackedInt8ConvWeights, type Int8Conv2dOptions } from '../../conv/conv2d-int8.js';
import '../../conv/conv2d-int8.js';
import '../../conv/depthwise.js';
import { attrInt, attrInts, attrStr, type Node } from '../graph.js';
import { mk, view, type Value } from '../value.js';
import { rne } from './quant.js';
import { as4d, back, checkSpatial, convOpts, kernelCheck, named, namedAsync, out4d, type FusedConvExtra } from './conv.js';
import { getOnnxOp, keepCall, keepCallVia, registerOnnxOp } from './registry.js';
import { monitorHook } from '../../ops/registry.js';

type Ins = (Value | undefined)[];
const fr = Math.fround;
/** Largest integer below which every float32 partial sum is exact. */
const F32_EXACT = 2 ** 24;
const ONE = Float32Array.of(1);
const ZERO = Int32Array.of(0);

function qv(op: string, n: Node, v: Value | undefined, arg: string): Value {
  if (!v) throw rangeError(op, `node '${n.name}': input ${arg} is missing`);
  if (v.dtype !== 'int8' && v.dtype !== 'uint8') throw typeError(op, `node '${n.name}': ${arg} must be int8 or uint8, got ${v.dtype}`);
  return v;
}

/** A zero-point input as one value per output channel (`m`), checked against the dtype it belongs to. */
function zeroPoints(op: string, n: Node, z: Value | undefined, m: number, dtype: string, arg: string): Int32Array {
  const r = new Int32Array(m);
  if (!z) return r;
  if (z.dtype !== dtype) throw typeError(op, `node '${n.name}': ${arg} must be ${dtype} like its tensor, got ${z.dtype}`);
  if (z.size !== 1 && z.size !== m) throw rangeError(op, `node '${n.name}': ${arg} has ${z.size} values, needs 1 or ${m}`);
  for (let i = 0; i < m; i++) r[i] = z.data[z.size === 1 ? 0 : i];
  return r;
}

function scalarZero(op: string, n: Node, z: Value | undefined, dtype: string, arg: string): number {
  if (!z) return 0;
  if (z.size !== 1) throw rangeError(op, `node '${n.name}': ${arg} must be a scalar (per-tensor), got ${z.size} values`);
  if (z.dtype !== dtype) throw typeError(op, `node '${n.name}': ${arg} must be ${dtype} like x, got ${z.dtype}`);
  return z.data[0];
}

/** x as a 4-D Tensor (1-D convs as [N, C, 1, L]), and W likewise. */
function x4(op: string, n: Node, x: Value): Tensor {
  return as4d(op, n, x as unknown as Tensor);
}
function w4(op: string, n: Node, w: Value, rank: number): Tensor {
  if (w.shape.length !== rank) throw rangeError(op, `node '${n.name}': W must have the rank of x (${rank}), got shape [${w.shape.join(', ')}]`);
  kernelCheck(n, w as unknown as Tensor);
  return (rank === 4 ? w : view(w, [w.shape[0], w.shape[1], 1, w.shape[2]])) as unknown as Tensor;
}

/** Per-channel float scales (w_scale: 1 or m values). */
function scales(op: string, n: Node, s: Value | undefined, m: number, arg: string): Float32Array {
  if (!s) throw rangeError(op, `node '${n.name}': input ${arg} is missing`);
  if (s.dtype !== 'float32') throw typeError(op, `node '${n.name}': ${arg} must be float32, got ${s.dtype}`);
  if (s.size !== 1 && s.size !== m) throw rangeError(op, `node '${n.name}': ${arg} has ${s.size} values, needs 1 or ${m}`);
  const r = new Float32Array(m);
  for (let i = 0; i < m; i++) r[i] = s.data[s.size === 1 ? 0 : i];
  return r;
}

/** int8/uint8 weights [M, C, kH, kW] packed once for the groups-1 int8 kernels (zero points and scales per channel). */
export function packConvInt8(w: Tensor, wz: Int32Array, ws: Float32Array | null): PackedInt8ConvWeights {
  const m = w.shape[0];
  const q = new QuantizedTensor(w, ws ?? new Float32Array(m).fill(1), wz, 0, 'asymmetric');
  return packConvWeights(q, { weightLayout: 'oihw' });
}

/** The grouped-conv fallback's weights: w − wz as float32 (cached per node), and max|w − wz|. */
interface FloatWeights {
  w: Tensor;
  maxAbs: number;
}
function floatWeights(w: Tensor, wz: Int32Array): FloatWeights {
  const m = w.shape[0], per = w.size / m;
  const W = w.data as Int8Array | Uint8Array;
  const F = new Float32Array(w.size);
  let maxAbs = 0;
  for (let o = 0; o < m; o++)
    for (let i = o * per; i < (o + 1) * per; i++) {
      const v = W[i] - wz[o];
      F[i] = v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
  return { w: new Tensor(F, w.shape.slice(), 'float32', w.size), maxAbs };
}

/** Explicit [top, left, bottom, right] pads of a node for input size (h, w) (auto_pad resolved as ONNX does). */
function explicitPads(n: Node, rank: number, h: number, w: number, kh: number, kw: number, s: [number, number], d: [number, number]): number[] {
  const auto = attrStr(n, 'auto_pad', 'NOTSET');
  if (auto === 'VALID') return [0, 0, 0, 0];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const r = [0, 0, 0, 0];
    [[h, kh], [w, kw]].forEach(([len, k], i) => {
      const total = Math.max(0, (Math.ceil(len / s[i]) - 1) * s[i] + (k - 1) * d[i] + 1 - len);
      const small = Math.floor(total / 2);
      r[i] = auto === 'SAME_UPPER' ? small : total - small;
      r[i + 2] = total - r[i];
    });
    return r;
  }
  const p = attrInts(n, 'pads');
  if (!p) return [0, 0, 0, 0];
  return rank === 3 ? [0, p[0], 0, p[1]] : p.slice(0, 4);
}

/**
 * Exact ConvInteger (NCHW, any groups): Σ (x − xz)·(w − wz[m]) with padding contributing zero. The scalar reference
 * the tests check every path against, and the fallback when the float32 path could round.
 */
export function convIntegerReference(x: Tensor, xz: number, w: Tensor, wz: Int32Array, group: number, strides: [number, number], dil: [number, number], pads: number[]): Tensor {
  const [N, C, H, W] = x.shape, [M, Cg, KH, KW] = w.shape;
  const OH = Math.floor((H + pads[0] + pads[2] - (dil[0] * (KH - 1) + 1)) / strides[0]) + 1;
  const OW = Math.floor((W + pads[1] + pads[3] - (dil[1] * (KW - 1) + 1)) / strides[1]) + 1;
  const y = new Int32Array(N * M * OH * OW);
  const X = x.data as Int8Array | Uint8Array, Wd = w.data as Int8Array | Uint8Array;
  const Mg = M / group;
  for (let b = 0; b < N; b++)
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let acc = 0;
          for (let c = 0; c < Cg; c++)
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * strides[0] - pads[0] + ky * dil[0];
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * strides[1] - pads[1] + kx * dil[1];
                if (ix < 0 || ix >= W) continue;
                acc += (X[((b * C + g * Cg + c) * H + iy) * W + ix] - xz) * (Wd[((m * Cg + c) * KH + ky) * KW + kx] - wz[m]);
              }
            }
          y[((b * M + m) * OH + oy) * OW + ox] = acc;
        }
    }
  return new Tensor(y, [N, M, OH, OW], 'int32', y.length);
}

/** What a ConvInteger/QLinearConv node keeps between runs (packed at load by `int8-prepack`, or on the first run). */
interface ConvIntCache {
  w: Value;
  packed?: PackedInt8ConvWeights;
  float?: FloatWeights;
}

interface ConvIntCall {
  x: Tensor;
  xz: number;
  w: Tensor;
  wz: Int32Array;
  rank: number;
  groups: number;
  opts: Conv2dOptions;
  cache: ConvIntCache;
}

function prepare(op: string, n: Node, x0: Value, xzv: Value | undefined, w0: Value, wzv: Value | undefined, ws: Float32Array | null): ConvIntCall {
  qv(op, n, x0, 'x');
  qv(op, n, w0, 'w');
  const rank = x0.shape.length;
  const x = x4(op, n, x0), w = w4(op, n, w0, rank);
  const xz = scalarZero(op, n, xzv, x0.dtype, 'x_zero_point');
  const wz = zeroPoints(op, n, wzv, w.shape[0], w0.dtype, 'w_zero_point');
  const groups = attrInt(n, 'group', 1);
  const opts: Conv2dOptions = { ...convOpts(n, rank, false) };
  let cache = n.extra?.convInt as ConvIntCache | undefined;
  if (!cache || cache.w !== w0) {
    cache = { w: w0 };
    n.extra = { ...n.extra, convInt: cache };
  }
  if (groups === 1 && !cache.packed) cache.packed = packConvInt8(w, wz, ws);
  return { x, xz, w, wz, rank, groups, opts, cache };
}

/**
 * Packs a groups-1 ConvInteger/QLinearConv's constant weights at load (the `int8-prepack` pass); false when the
 * weights, zero points or scales are not constant or not valid (the node then reports it, or packs, on its run).
 */
export function prepackConvInt8Node(n: Node, consts: Map<string, Value>): boolean {
  if (attrInt(n, 'group', 1) !== 1) return false;
  const ql = n.op === 'QLinearConv';
  const get = (i: number) => (n.inputs[i] ? consts.get(n.inputs[i]) : undefined);
  const w = get(ql ? 3 : 1), wz = get(ql ? 5 : 3), ws = ql ? get(4) : undefined;
  if (!w || (n.inputs[ql ? 5 : 3] && !wz) || (ql && !ws)) return false;
  try {
    const rank = w.shape.length;
    const w4t = w4(n.op, n, qv(n.op, n, w, 'w'), rank);
    const m = w.shape[0];
    const zp = zeroPoints(n.op, n, wz, m, w.dtype, 'w_zero_point');
    n.extra = { ...n.extra, convInt: { w, packed: packConvInt8(w4t, zp, ws ? scales(n.op, n, ws, m, 'w_scale') : null) } };
    return true;
  } catch {
    return false;
  }
}

/** The exact int32 sums of a grouped int8 conv (float32 conv when exact, else the integer loop). */
function groupedInt32(op: string, n: Node, p: ConvIntCall): Tensor {
  const { x, xz, w, wz, groups } = p;
  const c = p.cache;
  if (!c.float) c.float = floatWeights(w, wz);
  const [lo, hi] = x.dtype === 'int8' ? [-128, 127] : [0, 255];
  const maxX = Math.max(xz - lo, hi - xz);
  const K = w.shape[1] * w.shape[2] * w.shape[3];
  const o = p.opts as { strides: [number, number]; dilations: [number, number] };
  if (K * maxX * c.float.maxAbs >= F32_EXACT) {
    const pads = explicitPads(n, p.rank, x.shape[2], x.shape[3], w.shape[2], w.shape[3], o.strides, o.dilations);
    return convIntegerReference(x, xz, w, wz, groups, o.strides, o.dilations, pads);
  }
  const xf = new Float32Array(x.size);
  native.dequantize(x.data as Int8Array | Uint8Array, xf, 1, 1, x.size, ONE, Int32Array.of(xz));
  const y = named(op, n, () => conv2d(new Tensor(xf, x.shape.slice(), 'float32', x.size), c.float!.w, { ...p.opts, groups }));
  const r = new Int32Array(y.size);
  r.set(y.data as Float32Array);
  return new Tensor(r, y.shape.slice(), 'int32', r.length);
}

/** Copies `y` into the planned output (when given) and returns the node-rank result. */
function finish(y: Tensor, out: Value | undefined, rank: number): Value {
  if (out && out.data !== y.data) (out.data as Int32Array).set(y.data as Int32Array);
  return out ?? back(y, rank);
}

function convIntegerRun(n: Node, ins: Ins, outs: (Value | undefined)[]): Value[] {
  const p = prepare('ConvInteger', n, ins[0]!, ins[2], ins[1]!, ins[3], null);
  if (p.groups !== 1) return [finish(groupedInt32('ConvInteger', n, p), outs[0], p.rank)];
  const qx = new QuantizedTensor(p.x, 1, p.xz, null);
  const o = out4d(outs[0], p.rank);
  const y = named('ConvInteger', n, () => conv2d(qx, p.cache.packed!, { ...p.opts, output: 'int32', ...(o ? { out: o } : {}) })) as Tensor;
  return [o ? outs[0]! : back(y, p.rank)];
}

registerOnnxOp('ConvInteger', {
  check: checkSpatial,
  run: convIntegerRun,
  async runAsync(n, ins, outs, _ctx, signal) {
    const p = prepare('ConvInteger', n, ins[0]!, ins[2], ins[1]!, ins[3], null);
    if (p.groups !== 1) return [finish(groupedInt32('ConvInteger', n, p), outs[0], p.rank)];
    const qx = new QuantizedTensor(p.x, 1, p.xz, null);
    const o = out4d(outs[0], p.rank);
    const y = (await namedAsync('ConvInteger', n, () => conv2dAsync(qx, p.cache.packed!, { ...p.opts, output: 'int32', signal, ...(o ? { out: o } : {}) }))) as Tensor;
    return [o ? outs[0]! : back(y, p.rank)];
  },
});

/** QLinearConv's parameters: [x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B]. */
function qlinearConvArgs(n: Node, ins: Ins) {
  const op = 'QLinearConv';
  const [x, xs, xzv, w, wsv, wzv, ys, yz, b] = ins;
  const m = qv(op, n, w, 'w').shape[0];
  const ws = scales(op, n, wsv, m, 'w_scale');
  const p = prepare(op, n, x!, xzv, w!, wzv, ws);
  const xScale = scales(op, n, xs, 1, 'x_scale')[0];
  const yScale = scales(op, n, ys, 1, 'y_scale')[0];
  const dt = yz ? yz.dtype : 'uint8';
  if (dt !== 'int8' && dt !== 'uint8') throw typeError(op, `node '${n.name}': y_zero_point must be int8 or uint8, got ${dt}`);
  const yZero = scalarZero(op, n, yz, dt, 'y_zero_point');
  if (b && (b.dtype !== 'int32' || b.size !== m)) throw rangeError(op, `node '${n.name}': B must be int32 with ${m} values, got ${b.dtype}[${b.shape.join(', ')}]`);
  return { p, ws, xScale, yScale, dt: dt as 'int8' | 'uint8', yZero, b: b ? (b.data as Int32Array) : null, m };
}

registerOnnxOp('QLinearConv', {
  check: checkSpatial,
  run(n, ins, outs) {
    const a = qlinearConvArgs(n, ins);
    const { p } = a;
    if (p.groups === 1) {
      const qx = new QuantizedTensor(p.x, a.xScale, p.xz, null);
      // B is in units of x_scale·w_scale: as a float bias it is B·x_scale·w_scale (added before requantizing).
      let bias: Tensor | undefined;
      if (a.b) {
        const bf = new Float32Array(a.m);
        for (let o = 0; o < a.m; o++) bf[o] = fr(a.b[o] * fr(a.xScale * a.ws[o]));
        bias = new Tensor(bf, [a.m], 'float32', a.m);
      }
      const o = out4d(outs[0], p.rank);
      const y = named('QLinearConv', n, () => conv2d(qx, p.cache.packed!, { ...p.opts, bias, output: { dtype: a.dt, scale: a.yScale, zeroPoint: a.yZero }, ...(o ? { out: o } : {}) })) as QuantizedTensor;
      return [o ? outs[0]! : back(y.data as Tensor, p.rank)];
    }
    // Grouped: exact int32 sums, then requantized as onnxruntime does: rne((acc + B)·(x_scale·w_scale / y_scale)) + y_zp.
    const acc = groupedInt32('QLinearConv', n, p);
    const [N, M, OH, OW] = acc.shape;
    const out = outs[0] ?? mk(a.dt, p.rank === 4 ? [N, M, OH, OW] : [N, M, OW]);
    const A = acc.data as Int32Array, Y = out.data as Int8Array | Uint8Array;
    const [lo, hi] = a.dt === 'int8' ? [-128, 127] : [0, 255];
    const plane = OH * OW;
    for (let i = 0; i < A.length; i++) {
      const m = Math.floor(i / plane) % M;
      const q = rne(fr((A[i] + (a.b ? a.b[m] : 0)) * fr(fr(a.xScale * a.ws[m]) / a.yScale))) + a.yZero;
      Y[i] = q < lo ? lo : q > hi ? hi : q;
    }
    return [out];
  },
});

/** What the `dynamic-int8-conv-fusion` pass attaches to an Int8Conv node. */
export interface Int8ConvExtra {
  /**
   * groups 1: int8 weights packed once for the int8 conv kernels, scales = the weights' per-channel scales, the
   * float32 bias inside. Grouped/depthwise: the dequantized float32 weights (w − wz)·w_scale, run by the float32
   * (depthwise) kernels on the dequantized input (xq − xz)·x_scale with `bias` — the same value up to float32
   * rounding of the products (not bit-exact with onnxruntime's int32 sum, within ~1e-6 relative).
   */
  packed: PackedInt8ConvWeights | Tensor;
  /** Bias of the float path (null for packed int8 weights, which hold theirs). */
  bias: Tensor | null;
  /** Geometry, groups, fused activation (int8: none / relu / gelu), layout. */
  opts: Conv2dOptions;
  /** Spatial rank of the original node (3 = 1-D conv). */
  rank: number;
  /** The float path's dequantized-input buffer, reused across runs. */
  scratch?: Float32Array;
  /**
   * groups 1: the node reads the float32 input and quantizes it itself with DynamicQuantizeLinear's uint8 range,
   * scale and zero point into `qScratch`, reused across runs (its DynamicQuantizeLinear was absorbed).
   */
  dynamic?: boolean;
  qScratch?: Uint8Array;
  /**
   * With `dynamic`, on a pointwise conv of a file quantized with `convActivations: 'per-pixel'`: the NHWC input is
   * quantized per pixel (one scale and zero point per row of the GEMM, into `rowScale` / `rowZero`, reused), and the
   * int8 kernels' epilogue dequantizes each row with its own scale. NCHW runs (no `nhwc-layout`) stay per tensor.
   */
  perPixel?: boolean;
  rowScale?: Float32Array;
  rowZero?: Int32Array;
  /**
   * groups 1 with `dynamic`: the int8 weights [M, C, kH, kW] with their per-channel scales (the folded affines
   * inside) and zero points, and the float32 bias, for the float32 route.
   */
  src?: { q: QuantizedTensor; bias: Tensor | null };
  /**
   * Set by the 'int8-conv-float-route' pass: inputs of a shape where the float32 conv wins ({@link int8FloatWins})
   * run `floatNode`, a FusedConv over the float32 input with the dequantized weights (w − wz)·w_scale, built on first
   * use — no activation quantization there, the numerics of a weight-only int8 conv.
   */
  floatRoute?: boolean;
  floatNode?: Node;
}

/**
 * The reduction lengths and input pixels per image where simdtensor's float32 conv beats its int8 one, with the
 * input's quantization counted (per-node profiles of PaddleOCR rec, docs/onnx-optimize.md: the 3×3 stem over 3
 * channels, K = 27, 0.33 → 0.08 ms; a K = 16 pointwise conv 0.15 → 0.07; the 1×1-pixel squeeze-excite and
 * 40-pixel neck convs 1.5–3×), decided here per run shape; `quantizeModel`'s `convForm: 'auto'` applies the same rule.
 */
export function int8FloatWins(k: number, pixels: number): boolean {
  return k < 32 || pixels <= 64;
}

/** The float32 route of a dynamic Int8Conv for input x, or null where int8 runs (see Int8ConvExtra.floatRoute). */
function floatRouteNode(n: Node, e: Int8ConvExtra, x: Value | undefined): Node | null {
  if (!e.floatRoute || !e.src || !x || x.dtype !== 'float32' || x.shape.length !== e.rank) return null;
  const ws = e.src.q.shape, k = ws[1] * ws[2] * ws[3];
  const nhwc = e.opts.layout === 'nhwc';
  let pixels = 1;
  for (let i = nhwc ? 1 : 2; i < (nhwc ? x.shape.length - 1 : x.shape.length); i++) pixels *= x.shape[i];
  if (!int8FloatWins(k, pixels)) return null;
  if (!e.floatNode) {
    const packed = packConvWeights(dequantize(e.src.q), { weightLayout: 'oihw', bias: e.src.bias });
    const opts = { ...e.opts };
    delete opts.weightLayout;
    const extra: FusedConvExtra = { w: packed, bias: null, opts, transposed: false, rank: e.rank, tail: [], opset: 0 };
    e.floatNode = { ...n, op: 'FusedConv', extra: extra as unknown as Record<string, unknown> };
  }
  return e.floatNode;
}

/** [scale, zero point] of the last in-node dynamic quantization. */
const dqParams = new Float32Array(2);
const dqScale = new Float32Array(1), dqZero = new Int32Array(1);

/** Where a dynamic Int8Conv quantizes its input: the node's buffers, or the ones a kept call holds. */
type QuantBuffers = Pick<Int8ConvExtra, 'qScratch' | 'rowScale' | 'rowZero'>;

/**
 * Quantizes a dynamic Int8Conv's float32 input into `b.qScratch` with the library's per-row dynamic quantizer (SIMD
 * min/max, then x·(1/scale) rounded half to even): DynamicQuantizeLinear's range and scale, ~10× faster than the
 * division-exact onnxDynamicQuantize, which stays for inputs holding NaN/±Inf (onnxruntime's rules for those).
 * True: quantized per pixel (`perPixel` on NHWC: one scale and zero point per row into `b.rowScale` / `b.rowZero`,
 * made here on first need); false: per tensor, into {@link dqScale} / {@link dqZero}. Rows holding NaN/±Inf get a NaN
 * scale: the whole tensor then takes the per-tensor path.
 */
function quantizeInput(e: Int8ConvExtra, b: QuantBuffers, X: Float32Array, shape: readonly number[]): boolean {
  const q = b.qScratch!;
  if (e.perPixel && e.opts.layout === 'nhwc' && X.length > 0) {
    const c = shape[shape.length - 1], rows = X.length / c;
    if (!b.rowScale || b.rowScale.length !== rows) {
      b.rowScale = new Float32Array(rows);
      b.rowZero = new Int32Array(rows);
    }
    if (native.quantizeRows(X, rows, c, q, b.rowScale, b.rowZero!) === 0) return true;
  }
  if (X.length === 0 || native.quantizeRows(X, 1, X.length, q, dqScale, dqZero) !== 0) {
    native.onnxDynamicQuantize(X, q, dqParams);
    dqScale[0] = dqParams[0];
    dqZero[0] = dqParams[1];
  }
  return false;
}

/**
 * Fused dynamic-int8 conv (domain 'simdtensor'): inputs [xq (uint8/int8), x_scale, x_zero_point], or [x (float32)]
 * when `extra.dynamic` (quantized here);
 * float32 output = x_scale·w_scale[m]·Σ(xq − xz)(w − wz) + bias[m], then the activation — one conv call.
 */
function int8ConvArgs(n: Node, ins: Ins, outs: (Value | undefined)[]) {
  const e = n.extra as unknown as Int8ConvExtra;
  let [xq, xs, xz] = ins;
  if (e.dynamic) {
    const xf = ins[0];
    if (!xf || xf.dtype !== 'float32') throw typeError('Int8Conv', `node '${n.name}': x must be float32, got ${xf?.dtype}`);
    // One buffer per node, reused across runs (a model runs one call at a time).
    if (!e.qScratch || e.qScratch.length !== xf.size) e.qScratch = new Uint8Array(xf.size);
    if (quantizeInput(e, e, xf.data as Float32Array, xf.shape)) {
      const x = mk('uint8', xf.shape, e.qScratch) as unknown as Tensor;
      const o = outs[0] as unknown as Tensor | undefined;
      const opts: Conv2dOptions = { ...e.opts, ...(o ? { out: o } : {}), pixelParams: { scale: e.rowScale!, zeroPoint: e.rowZero! } } as Conv2dOptions;
      return { input: new QuantizedTensor(x, 1, 0, null), o, e, opts, nhwc: true, scale: ONE, zero: ZERO };
    }
    xq = mk('uint8', xf.shape, e.qScratch);
    xs = mk('float32', [], Float32Array.of(dqScale[0]));
    xz = mk('uint8', [], Uint8Array.of(dqZero[0]));
  }
  qv('Int8Conv', n, xq, 'x');
  const nhwc = e.opts.layout === 'nhwc';
  const x = nhwc ? (xq as unknown as Tensor) : x4('Int8Conv', n, xq!);
  const scale = xs!.data[0], zero = xz ? xz.data[0] : 0;
  const o = nhwc ? (outs[0] as unknown as Tensor | undefined) : out4d(outs[0], e.rank);
  const opts: Conv2dOptions = { ...e.opts, ...(o ? { out: o } : {}) };
  let input: Tensor | QuantizedTensor;
  if (e.packed instanceof PackedInt8ConvWeights) input = new QuantizedTensor(x, scale, zero, null);
  else {
    // One scratch per node, reused across runs (a model runs one call at a time): no fresh pages per run.
    if (!e.scratch || e.scratch.length !== x.size) e.scratch = new Float32Array(x.size);
    const xf = e.scratch;
    native.dequantize(x.data as Int8Array | Uint8Array, xf, 1, 1, x.size, Float32Array.of(scale), Int32Array.of(zero));
    input = new Tensor(xf, x.shape.slice(), 'float32', x.size);
    if (e.bias) opts.bias = e.bias;
  }
  // The kept call reads the parameters where this run found them: the node's own (dynamic) or its inputs' storage.
  const scaleArr = e.dynamic ? dqScale : xs!.data, zeroArr = e.dynamic ? dqZero : xz ? xz.data : ZERO;
  return { input, o, e, opts, nhwc, scale: scaleArr, zero: zeroArr };
}
/**
 * Keeps an Int8Conv's call for {@link keptCall}: the native conv checked once over this run's storage. A dynamic node
 * requantizes its input first; a per-pixel one keeps the per-tensor call too, for inputs holding NaN/±Inf.
 */
function keepInt8Call(n: Node, ins: Ins, outs: (Value | undefined)[], e: Int8ConvExtra, x: QuantizedTensor, opts: Conv2dOptions | Int8Conv2dOptions, scale: ArrayLike<number>, zero: ArrayLike<number>): void {
  const w = e.packed as PackedInt8ConvWeights;
  const conv = named('Int8Conv', n, () => int8ConvCall('conv2d', x, w, opts, scale, zero));
  let call = conv;
  if (e.dynamic) {
    const X = ins[0]!.data as Float32Array, shape = ins[0]!.shape.slice();
    // The buffers this call was checked over: a run of another input size replaces the node's (int8ConvArgs).
    const b: QuantBuffers = { qScratch: e.qScratch, rowScale: e.rowScale, rowZero: e.rowZero };
    const byPixel = !!(opts as Int8Conv2dOptions).pixelParams;
    let other: (() => void) | null = null;
    // The other quantization's call, made the first time an input needs it (int8ConvArgs's two forms).
    const otherCall = () => {
      const o: Int8Conv2dOptions = { ...opts } as Int8Conv2dOptions;
      if (byPixel) delete o.pixelParams;
      else o.pixelParams = { scale: b.rowScale!, zeroPoint: b.rowZero! };
      const t = new QuantizedTensor(x.data, 1, 0, null);
      return named('Int8Conv', n, () => (byPixel ? int8ConvCall('conv2d', t, w, o, dqScale, dqZero) : int8ConvCall('conv2d', t, w, o, ONE, ZERO)));
    };
    call = () => {
      if (quantizeInput(e, b, X, shape) === byPixel) conv();
      else (other ??= otherCall())();
    };
  }
  keepCall(n, ins, outs, outs[0]!, call);
}

const fusedConv = () => getOnnxOp('FusedConv', 'simdtensor')!;

registerOnnxOp('Int8Conv', {
  run(n, ins, outs, ctx) {
    const f = floatRouteNode(n, n.extra as unknown as Int8ConvExtra, ins[0]);
    if (f) {
      const res = fusedConv().run(f, ins.slice(0, 1), outs, ctx);
      if (!monitorHook.on) keepCallVia(n, f, ins, outs);
      return res;
    }
    const { input, o, e, opts, nhwc, scale, zero } = int8ConvArgs(n, ins, outs);
    const y = named('Int8Conv', n, () => conv2d(input as QuantizedTensor, e.packed as PackedInt8ConvWeights, opts)) as Tensor;
    if (o && e.packed instanceof PackedInt8ConvWeights && !monitorHook.on) keepInt8Call(n, ins, outs, e, input as QuantizedTensor, opts, scale, zero);
    return [o ? outs[0]! : nhwc ? (y as unknown as Value) : back(y, e.rank)];
  },
  async runAsync(n, ins, outs, ctx, signal) {
    const f = floatRouteNode(n, n.extra as unknown as Int8ConvExtra, ins[0]);
    if (f) return fusedConv().runAsync!(f, ins.slice(0, 1), outs, ctx, signal);
    const { input, o, e, opts, nhwc } = int8ConvArgs(n, ins, outs);
    const y = (await namedAsync('Int8Conv', n, () => conv2dAsync(input as QuantizedTensor, e.packed as PackedInt8ConvWeights, { ...opts, signal }))) as Tensor;
    return [o ? outs[0]! : nhwc ? (y as unknown as Value) : back(y, e.rank)];
  },
}, 'simdtensor');

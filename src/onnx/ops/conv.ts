/**
 * The convolution family as ONNX operators on simdtensor's conv kernels: Conv (depthwise through the depthwise
 * kernels), ConvTranspose, BatchNormalization (inference), MaxPool/AveragePool, GlobalAverage/MaxPool, Resize, and
 * the fused conv node the load-time passes produce (packed weights, folded batch norm, residual, activation).
 * @module
 */
import { rangeError, typeError } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { native, nativeOnly } from '../../native.js';
import { monitorHook } from '../../ops/registry.js';
import { conv2d, conv2dAsync, convTranspose2d, convTranspose2dAsync, packConvWeights, PackedConvWeights, planConv, planGeometry, type Conv2dOptions, type ConvTranspose2dOptions, type ConvTranspose2dAsyncOptions } from '../../conv/conv2d.js';
import { depthwiseConv2d, depthwiseConv2dAsync, nativeCall as dwNativeCall, plan as planDepthwise, type DepthwiseConv2dOptions } from '../../conv/depthwise.js';
import { avgPool2d, avgPool2dAsync, globalAvgPool, globalAvgPoolAsync, globalMaxPool, globalMaxPoolAsync, maxPool2d, maxPool2dAsync, plan as planPool, type Pool2dOptions } from '../../conv/pool.js';
import { resize, resizeAsync, type ResizeOptions } from '../../conv/resize.js';
import '../../conv/depthwise.js';
import type { ConvActivation } from '../../conv/activation.js';
import { attrFloat, attrInt, attrInts, attrStr, type Node } from '../graph.js';
import { broadcastShape, ints, mk, numel, outOr, sameShape, view, type Value } from '../value.js';
import { transposeInto } from './shape.js';
import { timedRun } from '../../conv/window.js';
import { getOnnxOp, keepCall, registerOnnxOp, type OpContext, type OpDef, type Rebind } from './registry.js';

type Ins = (Value | undefined)[];

/** Runs `f`, prefixing a TypeError/RangeError from the conv family with the op and node name. */
export function named<T>(op: string, n: Node, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw rename(op, n, e);
  }
}
export async function namedAsync<T>(op: string, n: Node, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw rename(op, n, e);
  }
}
function rename(op: string, n: Node, e: unknown): unknown {
  if (e instanceof RangeError) return rangeError(op, `node '${n.name}': ${e.message}`);
  if (e instanceof TypeError) return typeError(op, `node '${n.name}': ${e.message}`);
  return e;
}

function f32(op: string, n: Node, v: Value | undefined, arg: string): Tensor {
  if (!v) throw rangeError(op, `node '${n.name}': input ${arg} is missing`);
  if (v.dtype !== 'float32') throw typeError(op, `node '${n.name}': ${arg}.dtype must be float32, got ${v.dtype}`);
  return v as unknown as Tensor;
}

/** x as 4-D: 1-D ops ([N, C, L]) run as [N, C, 1, L]. */
export function as4d(op: string, n: Node, x: Tensor): Tensor {
  if (x.shape.length === 4) return x;
  if (x.shape.length === 3) return view(x as unknown as Value, [x.shape[0], x.shape[1], 1, x.shape[2]]) as unknown as Tensor;
  throw rangeError(op, `node '${n.name}': x must be 3-D [N, C, L] or 4-D [N, C, H, W], got shape [${x.shape.join(', ')}] (only 1-D and 2-D spatial ops are implemented)`);
}

/** The spatial attribute list of a node, widened to 2-D ([1, v] for 1-D ops). */
function spatialPair(n: Node, name: string, rank: number, dflt: number): [number, number] {
  const v = attrInts(n, name);
  if (!v) return [dflt, dflt];
  if (v.length !== rank - 2) throw rangeError(n.op, `node '${n.name}': ${name} has ${v.length} values, needs ${rank - 2} for a ${rank}-D input`);
  return rank === 3 ? [dflt === 0 ? 0 : 1, v[0]] : [v[0], v[1]];
}

/** ONNX pads (or auto_pad) → the conv family's pads ([top, left, bottom, right] or a mode). */
function padsOf(n: Node, rank: number): Conv2dOptions['pads'] {
  const auto = attrStr(n, 'auto_pad', 'NOTSET');
  if (auto === 'SAME_UPPER') return 'same_upper';
  if (auto === 'SAME_LOWER') return 'same_lower';
  if (auto === 'VALID') return 'valid';
  if (auto !== 'NOTSET') throw rangeError(n.op, `node '${n.name}': auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '${auto}'`);
  const p = attrInts(n, 'pads');
  if (!p) return [0, 0, 0, 0];
  const s = rank - 2;
  if (p.length !== 2 * s) throw rangeError(n.op, `node '${n.name}': pads has ${p.length} values, needs ${2 * s} for a ${rank}-D input`);
  return s === 1 ? [0, p[0], 0, p[1]] : [p[0], p[1], p[2], p[3]];
}

export const checkSpatial = (n: Node) => {
  const k = attrInts(n, 'kernel_shape');
  if (k && k.length !== 1 && k.length !== 2) throw rangeError(n.op, `node '${n.name}': only 1-D and 2-D ${n.op} is implemented (kernel_shape [${k.join(', ')}])`);
};

/** Conv options of a node (not including bias/activation). */
export function convOpts(n: Node, rank: number, transposed: boolean): ConvTranspose2dOptions {
  const o: ConvTranspose2dOptions = {
    strides: spatialPair(n, 'strides', rank, 1),
    dilations: spatialPair(n, 'dilations', rank, 1),
    pads: padsOf(n, rank),
    groups: attrInt(n, 'group', 1),
  };
  if (transposed) o.outputPadding = spatialPair(n, 'output_padding', rank, 0);
  return o;
}

/** Weights as 4-D (1-D kernels [M, C, k] → [M, C, 1, k]). */
function w4d(op: string, n: Node, w: Tensor, rank: number): Tensor {
  if (w.shape.length !== rank) throw rangeError(op, `node '${n.name}': W must have the rank of x (${rank}), got shape [${w.shape.join(', ')}]`);
  return rank === 4 ? w : (view(w as unknown as Value, [w.shape[0], w.shape[1], 1, w.shape[2]]) as unknown as Tensor);
}

export function kernelCheck(n: Node, w: Tensor) {
  const k = attrInts(n, 'kernel_shape');
  if (k && k.some((d, i) => d !== w.shape[2 + i])) throw rangeError(n.op, `node '${n.name}': kernel_shape [${k.join(', ')}] disagrees with W's shape [${w.shape.join(', ')}]`);
}

/** The planned output viewed 4-D (or undefined). */
export function out4d(out: Value | undefined, rank: number): Tensor | undefined {
  if (!out) return undefined;
  const t = out as unknown as Tensor;
  return rank === 4 ? t : (view(out, [t.shape[0], t.shape[1], 1, t.shape[2]]) as unknown as Tensor);
}
/** A 4-D result back to the node's rank. */
export function back(y: Tensor, rank: number): Value {
  return (rank === 4 ? y : view(y as unknown as Value, [y.shape[0], y.shape[1], y.shape[3]])) as unknown as Value;
}

// ---------------------------------------------------------------------------------------------------------------
// Conv / ConvTranspose

/** ConvTranspose's pads: explicit, auto_pad, or computed from output_shape (onnxruntime's split of the total). */
function transposePads(n: Node, x: Tensor, w: Tensor, o: ConvTranspose2dOptions): void {
  const os = attrInts(n, 'output_shape');
  if (!os) return;
  const rank = x.shape.length;
  const sp = os.length === rank ? os.slice(2) : os;
  if (sp.length !== 2) throw rangeError('ConvTranspose', `node '${n.name}': output_shape [${os.join(', ')}] must give the ${rank === 4 ? 2 : 1} spatial sizes`);
  const s = o.strides as [number, number], d = o.dilations as [number, number], op = o.outputPadding as [number, number];
  const upper = attrStr(n, 'auto_pad', 'NOTSET') === 'SAME_UPPER';
  const pads = [0, 0, 0, 0];
  for (let i = 0; i < 2; i++) {
    const total = s[i] * (x.shape[2 + i] - 1) + op[i] + (w.shape[2 + i] - 1) * d[i] + 1 - sp[i];
    if (total < 0) throw rangeError('ConvTranspose', `node '${n.name}': output_shape [${os.join(', ')}] is larger than the unpadded output allows`);
    const half = Math.floor(total / 2);
    pads[i] = upper ? half : total - half;
    pads[i + 2] = total - pads[i];
  }
  o.pads = [pads[0], pads[1], pads[2], pads[3]];
}

/** The arguments of a Conv or ConvTranspose node: 4-d views, the weight layout ONNX uses, bias and output. */
function convCall(op: 'Conv' | 'ConvTranspose', n: Node, ins: Ins, outs: (Value | undefined)[]) {
  const x0 = f32(op, n, ins[0], 'X'), w0 = f32(op, n, ins[1], 'W');
  const rank = x0.shape.length;
  const transposed = op === 'ConvTranspose';
  const x = as4d(op, n, x0), w = w4d(op, n, w0, rank);
  kernelCheck(n, w0);
  const opts: ConvTranspose2dOptions = { ...convOpts(n, rank, transposed), weightLayout: transposed ? 'iohw' : 'oihw' };
  if (transposed) transposePads(n, x, w, opts);
  if (ins[2]) opts.bias = f32(op, n, ins[2], 'B');
  const o = out4d(outs[0], rank);
  if (o) opts.out = o;
  return { x, w, opts, rank };
}

function registerConv(
  op: 'Conv' | 'ConvTranspose',
  sync: (x: Tensor, w: Tensor, o: ConvTranspose2dOptions) => Tensor,
  async: (x: Tensor, w: Tensor, o: ConvTranspose2dAsyncOptions) => Promise<Tensor>,
) {
  registerOnnxOp(op, {
    check: checkSpatial,
    run(n, ins, outs) {
      const c = convCall(op, n, ins, outs);
      return [back(named(op, n, () => sync(c.x, c.w, c.opts)), c.rank)];
    },
    async runAsync(n, ins, outs, _ctx, signal) {
      const c = convCall(op, n, ins, outs);
      return [back(await namedAsync(op, n, () => async(c.x, c.w, { ...c.opts, signal })), c.rank)];
    },
  });
}

registerConv('Conv', conv2d, conv2dAsync);
registerConv('ConvTranspose', convTranspose2d, convTranspose2dAsync);

/**
 * The fused conv node of the `conv-fusion` pass: inputs [x, residual?]; `extra.w` is PackedConvWeights (bias
 * inside) or, for depthwise, the raw (folded) weights with `extra.bias`; `extra.opts` the geometry and activation.
 */
export interface FusedConvExtra {
  w: PackedConvWeights | Tensor;
  bias: Tensor | null;
  opts: ConvTranspose2dOptions;
  transposed: boolean;
  /** Spatial rank of the original node (3 = 1-D conv). */
  rank: number;
  /** The absorbed Add/activation nodes with their inputs ('y' = the conv output, 'r' = the residual, or a constant). */
  tail: { node: Node; ins: ('y' | 'r' | Value | null)[] }[];
  /** The model's ai.onnx opset (for the tail nodes). */
  opset: number;
  /**
   * A ConvTranspose whose kernel equals its stride (no pads, dilation or output padding): every input pixel owns a
   * kH×kW block of the output, so it runs as a 1×1 conv to M·kH·kW channels (`w`, activation fused) and a
   * depth-to-space transpose. `wT` keeps the original weights for repacking in the other layout.
   */
  shuffle?: { kh: number; kw: number; m: number; wT: Tensor; bias: Tensor | null; scratch?: Float32Array };
}

/**
 * The 1×1 weights of a depth-to-space ConvTranspose: output channel j = (ky·kW + kx)·M + m for NHWC (so the
 * transpose moves whole M-vectors), j = (m·kH + ky)·kW + kx for NCHW; bias repeated to match.
 */
export function packShuffle(sh: NonNullable<FusedConvExtra['shuffle']>, nhwc: boolean): PackedConvWeights {
  const { kh, kw, m, wT } = sh;
  const C = wT.shape[0], J = m * kh * kw;
  const W = wT.data as Float32Array;
  const w1 = new Float32Array(J * C), b1 = sh.bias ? new Float32Array(J) : null;
  for (let mm = 0; mm < m; mm++)
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++) {
        const j = nhwc ? (ky * kw + kx) * m + mm : (mm * kh + ky) * kw + kx;
        for (let c = 0; c < C; c++) w1[j * C + c] = W[((c * m + mm) * kh + ky) * kw + kx];
        if (b1) b1[j] = (sh.bias!.data as Float32Array)[mm];
      }
  return packConvWeights(new Tensor(w1, [J, C, 1, 1], 'float32', J * C), { weightLayout: 'oihw', bias: b1 ? new Tensor(b1, [J], 'float32', J) : null });
}

/** The 1×1 conv of a depth-to-space ConvTranspose, then the transpose into the real output. */
function shuffleRun(n: Node, e: FusedConvExtra, x: Tensor, opts: ConvTranspose2dOptions, outs: (Value | undefined)[]): { tmp: Tensor; finish: () => Value; copts: Conv2dOptions } {
  const sh = e.shuffle!;
  const nhwc = opts.layout === 'nhwc';
  const [N, H, W] = nhwc ? [x.shape[0], x.shape[1], x.shape[2]] : [x.shape[0], x.shape[2], x.shape[3]];
  const J = sh.m * sh.kh * sh.kw, size = N * H * W * J;
  if (!sh.scratch || sh.scratch.length !== size) sh.scratch = new Float32Array(size);
  const tmp = new Tensor(sh.scratch, nhwc ? [N, H, W, J] : [N, J, H, W], 'float32', size);
  const { activation, clipMin, clipMax, alpha, beta, layout } = opts;
  // The activation (det's sigmoid over M·kH·kW = 4 channels) stays in the conv epilogue, which computes only the
  // valid columns of a tile (measured equal to or faster than a separate pass, CPU time A/B of the whole model).
  const copts: Conv2dOptions = { layout, activation, clipMin, clipMax, alpha, beta, out: tmp };
  const finish = () => {
    const oshape = nhwc ? [N, H * sh.kh, W * sh.kw, sh.m] : [N, sh.m, H * sh.kh, W * sh.kw];
    const o = outOr(outs[0] && e.rank === 4 ? outs[0] : undefined, 'float32', oshape);
    // NHWC [N, H, W, kH, kW, M] → [N, H, kH, W, kW, M]; NCHW [N, M, kH, kW, H, W] → [N, M, H, kH, W, kW].
    const t6 = view(tmp as unknown as Value, nhwc ? [N, H, W, sh.kh, sh.kw, sh.m] : [N, sh.m, sh.kh, sh.kw, H, W]);
    transposeInto(t6, nhwc ? [0, 1, 3, 2, 4, 5] : [0, 1, 4, 2, 5, 3], o);
    return o;
  };
  void n;
  return { tmp, finish, copts };
}

/** The output shape of a fused conv on x (4-D). */
function fusedShape(n: Node, e: FusedConvExtra, x: Tensor): number[] {
  if (e.w instanceof PackedConvWeights) {
    const p = e.w;
    return planGeometry(n.op, x.shape, e.opts, p.inChannels, p.outChannels, p.kernelH, p.kernelW, p.groups, e.transposed).outShape;
  }
  return [];
}

/**
 * A residual that broadcasts instead of matching the conv output (legal ONNX, never seen in exported CNNs): the
 * conv runs alone and the absorbed nodes run after it as they were written.
 */
function unfused(n: Node, e: FusedConvExtra, x: Tensor, r: Value, out: Value | undefined): Value {
  const { strides, dilations, pads, groups, outputPadding, layout, weightLayout } = e.opts;
  const opts: ConvTranspose2dOptions = { strides, dilations, pads, groups, outputPadding, layout, weightLayout };
  if (e.bias) opts.bias = e.bias;
  let y = named('Conv', n, () => (e.transposed ? convTranspose2d(x, e.w, opts) : conv2d(x, e.w, opts))) as unknown as Value;
  if (e.rank === 3) y = back(y as unknown as Tensor, 3);
  e.tail.forEach((t, i) => {
    const ins = t.ins.map((v) => (v === 'y' ? y : v === 'r' ? r : v ?? undefined));
    y = getOnnxOp(t.node.op, t.node.domain)!.run(t.node, ins, i === e.tail.length - 1 && out ? [out] : [], { opset: e.opset })[0];
  });
  return y;
}

function fusedCall(n: Node, ins: Ins, outs: (Value | undefined)[]) {
  const e = n.extra as unknown as FusedConvExtra;
  const x = as4d(n.op, n, f32(n.op, n, ins[0], 'X'));
  const opts: ConvTranspose2dOptions = { ...e.opts };
  if (e.bias) opts.bias = e.bias;
  if (ins[1]) opts.residual = as4d(n.op, n, f32(n.op, n, ins[1], 'residual'));
  const o = out4d(outs[0], e.rank);
  if (o) opts.out = o;
  return { x, e, opts };
}

function dwOptions(e: FusedConvExtra, opts: ConvTranspose2dOptions): DepthwiseConv2dOptions {
  const a = opts.activation;
  let act: DepthwiseConv2dOptions['activation'] = a as DepthwiseConv2dOptions['activation'];
  if (a === 'clip') act = { clip: { min: opts.clipMin ?? -Infinity, max: opts.clipMax ?? Infinity } };
  else if (a === 'leakyRelu') act = { leakyRelu: { alpha: opts.alpha } };
  else if (a === 'hardSigmoid') act = { hardSigmoid: { alpha: opts.alpha, beta: opts.beta } };
  return { layout: opts.layout, weightLayout: 'oihw', strides: opts.strides as [number, number], dilations: opts.dilations as [number, number], pads: opts.pads as DepthwiseConv2dOptions['pads'], bias: e.bias, activation: act, out: opts.out };
}

/**
 * Runs the conv through its checked native call and keeps that call for the planned runner (keepCall: a planned
 * run passes the same views of x, the residual and the output every time, so the per-call checks — a few µs each,
 * which the many small convs of a mobile CNN add up — run once per plan). False where it does not apply.
 */
function keptConv(n: Node, ins: Ins, outs: (Value | undefined)[], e: FusedConvExtra, x: Tensor, opts: ConvTranspose2dOptions): boolean {
  const out = opts.out, o0 = outs[0];
  if (!out || !o0 || e.shuffle) return false;
  let call: () => void;
  if (e.w instanceof PackedConvWeights) {
    const p = planConv('conv2d', x, e.w, opts, e.transposed);
    call = nativeOnly(() => native.conv2d(p.x, p.packed.handle, p.geom, p.out.data, p.bias, p.residual, p.act[0], p.act[1], p.act[2]));
  } else {
    call = dwNativeCall(planDepthwise('depthwiseConv2d', x, e.w, dwOptions(e, opts)));
  }
  call();
  keepCall(n, ins, outs, o0, call);
  return true;
}

registerOnnxOp('FusedConv', {
  run(n, ins, outs) {
    const { x, e, opts } = fusedCall(n, ins, outs);
    if (!monitorHook.on && !(opts.residual && !sameShape(opts.residual.shape, fusedShape(n, e, x))) && named('Conv', n, () => keptConv(n, ins, outs, e, x, opts)))
      return [back(opts.out!, e.rank)];
    if (e.shuffle) {
      const r = shuffleRun(n, e, x, opts, outs);
      named('ConvTranspose', n, () => conv2d(x, e.w, r.copts));
      return [r.finish()];
    }
    if (opts.residual && !sameShape(opts.residual.shape, fusedShape(n, e, x))) return [unfused(n, e, x, ins[1]!, outs[0])];
    const y = named('Conv', n, () => (e.transposed ? convTranspose2d(x, e.w, opts) : conv2d(x, e.w, opts)));
    return [back(y, e.rank)];
  },
  async runAsync(n, ins, outs, _ctx, signal) {
    const { x, e, opts } = fusedCall(n, ins, outs);
    if (e.shuffle) {
      const r = shuffleRun(n, e, x, opts, outs);
      await namedAsync('ConvTranspose', n, () => conv2dAsync(x, e.w, { ...r.copts, signal }));
      return [r.finish()];
    }
    if (opts.residual && !sameShape(opts.residual.shape, fusedShape(n, e, x))) return [unfused(n, e, x, ins[1]!, outs[0])];
    const y = await namedAsync('Conv', n, () => (e.transposed ? convTranspose2dAsync(x, e.w, { ...opts, signal }) : conv2dAsync(x, e.w, { ...opts, signal })));
    return [back(y, e.rank)];
  },
}, 'simdtensor');

// ---------------------------------------------------------------------------------------------------------------
// Per-channel affine: BatchNormalization, and the channel-broadcast Mul/Add fused by the passes

/** y[n, c, …] = x[n, c, …]·scale[c] + shift[c] (+ activation) as a 1×1 depthwise convolution (native, NCHW). */
export function channelAffine(op: string, n: Node, x: Tensor, scale: Float32Array, shift: Float32Array | null, out: Value | undefined): Tensor {
  const a = channelAffineArgs(op, n, x, scale, shift, out);
  if (x.size > 0) depthwiseConv2d(a.x4, a.w, a.opts);
  return a.o;
}

/**
 * channelAffine's arguments: the output (out, or a new tensor) and the 1×1 depthwise convolution that computes it
 * over x seen as [N, C, 1, rest] (callers that keep the checked native call plan it from these).
 */
export function channelAffineArgs(op: string, n: Node, x: Tensor, scale: Float32Array, shift: Float32Array | null, out: Value | undefined) {
  if (x.shape.length < 2) throw rangeError(op, `node '${n.name}': x must have a channel axis (rank >= 2), got shape [${x.shape.join(', ')}]`);
  const c = x.shape[1];
  if (scale.length !== c) throw rangeError(op, `node '${n.name}': x has ${c} channels (x.shape[1]) but the per-channel parameters have ${scale.length}`);
  const rest = numel(x.shape.slice(2));
  const o = outOr(out, 'float32', x.shape) as unknown as Tensor;
  const x4 = new Tensor(x.data as Float32Array, [x.shape[0], c, 1, rest], 'float32', x.size);
  const o4 = new Tensor(o.data as Float32Array, [x.shape[0], c, 1, rest], 'float32', x.size);
  const w = new Tensor(scale, [c, 1, 1, 1], 'float32', c);
  const b = shift ? new Tensor(shift, [c], 'float32', c) : null;
  return { o, x4, w, opts: { bias: b, out: o4 } as DepthwiseConv2dOptions };
}

/** Inference batch norm: per-channel scale = γ/√(var + ε), shift = β − mean·scale (float32, as onnxruntime). */
export function bnScaleShift(n: Node, gamma: Value, beta: Value, mean: Value, variance: Value): { scale: Float32Array; shift: Float32Array } {
  const c = gamma.size;
  for (const [v, name] of [[beta, 'B'], [mean, 'input_mean'], [variance, 'input_var']] as const)
    if (v.size !== c) throw rangeError('BatchNormalization', `node '${n.name}': ${name} has ${v.size} elements, scale has ${c}`);
  const eps = Math.fround(attrFloat(n, 'epsilon', 1e-5));
  const scale = new Float32Array(c), shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = gamma.data[i] / Math.sqrt(Math.fround(variance.data[i] + eps));
    shift[i] = beta.data[i] - mean.data[i] * scale[i];
  }
  return { scale, shift };
}

registerOnnxOp('BatchNormalization', {
  check(n) {
    if (n.outputs.length > 1 && n.outputs.slice(1).some((o) => o)) throw typeError('BatchNormalization', `node '${n.name}': training-mode outputs (running mean/var) are not supported`);
    if (attrInt(n, 'training_mode', 0) !== 0) throw typeError('BatchNormalization', `node '${n.name}': training_mode = 1 is not supported (inference only)`);
    if (attrInt(n, 'spatial', 1) !== 1) throw typeError('BatchNormalization', `node '${n.name}': spatial = 0 is not supported`);
  },
  run(n, ins, outs) {
    const x = f32('BatchNormalization', n, ins[0], 'X');
    const p = ins.slice(1, 5).map((v, i) => f32('BatchNormalization', n, v, ['scale', 'B', 'input_mean', 'input_var'][i]));
    const cached = n.extra?.bn as { scale: Float32Array; shift: Float32Array } | undefined;
    const { scale, shift } = cached ?? bnScaleShift(n, p[0] as never, p[1] as never, p[2] as never, p[3] as never);
    return [channelAffine('BatchNormalization', n, x, scale, shift, outs[0]) as unknown as Value];
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Pooling

function poolOpts(n: Node, rank: number, avg: boolean): Pool2dOptions {
  const k = attrInts(n, 'kernel_shape');
  if (!k) throw rangeError(n.op, `node '${n.name}': kernel_shape is required`);
  if (k.length !== rank - 2) throw rangeError(n.op, `node '${n.name}': kernel_shape [${k.join(', ')}] needs ${rank - 2} values for a ${rank}-D input`);
  const o: Pool2dOptions = {
    kernelSize: rank === 3 ? [1, k[0]] : [k[0], k[1]],
    strides: spatialPair(n, 'strides', rank, 1),
    dilations: spatialPair(n, 'dilations', rank, 1),
    pads: padsOf(n, rank) as Pool2dOptions['pads'],
    ceilMode: attrInt(n, 'ceil_mode', 0) === 1,
  };
  if (n.extra?.nhwc) o.layout = 'nhwc';
  if (avg) o.countIncludePad = attrInt(n, 'count_include_pad', 0) === 1;
  return o;
}

function poolOp(op: string, avg: boolean) {
  const call = (n: Node, ins: Ins, outs: (Value | undefined)[]) => {
    const x0 = f32(op, n, ins[0], 'X');
    const rank = x0.shape.length;
    const x = as4d(op, n, x0);
    const opts = poolOpts(n, rank, avg);
    const o = out4d(outs[0], rank);
    if (o) opts.out = o;
    return { x, opts, rank };
  };
  const def: OpDef = {
    check(n) {
      checkSpatial(n);
      if (n.outputs.length > 1 && n.outputs[1]) throw typeError(op, `node '${n.name}': the Indices output of MaxPool is not supported`);
      if (attrInt(n, 'storage_order', 0) !== 0) throw typeError(op, `node '${n.name}': storage_order = 1 is not supported`);
    },
    run(n, ins, outs) {
      // The planned run pools the same arena views every time, so the checked native call is kept (keepCall;
      // PaddleOCR cls's MaxPool: ~15 µs a call in the checks, 3 µs pooling).
      const o0 = outs[0];
      const c = call(n, ins, outs);
      const y = named(op, n, () => (avg ? avgPool2d : maxPool2d)(c.x, c.opts));
      if (c.rank === 4 && o0 && c.opts.out && c.opts.out.data === o0.data && c.x.size > 0) {
        const p = planPool(op, avg ? 1 : 0, c.x, c.opts);
        const px = p.x.data as Float32Array, po = p.out.data as Float32Array;
        keepCall(n, ins, outs, o0, nativeOnly(() => native.pool2d(px, po, p.params)));
      }
      return [back(y, c.rank)];
    },
    async runAsync(n, ins, outs, _ctx, signal) {
      const c = call(n, ins, outs);
      return [back(await namedAsync(op, n, () => (avg ? avgPool2dAsync : maxPool2dAsync)(c.x, { ...c.opts, signal })), c.rank)];
    },
  };
  registerOnnxOp(op, def);
}
poolOp('MaxPool', false);
poolOp('AveragePool', true);

function globalOp(op: string, avg: boolean) {
  const call = (n: Node, ins: Ins, outs: (Value | undefined)[]) => {
    const x = f32(op, n, ins[0], 'X');
    if (n.extra?.nhwc) {
      const o = outOr(outs[0], 'float32', [x.shape[0], 1, 1, x.shape[3]]);
      return { x4: x, o, o4: o as unknown as Tensor, layout: 'nhwc' as const };
    }
    if (x.shape.length < 3) throw rangeError(op, `node '${n.name}': x must be [N, C, spatial…] (rank >= 3), got shape [${x.shape.join(', ')}]`);
    const x4 = new Tensor(x.data as Float32Array, [x.shape[0], x.shape[1], 1, numel(x.shape.slice(2))], 'float32', x.size);
    const shape = [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)];
    const o = outOr(outs[0], 'float32', shape);
    return { x4, o, o4: new Tensor(o.data as Float32Array, [x.shape[0], x.shape[1], 1, 1], 'float32', o.size), layout: 'nchw' as const };
  };
  registerOnnxOp(op, {
    run(n, ins, outs) {
      // The planned run pools the same arena views every time: the checked native call is kept (keepCall), so a
      // squeeze-excite pool costs one native call.
      const o0 = outs[0];
      const c = call(n, ins, outs);
      named(op, n, () => (avg ? globalAvgPool : globalMaxPool)(c.x4, { out: c.o4, layout: c.layout }));
      if (o0 && c.o === o0 && c.x4.size > 0) {
        const s = c.x4.shape, nhwc = c.layout === 'nhwc';
        const params = Int32Array.of(avg ? 1 : 0, +nhwc, s[0], nhwc ? s[3] : s[1], nhwc ? s[1] * s[2] : s[2] * s[3]);
        const gx = c.x4.data as Float32Array, go = c.o4.data as Float32Array;
        keepCall(n, ins, outs, o0, nativeOnly(() => native.globalPool(gx, go, params)));
      }
      return [c.o];
    },
    async runAsync(n, ins, outs, _ctx, signal) {
      const c = call(n, ins, outs);
      await namedAsync(op, n, () => (avg ? globalAvgPoolAsync : globalMaxPoolAsync)(c.x4, { out: c.o4, layout: c.layout, signal }));
      return [c.o];
    },
  });
}
globalOp('GlobalAveragePool', true);
globalOp('GlobalMaxPool', false);

// ---------------------------------------------------------------------------------------------------------------
// Resize (opset 10: X, scales; 11+: X, roi, scales, sizes)

const COORD_MODES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

function resizeCheck(n: Node, ctx: OpContext) {
  const mode = attrStr(n, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') throw typeError('Resize', `node '${n.name}': mode '${mode}' is not supported (nearest, linear)`);
  if (ctx.opset >= 11) {
    const ct = attrStr(n, 'coordinate_transformation_mode', 'half_pixel');
    if (!COORD_MODES.includes(ct)) throw typeError('Resize', `node '${n.name}': coordinate_transformation_mode '${ct}' is not supported (${COORD_MODES.join(', ')})`);
    const nm = attrStr(n, 'nearest_mode', 'round_prefer_floor');
    if (!NEAREST_MODES.includes(nm)) throw typeError('Resize', `node '${n.name}': nearest_mode '${nm}' is not supported`);
  }
  if (attrInt(n, 'antialias', 0) !== 0) throw typeError('Resize', `node '${n.name}': antialias = 1 is not supported`);
  if (attrInts(n, 'axes')) throw typeError('Resize', `node '${n.name}': the axes attribute is not supported`);
  const kp = attrStr(n, 'keep_aspect_ratio_policy', 'stretch');
  if (kp !== 'stretch') throw typeError('Resize', `node '${n.name}': keep_aspect_ratio_policy '${kp}' is not supported`);
}

function resizeCall(n: Node, ins: Ins, outs: (Value | undefined)[], ctx: OpContext) {
  const x = f32('Resize', n, ins[0], 'X');
  if (x.shape.length !== 4) throw rangeError('Resize', `node '${n.name}': only 4-D NCHW inputs are supported, got shape [${x.shape.join(', ')}]`);
  const scalesV = ctx.opset < 11 ? ins[1] : ins[2];
  const sizesV = ctx.opset < 11 ? undefined : ins[3];
  const mode = attrStr(n, 'mode', 'nearest');
  const opts: ResizeOptions = { mode: mode === 'linear' ? 'bilinear' : 'nearest' };
  if (ctx.opset < 11) {
    // Resize-10 is the legacy Upsample arithmetic: asymmetric coordinates, nearest rounds down.
    opts.coordinateTransformationMode = 'asymmetric';
    opts.nearestMode = 'floor';
  } else {
    opts.coordinateTransformationMode = attrStr(n, 'coordinate_transformation_mode', 'half_pixel') as ResizeOptions['coordinateTransformationMode'];
    opts.nearestMode = attrStr(n, 'nearest_mode', 'round_prefer_floor') as ResizeOptions['nearestMode'];
  }
  if (sizesV && sizesV.size > 0) {
    const s = ints(sizesV);
    if (s.length !== 4) throw rangeError('Resize', `node '${n.name}': sizes must have 4 values, got [${s.join(', ')}]`);
    opts.sizes = s;
  } else if (scalesV && scalesV.size > 0) {
    const s = Array.from(scalesV.data as Float32Array);
    if (s.length !== 4) throw rangeError('Resize', `node '${n.name}': scales must have 4 values, got [${s.join(', ')}]`);
    opts.scales = s;
  } else throw rangeError('Resize', `node '${n.name}': needs non-empty scales or sizes`);
  if (n.extra?.nhwc) {
    // x is NHWC; scales/sizes are given for NCHW.
    opts.layout = 'nhwc';
    const p = (v: readonly number[]) => [v[0], v[2], v[3], v[1]];
    if (opts.sizes) opts.sizes = p(opts.sizes);
    if (opts.scales) opts.scales = p(opts.scales);
  }
  const o = outs[0] as unknown as Tensor | undefined;
  if (o) opts.out = o;
  return { x, opts };
}

registerOnnxOp('Resize', {
  check: resizeCheck,
  shapeInputs: [1, 2, 3],
  opsets: [10, 21],
  run(n, ins, outs, ctx) {
    const c = resizeCall(n, ins, outs, ctx);
    return [named('Resize', n, () => resize(c.x, c.opts)) as unknown as Value];
  },
  async runAsync(n, ins, outs, ctx, signal) {
    const c = resizeCall(n, ins, outs, ctx);
    return [(await namedAsync('Resize', n, () => resizeAsync(c.x, { ...c.opts, signal }))) as unknown as Value];
  },
});

/**
 * The nhwc-layout pass's NCHW↔NHWC Transpose of a 4-D value: a plain copy when one channel or one pixel makes both
 * layouts the same memory (the detector's 1-channel map, global-pool outputs), else the native transpose.
 */
registerOnnxOp('LayoutTranspose', {
  run(n, ins, outs) {
    const x = ins[0]!;
    const perm = attrInts(n, 'perm')!;
    if (x.shape.length !== 4) throw rangeError('LayoutTranspose', `node '${n.name}': expected a 4-D value, got shape [${x.shape.join(', ')}]`);
    const shape = perm.map((p) => x.shape[p]);
    const out = outOr(outs[0], x.dtype, shape);
    const toNchw = perm[1] === 3;
    const c = toNchw ? x.shape[3] : x.shape[1], hw = toNchw ? x.shape[1] * x.shape[2] : x.shape[2] * x.shape[3];
    const X = x.data as Float32Array, O = out.data as Float32Array;
    let call: () => void, rebind: Rebind;
    if (c === 1 || hw === 1) {
      // One memcpy; for 4-byte elements the native strided copy, so the step replays with its neighbours (cls's
      // pooled [1, 1, 1, C] back to NCHW before its classifier Linear).
      const len = Int32Array.of(x.size), unit = Int32Array.of(1);
      call = (x.dtype === 'float32' || x.dtype === 'int32') && x.size > 0 && out.data !== x.data
        ? nativeOnly(() => native.onnxTranspose(X, O, len, unit))
        : () => O.set(X);
      rebind = (d, o) => (o as Float32Array).set(d[0] as Float32Array);
    }
    // float32: each image is one [C, H·W] ↔ [H·W, C] matrix transpose on the in-register tiled kernel (the N-d
    // transpose walks element by element: det's 3×640×640 input took 1.5 ms); other dtypes (uint8) take the N-d one.
    else if (x.dtype === 'float32' && out.dtype === 'float32' && out.data !== x.data && x.size > 0) {
      const dims = toNchw ? Int32Array.of(x.shape[0], hw, c) : Int32Array.of(x.shape[0], c, hw);
      call = nativeOnly(() => native.transposeBatched(X, O, dims));
      rebind = (d, o) => native.transposeBatched(d[0] as Float32Array, o as Float32Array, dims);
    } else {
      transposeInto(x, perm, out);
      return [out];
    }
    call();
    // A planned run: the same arrays every time (attrs, checks and dims once); rebindable, so the model's input
    // layout change (a graph input, a new array every run) takes it too.
    keepCall(n, ins, outs, out, call, rebind);
    return [out];
  },
}, 'simdtensor');

const ONES16 = new Float32Array(16).fill(1);
const UNIT16 = new Tensor(ONES16, [1, 1, 16, 1], 'float32', 16);
/**
 * An elementwise activation on the native kernels: x viewed as 16-channel NHWC pixels through a 1×1 depthwise
 * convolution with unit weights and the fused activation, checked here and returned as the native call (to run now
 * and keep, see keepCall). Null (the caller loops) for sizes that are not a multiple of 16 or too small to be worth
 * a native call.
 */
export function convActivationCall(act: ConvActivation, x: Value, out: Value): (() => void) | null {
  const n = x.size;
  if (n < 256 || n % 16 !== 0) return null;
  const X = new Tensor(x.data as Float32Array, [1, 1, n / 16, 16], 'float32', n);
  const O = new Tensor(out.data as Float32Array, [1, 1, n / 16, 16], 'float32', n);
  return dwNativeCall(planDepthwise('depthwiseConv2d', X, UNIT16, { layout: 'nhwc', weightLayout: 'hwcm', activation: act, out: O }));
}

/**
 * y = x·a + b with scalar a, b (the `scalar-affine-fusion` pass): one native pass (a 1×1 depthwise conv over
 * 16-channel pixels) when the size allows, else a loop. Inputs [x, a, b]; `negate_b` for x·a − b.
 */
registerOnnxOp('ScalarAffine', {
  run(n, ins, outs) {
    const x = f32('ScalarAffine', n, ins[0], 'x');
    const a = Math.fround(ins[1]!.data[0]), b = Math.fround(attrInt(n, 'negate_b', 0) ? -ins[2]!.data[0] : ins[2]!.data[0]);
    const shape = broadcastShape('ScalarAffine', broadcastShape('ScalarAffine', x.shape, ins[1]!.shape), ins[2]!.shape);
    const out = outOr(outs[0], 'float32', shape);
    const len = x.size;
    if (len !== out.size) throw rangeError('ScalarAffine', `node '${n.name}': the scalars broadcast x [${x.shape.join(', ')}] to [${shape.join(', ')}]`);
    // Either form is native only and kept (a and b are constants: the fusion takes constant scalars only), so a
    // planned run replays it with its neighbours.
    let call: () => void;
    if (len >= 256 && len % 16 === 0) {
      const X = new Tensor(x.data as Float32Array, [1, 1, len / 16, 16], 'float32', len);
      const O = new Tensor(out.data as Float32Array, [1, 1, len / 16, 16], 'float32', len);
      const w = new Tensor(new Float32Array(16).fill(a), [1, 1, 16, 1], 'float32', 16), bias = new Tensor(new Float32Array(16).fill(b), [16], 'float32', 16);
      const dw = dwNativeCall(planDepthwise('depthwiseConv2d', X, w, { layout: 'nhwc', weightLayout: 'hwcm', bias, out: O }));
      call = nativeOnly(() => void timedRun('depthwiseConv2d', 'depthwiseConv2d', dw, out)); // the monitor records it as before
    } else {
      // x·a then + b, each rounded to float32 (the unfused Mul and Add), by the scalar form of the row kernels.
      const X = x.data as Float32Array, O = out.data as Float32Array, A1 = Float32Array.of(a), B1 = Float32Array.of(b);
      call = nativeOnly(() => {
        native.binaryRow(2, X, A1, O, len, 1);
        native.binaryRow(0, O, B1, O, len, 1);
      });
    }
    call();
    keepCall(n, ins, outs, out, call);
    return [out];
  },
}, 'simdtensor');

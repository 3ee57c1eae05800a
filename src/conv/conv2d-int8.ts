/**
 * int8 convolution: a {@link QuantizedTensor} input (u8 or s8, per-tensor parameters) × int8 weights quantized per
 * output channel, on the int8 GEMM kernels (AVX2, AVX-VNNI, AVX512-VNNI, AMX, NEON dot). Output: float32
 * (dequantized; bias, residual and every conv activation fused), int8/uint8 (requantized, `output: { dtype, scale, zeroPoint }`) or the
 * exact int32 accumulators (`output: 'int32'`). Plugs into conv2d / conv2dAsync / packConvWeights (convHooks.int8).
 * @module
 */
import { describe, options, rangeError, typeError } from '../errors.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { allocArray } from '../alloc.js';
import { kernelName } from '../cpu.js';
import { monitorHook } from '../ops/registry.js';
import { QuantizedTensor } from '../int8/index.js';
import type { QuantDType } from '../int8/index.js';
import { checkSignal } from '../ops/registry.js';
import { runNativeAsync } from '../executor/submit.js';
import { activationParams, checkVec, convHooks, overlaps, planGeometry, weightDims, weightLayoutOf } from './conv2d.js';
import type { Conv2dAsyncOptions, ConvPackOptions } from './options.js';
import { PackedInt8ConvWeights, type Int8Conv2dOptions } from './int8-weights.js';

export { PackedInt8ConvWeights } from './int8-weights.js';
export type { Int8ConvOutput, Int8Conv2dOptions } from './int8-weights.js';

function packInt8(fn: string, q: QuantizedTensor, opts: ConvPackOptions, layoutHint: 'nchw' | 'nhwc'): PackedInt8ConvWeights {
  if (opts.transposed) throw rangeError(fn, 'int8 weights: transposed convolution is not supported');
  if (opts.groups !== undefined && opts.groups !== 1) throw rangeError(fn, `int8 weights: groups must be 1, got ${describe(opts.groups)}`);
  if (opts.batchNorm) throw rangeError(fn, 'int8 weights: fold the batch norm into the float weights before quantizing (foldBatchNorm)');
  const wl = weightLayoutOf(fn, opts.weightLayout, false, layoutHint);
  const d = weightDims(fn, q.data, wl, 1);
  const outAxis = wl === 'oihw' ? 0 : 3;
  if (q.axis !== null && q.axis !== outAxis)
    throw rangeError(fn, `per-channel int8 weights must have axis ${outAxis} (output channels) for layout '${wl}', got axis ${q.axis}`);
  const { c, m, kh, kw } = d;
  const K = kh * kw * c;
  // Reorder to [M][kh][kw][C] (the conv GEMM's K order, one row per output channel): once, at pack time.
  const src = q.data.data as Int8Array | Uint8Array;
  const dst = new (src.constructor as Int8ArrayConstructor | Uint8ArrayConstructor)(m * K);
  for (let o = 0; o < m; o++)
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let ci = 0; ci < c; ci++)
          dst[o * K + (y * kw + x) * c + ci] = wl === 'oihw' ? src[((o * c + ci) * kh + y) * kw + x] : src[((y * kw + x) * c + ci) * m + o];
  const bias = opts.bias === undefined || opts.bias === null ? null : checkVec(fn, 'bias', opts.bias, m).slice();
  const handle = new native.PackedS8(dst, K, m, true, q.zeroPoint, q.scale);
  return new PackedInt8ConvWeights(handle, q.data.dtype as QuantDType, { c, m, kh, kw, bias }, q.scale);
}

interface Int8Plan {
  x: QuantizedTensor;
  packed: PackedInt8ConvWeights;
  geom: Int32Array;
  out: Tensor;
  outQ: { scale: number; zeroPoint: number } | null;
  bias: Float32Array | null;
  act: [number, number, number];
  residual: Float32Array | null;
  rowZero: Int32Array | null;
  rowScale: Float32Array | null;
}

/** Validates `pixelParams` against the geometry: both arrays, n·h·w values each, a pointwise conv. */
function pixelParams(fn: string, p: unknown, x: QuantizedTensor, layout: string, geom: Int32Array, kh: number, kw: number): [Int32Array | null, Float32Array | null] {
  if (p === undefined || p === null) return [null, null];
  const o = p as { scale?: unknown; zeroPoint?: unknown };
  if (typeof p !== 'object' || !(o.scale instanceof Float32Array) || !(o.zeroPoint instanceof Int32Array))
    throw typeError(fn, `pixelParams must be { scale: Float32Array, zeroPoint: Int32Array }, got ${describe(p)}`);
  const s = x.data.shape, pixels = layout === 'nhwc' ? s[0] * s[1] * s[2] : s[0] * s[2] * s[3];
  if (o.scale.length !== pixels || o.zeroPoint.length !== pixels)
    throw rangeError(fn, `pixelParams need ${pixels} values each (one per input pixel), got scale ${o.scale.length}, zeroPoint ${o.zeroPoint.length}`);
  // geom: [n, h, w, sh, sw, dh, dw, pads t/l/b/r, …] (planGeometry's native block).
  const pointwise = kh === 1 && kw === 1 && geom[3] === 1 && geom[4] === 1 && geom[7] === 0 && geom[8] === 0 && geom[9] === 0 && geom[10] === 0;
  if (!pointwise) throw rangeError(fn, 'pixelParams need a pointwise conv (1×1 kernel, stride 1, no padding)');
  return [o.zeroPoint, o.scale];
}

function planInt8(fn: string, x: unknown, w: unknown, opts: Int8Conv2dOptions): Int8Plan {
  opts = options(fn, opts); // null / undefined mean no options (the API contract)
  if (!(x instanceof QuantizedTensor)) throw typeError(fn, `int8 weights need a QuantizedTensor x (quantize(x) or quantizeDynamic), got ${describe(x)}`);
  if (x.axis !== null) throw rangeError(fn, `a quantized x must have per-tensor parameters, got axis ${x.axis}`);
  if (x.data.ndim !== 4) throw rangeError(fn, `x must be 4-D (${opts.layout ?? 'nchw'}), got shape [${x.data.shape.join(', ')}]`);
  const layout = opts.layout ?? 'nchw';
  let packed: PackedInt8ConvWeights;
  if (w instanceof PackedInt8ConvWeights) packed = w;
  else if (w instanceof QuantizedTensor) packed = packInt8(fn, w, { weightLayout: opts.weightLayout, groups: opts.groups }, layout === 'nhwc' ? 'nhwc' : 'nchw');
  else throw typeError(fn, `a quantized x needs int8 weights (a QuantizedTensor or packConvWeights of one), got ${describe(w)}`);
  if (opts.groups !== undefined && opts.groups !== 1) throw rangeError(fn, `int8 convolution supports groups 1, got ${describe(opts.groups)}`);
  const act = activationParams(fn, opts);
  const g = planGeometry(fn, x.data.shape, opts, packed.inChannels, packed.outChannels, packed.kernelH, packed.kernelW, 1, false);
  const o = opts.output ?? 'float32';
  let dtype: 'float32' | 'int32' | QuantDType;
  let outQ: Int8Plan['outQ'] = null;
  if (o === 'float32' || o === 'int32') dtype = o;
  else if (typeof o === 'object' && o !== null && (o.dtype === 'int8' || o.dtype === 'uint8')) {
    if (typeof o.scale !== 'number' || !(o.scale > 0) || !Number.isFinite(o.scale)) throw rangeError(fn, `output.scale must be a positive finite number, got ${describe(o.scale)}`);
    const z = o.zeroPoint ?? 0;
    const [lo, hi] = o.dtype === 'int8' ? [-128, 127] : [0, 255];
    if (typeof z !== 'number' || !Number.isInteger(z) || z < lo || z > hi) throw rangeError(fn, `output.zeroPoint must be an integer in [${lo}, ${hi}], got ${describe(z)}`);
    dtype = o.dtype;
    outQ = { scale: o.scale, zeroPoint: z };
  } else throw typeError(fn, `output must be 'float32', 'int32' or { dtype: 'int8' | 'uint8', scale, zeroPoint }, got ${describe(o)}`);
  let bias: Float32Array | null = null;
  if (opts.bias !== undefined && opts.bias !== null) {
    if (packed.bias) throw rangeError(fn, 'bias was given, but the packed weights already hold one');
    bias = checkVec(fn, 'bias', opts.bias, packed.outChannels);
  } else bias = packed.bias;
  const hasResidual = opts.residual !== undefined && opts.residual !== null;
  if (dtype === 'int32' && (bias || act[0] || hasResidual)) throw typeError(fn, "bias, activation and residual need a float32 or requantized output, not 'int32'");
  let residual: Float32Array | null = null;
  if (hasResidual) {
    const r = opts.residual as unknown;
    if (!(r instanceof Tensor) || r.dtype !== 'float32')
      throw typeError(fn, `residual must be a float32 tensor (the output's real values; dequantize a quantized skip first), got ${describe(r)}`);
    if (r.size !== g.size || r.shape.some((d, i) => d !== g.outShape[i]))
      throw rangeError(fn, `residual has shape [${r.shape.join(', ')}], needs the output's [${g.outShape.join(', ')}]`);
    residual = r.data as Float32Array;
  }
  let out: Tensor;
  if (opts.out === undefined || opts.out === null) out = new Tensor(allocArray(dtype, g.size) as Float32Array, g.outShape, dtype, g.size);
  else {
    const t = opts.out as unknown;
    if (!(t instanceof Tensor) || t.dtype !== dtype || t.size !== g.size || t.shape.some((d, i) => d !== g.outShape[i]))
      throw rangeError(fn, `out must be a ${dtype} tensor of shape [${g.outShape.join(', ')}], got ${describe(t)}`);
    out = t;
  }
  if (residual && overlaps(out.data, residual)) throw rangeError(fn, 'out must not share memory with residual');
  const [rowZero, rowScale] = pixelParams(fn, opts.pixelParams, x, layout, g.geom, packed.kernelH, packed.kernelW);
  return { x, packed, geom: g.geom, out, outQ, bias, act, residual, rowZero, rowScale };
}

function args(p: Int8Plan): unknown[] {
  const { packed } = p;
  return [p.x.data.data, packed.handle, p.geom, packed.kernelH, packed.kernelW, packed.inChannels, p.x.zeroPoint[0], p.x.scale[0], p.out.data, p.bias, p.act[0], p.outQ?.scale ?? 1, p.outQ?.zeroPoint ?? 0, p.act[1], p.act[2], p.residual, p.rowZero, p.rowScale];
}

function result(p: Int8Plan): Tensor | QuantizedTensor {
  return p.outQ ? new QuantizedTensor(p.out, p.outQ.scale, p.outQ.zeroPoint, null, 'asymmetric') : p.out;
}

type S8Conv = (...a: unknown[]) => string;
type S8ConvAsync = (...a: unknown[]) => Promise<unknown>;

/**
 * @internal The checked native call of one int8 conv, made once and rerun (the ONNX runtime's kept Int8Conv calls):
 * validated as {@link conv2d} validates it, over the storage of `x` and `opts.out`, with x's scale and zero point read
 * from `scale[0]` and `zero[0]` at each call — a dynamic conv requantizes the same input buffer every run with new
 * parameters. A scale or zero point a QuantizedTensor refuses throws its error, as the planning call would.
 */
export function int8ConvCall(fn: string, x: QuantizedTensor, w: PackedInt8ConvWeights, opts: Int8Conv2dOptions, scale: ArrayLike<number>, zero: ArrayLike<number>): () => void {
  const p = planInt8(fn, x, w, opts);
  const a = args(p);
  const s8 = native.s8Conv2d as unknown as S8Conv;
  const [lo, hi] = x.dtype === 'int8' ? [-128, 127] : [0, 255];
  return () => {
    const s = scale[0], z = zero[0];
    if (!(s > 0) || s === Infinity || !Number.isInteger(z) || z < lo || z > hi) void new QuantizedTensor(x.data, s, z, null);
    a[6] = z;
    a[7] = s;
    Reflect.apply(s8, undefined, a);
  };
}

convHooks.int8 = {
  match: (x, w) => x instanceof QuantizedTensor || w instanceof PackedInt8ConvWeights || w instanceof QuantizedTensor,
  run(x, w, opts) {
    const t0 = monitorHook.on ? performance.now() : 0;
    const p = planInt8('conv2d', x, w, opts as Int8Conv2dOptions);
    (native.s8Conv2d as unknown as S8Conv)(...args(p));
    if (monitorHook.on) monitorHook.record('conv2d', kernelName('conv2d.s8'), t0);
    return result(p);
  },
  async runAsync(x, w, opts) {
    const fn = 'conv2dAsync';
    const signal = checkSignal(fn, (opts as Conv2dAsyncOptions)?.signal);
    const p = planInt8(fn, x, w, opts as Int8Conv2dOptions);
    await runNativeAsync(fn, signal, (id) => (native.s8Conv2dAsync as unknown as S8ConvAsync)(...args(p), id), p.out);
    return result(p);
  },
  matchPack: (w) => w instanceof QuantizedTensor,
  pack: (w, opts) => packInt8('packConvWeights', w as QuantizedTensor, opts, 'nchw'),
};

/**
 * Prepacked int8 weights and the int8 GEMM behind `matmul` (integer tensors → exact int32) and `linear` (a
 * QuantizedTensor or its packed handle as the weight: float32 activations are quantized per row on the fly, the
 * result is float32), sync and async; the peak probes of the int8 units.
 *
 * Importing this module registers the int8 paths with the matmul/linear/packWeights registry.
 * @module
 */
import { describe, rangeError, typeError, options } from '../errors.js';
import { native, NativePackedS8 } from '../native.js';
import { NativeGemmWeights } from '../weights.js';
import { allocOrThrow, checkOutputSize, checkOverlap, checkPackDims, checkTensor, Tensor } from '../tensor.js';
import { allocOutput } from '../alloc.js';
import { activationCode, checkOutShape } from '../ops/gemm-args.js';
import { GemmOptions, monitorHook, registerLinear, registerMatmul, registerPack } from '../ops/registry.js';
import { kernelName } from '../cpu.js';
import { AsyncGemmOptions, checkSignal, registerAsyncLinear, registerAsyncMatmul } from '../ops/registry.js';
import { runNativeAsync } from '../executor/submit.js';
import { isQDType, QuantizedTensor, type QuantDType } from './tensor.js';
import { nonFiniteRowsError, quantizeDynamic } from './quantize.js';

/**
 * int8/uint8 weights packed once into the int8 GEMM's panel layout, with their column sums (for the zero-point
 * correction) and their scales. Represents the right operand B [K, N] (for a Linear weight [out, in]: K = in,
 * N = out). Made by `packWeights(q)` for a {@link QuantizedTensor} (or a raw int8/uint8 tensor, scale 1).
 */
export class PackedInt8Weights extends NativeGemmWeights<NativePackedS8> {
  /** Storage type of the weights. */
  readonly dtype: QuantDType;
  /** Scale per output column (length 1 when per tensor). */
  readonly scale: Float32Array;
  /** Zero point per output column (length 1 when per tensor). */
  readonly zeroPoint: Int32Array;
  /** @internal */
  constructor(handle: NativePackedS8, dtype: QuantDType, scale: Float32Array, zeroPoint: Int32Array) {
    super('PackedInt8Weights', 'packInt8Weights()', handle);
    this.dtype = dtype;
    this.scale = scale;
    this.zeroPoint = zeroPoint;
  }
}

/** Options of `packWeights` for int8 weights. */
export interface Int8PackOptions {
  /** 'linear' (default): `w` is [out, in] (PyTorch layout). 'kn': `w` is the [K, N] right operand. */
  layout?: 'linear' | 'kn';
}

/**
 * Packs quantized weights for repeated `linear(x, packed)` calls (usually reached through `packWeights`).
 * Per-channel parameters must run along the output dimension (axis 0 for 'linear', axis 1 for 'kn').
 */
export function packInt8Weights(w: QuantizedTensor | Tensor, opts: Int8PackOptions | null = {}): PackedInt8Weights {
  opts = options('packInt8Weights', opts);
  const fn = 'packWeights';
  const layout = opts.layout ?? 'linear';
  if (layout !== 'linear' && layout !== 'kn') throw typeError(fn, `layout must be 'linear' or 'kn', got ${describe(layout)}`);
  let data: Tensor, scale: Float32Array, zeroPoint: Int32Array;
  if (w instanceof QuantizedTensor) {
    data = w.data;
    const outAxis = layout === 'linear' ? 0 : 1;
    if (w.axis !== null && w.axis !== outAxis)
      throw rangeError(fn, `per-channel weights must have axis ${outAxis} (output features) for layout '${layout}', got axis ${w.axis}`);
    scale = w.scale;
    zeroPoint = w.zeroPoint;
  } else {
    checkTensor(fn, 'w', w);
    if (!isQDType(w.dtype)) throw typeError(fn, `w.dtype must be int8 or uint8 (or pass a QuantizedTensor), got ${w.dtype}`);
    data = w;
    scale = Float32Array.of(1);
    zeroPoint = Int32Array.of(0);
  }
  if (data.ndim !== 2) throw rangeError(fn, `w must be 2-D, got shape [${data.shape.join(', ')}]`);
  const [r, c] = data.shape;
  const trans = layout === 'linear';
  checkPackDims(fn, trans ? c : r, trans ? r : c);
  const handle = new native.PackedS8(data.data as Int8Array | Uint8Array, trans ? c : r, trans ? r : c, trans, zeroPoint, scale);
  return new PackedInt8Weights(handle, data.dtype as QuantDType, scale, zeroPoint);
}

/** int8-specific options of `linear`. */
export interface Int8GemmOptions extends GemmOptions {
  /**
   * Requantize the output instead of returning float32: `q = clamp(roundHalfEven(y / scale) + zeroPoint)` of the
   * (biased, activated) float32 result. `linear` then returns a per-tensor {@link QuantizedTensor}.
   */
  output?: { dtype: QuantDType; scale: number; zeroPoint?: number };
}

function rowsOf(fn: string, arg: string, t: { shape: readonly number[]; size: number; ndim: number }): [number, number] {
  if (t.ndim < 1) throw rangeError(fn, `${arg} must have at least 1 dimension`);
  const k = t.shape[t.ndim - 1];
  const m = k === 0 ? t.shape.slice(0, -1).reduce((a, b) => a * b, 1) : t.size / k;
  return [m, k];
}

function checkBias(fn: string, bias: unknown, n: number): Float32Array | null {
  if (bias === undefined || bias === null) return null;
  checkTensor(fn, 'bias', bias);
  if (bias.dtype !== 'float32') throw typeError(fn, `bias.dtype must be float32, got ${bias.dtype}`);
  if (bias.size !== n) throw rangeError(fn, `bias has ${bias.size} elements ([${bias.shape.join(', ')}]), needs ${n}`);
  return bias.data as Float32Array;
}

type GemmOut = Int32Array | Float32Array | Int8Array | Uint8Array;

/** Validates `out` (dtype, shape, clear of every input the GEMM reads) or allocates the output. */
function outputTensor(fn: string, out: unknown, dtype: 'float32' | 'int32' | QuantDType, shape: number[], inputs: ReadonlyArray<readonly [string, ArrayBufferView | null | undefined]>): Tensor {
  if (out === undefined || out === null) {
    const size = checkOutputSize(fn, 'output', shape);
    return new Tensor(allocOrThrow(fn, shape, dtype === 'int8' || dtype === 'uint8' ? 1 : 4, () => allocOutput(dtype, size)) as GemmOut, shape, dtype, size);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  checkTensor(fn, 'out', out);
  if (out.dtype !== dtype) throw typeError(fn, `out.dtype must be ${dtype}, got ${out.dtype}`);
  checkOutShape(fn, out, shape);
  for (const [arg, data] of inputs) checkOverlap(fn, out.data, arg, data);
  return out;
}

const isIntTensor = (t: unknown): t is Tensor => t instanceof Tensor && isQDType(t.dtype);

/** A validated int8 matmul: what runs, sync or async (the validation is shared, so both refuse alike). */
type Int8MatmulPlan = { a: Tensor; m: number; k: number; out: Tensor } & (
  | { packed: PackedInt8Weights }
  | { packed: null; b: Tensor; n: number; transB: boolean }
);

function planMatmulInt8(fn: string, a: Tensor, b: unknown, opts: GemmOptions): Int8MatmulPlan {
  checkTensor(fn, 'a', a);
  const [m, k] = rowsOf(fn, 'a', a);
  if (opts.bias !== undefined && opts.bias !== null)
    throw typeError(fn, 'bias needs a float output: an int8 × int8 matmul returns the exact int32 product (use linear with a QuantizedTensor weight for dequantized output)');
  if (activationCode(fn, opts.activation) !== 0)
    throw typeError(fn, 'activation needs a float output: an int8 × int8 matmul returns the exact int32 product');
  const shapeFor = (n: number) => (a.ndim <= 2 ? (a.ndim === 1 ? [n] : [m, n]) : [...a.shape.slice(0, -1), n]);
  if (b instanceof PackedInt8Weights) {
    if (b.k !== k) throw rangeError(fn, `a.shape[${a.ndim - 1}] (${k}) must equal the packed weights' K (${b.k})`);
    return { a, m, k, packed: b, out: outputTensor(fn, opts.out, 'int32', shapeFor(b.n), [['a', a.data]]) };
  }
  const bt = b as Tensor;
  checkTensor(fn, 'b', bt);
  if (bt.ndim !== 2) throw rangeError(fn, `b must be 2-D, got shape [${bt.shape.join(', ')}]`);
  const tb = !!opts.transB;
  const bk = tb ? bt.shape[1] : bt.shape[0];
  if (bk !== k) throw rangeError(fn, `a.shape[${a.ndim - 1}] (${k}) must equal b.shape[${tb ? 1 : 0}] (${bk})${tb ? ' (transB)' : ''}`);
  const n = tb ? bt.shape[0] : bt.shape[1];
  return { a, m, k, packed: null, b: bt, n, transB: tb, out: outputTensor(fn, opts.out, 'int32', shapeFor(n), [['a', a.data], ['b', bt.data]]) };
}

function matmulInt8(a: Tensor, b: unknown, opts: GemmOptions): Tensor {
  const p = planMatmulInt8('matmul', a, b, opts);
  const packed = p.packed !== null ? p.packed : packInt8Weights(p.b, { layout: p.transB ? 'linear' : 'kn' });
  const t0 = monitorHook.on ? performance.now() : 0;
  const kernel = native.s8Gemm(p.a.data as Int8Array | Uint8Array, p.m, packed.handle, null, null, p.out.data as GemmOut, null, 0, 1, 0);
  if (monitorHook.on) monitorHook.record('matmul', kernel, t0);
  return p.out;
}

/** The async int8 matmul: one-off weights are packed on the worker, not here. */
async function matmulInt8Async(a: Tensor, b: unknown, opts: AsyncGemmOptions): Promise<Tensor> {
  const fn = 'matmulAsync';
  const signal = checkSignal(fn, opts.signal);
  const p = planMatmulInt8(fn, a, b, opts);
  const ad = p.a.data as Int8Array | Uint8Array;
  const t0 = monitorHook.on ? performance.now() : 0;
  await runNativeAsync(
    fn,
    signal,
    (id) =>
      p.packed !== null
        ? native.s8GemmAsync(ad, p.m, p.packed.handle, null, null, p.out.data as GemmOut, null, 0, 1, 0, id)
        : native.s8MatmulAsync(ad, p.m, p.k, p.b.data as Int8Array | Uint8Array, p.n, p.transB, p.out.data as Int32Array, id),
    p.out,
  );
  if (monitorHook.on) monitorHook.record('matmulAsync', kernelName('matmul.s8'), t0);
  return p.out;
}

/** A validated int8 linear: what runs, sync or async. */
interface Int8LinearPlan {
  packed: PackedInt8Weights;
  m: number;
  b: Float32Array | null;
  act: number;
  out: Tensor;
  outQ: { dtype: QuantDType; scale: number; zeroPoint: number } | null;
  /** A quantized x (its data, parameters), or null for float32 x quantized per row on the fly. */
  xq: QuantizedTensor | null;
  x: Tensor;
}

function planLinearInt8(fn: string, x: Tensor | QuantizedTensor, w: QuantizedTensor | PackedInt8Weights, bias: Tensor | null | undefined, opts: Int8GemmOptions): Int8LinearPlan {
  const packed = w instanceof PackedInt8Weights ? w : packInt8Weights(w, { layout: 'linear' });
  const xs = x instanceof QuantizedTensor ? x.data : x;
  checkTensor(fn, 'x', xs);
  const [m, k] = rowsOf(fn, 'x', xs);
  if (k !== packed.k) throw rangeError(fn, `x.shape[${xs.ndim - 1}] (${k}) must equal the weight's in features (${packed.k})`);
  const n = packed.n;
  const b = checkBias(fn, bias, n);
  const act = activationCode(fn, opts.activation);
  const shape = xs.ndim === 1 ? [n] : [...xs.shape.slice(0, -1), n];
  let outQ: Int8LinearPlan['outQ'] = null;
  if (opts.output !== undefined && opts.output !== null) {
    const o = opts.output;
    if (typeof o !== 'object' || !isQDType(o.dtype)) throw typeError(fn, `output.dtype must be 'int8' or 'uint8', got ${describe((o as { dtype?: unknown })?.dtype)}`);
    if (typeof o.scale !== 'number' || !(o.scale > 0) || !Number.isFinite(o.scale)) throw rangeError(fn, `output.scale must be a positive finite number, got ${describe(o.scale)}`);
    const z = o.zeroPoint ?? 0;
    const [lo, hi] = o.dtype === 'int8' ? [-128, 127] : [0, 255];
    if (typeof z !== 'number' || !Number.isInteger(z) || z < lo || z > hi) throw rangeError(fn, `output.zeroPoint must be an integer in [${lo}, ${hi}], got ${describe(z)}`);
    outQ = { dtype: o.dtype, scale: o.scale, zeroPoint: z };
  }
  const xq = x instanceof QuantizedTensor ? x : null;
  const out = outputTensor(fn, opts.out, outQ ? outQ.dtype : 'float32', shape, [
    ['x', xs.data], ['bias', b], ['x.scale', xq?.scale], ['x.zeroPoint', xq?.zeroPoint],
  ]);
  if (x instanceof QuantizedTensor) {
    if (!(x.axis === null || (x.axis === 0 && x.ndim === 2)))
      throw rangeError(fn, `a quantized x must be per tensor or per row (axis 0 of a 2-D tensor), got axis ${x.axis} of [${x.shape.join(', ')}]`);
  } else if (x.dtype !== 'float32') {
    throw typeError(fn, `x.dtype must be float32 (quantized per row on the fly) or x a QuantizedTensor, got ${x.dtype} (use matmul for raw integer tensors)`);
  }
  return { packed, m, b, act, out, outQ, xq: x instanceof QuantizedTensor ? x : null, x: xs };
}

function linearResult(p: Int8LinearPlan): Tensor | QuantizedTensor {
  return p.outQ ? new QuantizedTensor(p.out, p.outQ.scale, p.outQ.zeroPoint, null, 'asymmetric') : p.out;
}

function linearInt8(x: Tensor | QuantizedTensor, w: QuantizedTensor | PackedInt8Weights, bias: Tensor | null | undefined, opts: Int8GemmOptions): Tensor | QuantizedTensor {
  const p = planLinearInt8('linear', x, w, bias, opts);
  const { packed, m, b, act, out, outQ, xq } = p;
  const t0 = monitorHook.on ? performance.now() : 0;
  let kernel: string;
  if (xq) {
    kernel = native.s8Gemm(xq.data.data, m, packed.handle, xq.zeroPoint, xq.scale, out.data as GemmOut, b, act, outQ?.scale ?? 1, outQ?.zeroPoint ?? 0);
  } else if (outQ) {
    const q = quantizeDynamic(p.x);
    kernel = native.s8Gemm(q.data.data, m, packed.handle, q.zeroPoint, q.scale, out.data as GemmOut, b, act, outQ.scale, outQ.zeroPoint);
  } else {
    kernel = native.s8LinearDynamic(p.x.data as Float32Array, m, packed.handle, out.data as Float32Array, b, act);
  }
  if (monitorHook.on) monitorHook.record('linear', kernel, t0);
  return linearResult(p);
}

/**
 * The async int8 linear: every path of {@link linearInt8} on the pool. float32 activations are quantized per row
 * on the worker too (for a requantized output the row parameters come back in scratch arrays and a row holding
 * NaN/±Infinity rejects with quantizeDynamic's RangeError, as the sync op throws it, leaving `out` untouched).
 */
async function linearInt8Async(x: Tensor | QuantizedTensor, w: QuantizedTensor | PackedInt8Weights, bias: Tensor | null | undefined, opts: Int8GemmOptions & AsyncGemmOptions): Promise<Tensor | QuantizedTensor> {
  const fn = 'linearAsync';
  const signal = checkSignal(fn, opts.signal);
  const p = planLinearInt8(fn, x, w, bias, opts);
  const { packed, m, b, act, out, outQ, xq } = p;
  const h = packed.handle;
  const t0 = monitorHook.on ? performance.now() : 0;
  if (xq) {
    await runNativeAsync(fn, signal, (id) => native.s8GemmAsync(xq.data.data, m, h, xq.zeroPoint, xq.scale, out.data as GemmOut, b, act, outQ?.scale ?? 1, outQ?.zeroPoint ?? 0, id), out);
  } else if (outQ) {
    // quantizeDynamic's default: uint8, asymmetric per row.
    const scale = new Float32Array(m), zeroPoint = new Int32Array(m);
    const xd = p.x.data as Float32Array;
    await runNativeAsync(fn, signal, (id) => native.s8LinearDynamicQAsync(xd, m, h, out.data as Int8Array | Uint8Array, b, act, outQ.scale, outQ.zeroPoint, true, scale, zeroPoint, id), out);
    let bad = 0;
    for (let i = 0; i < m; i++) if (Number.isNaN(scale[i])) bad++; // m row scales, not elements
    if (bad > 0) throw nonFiniteRowsError(scale, bad);
  } else {
    const xd = p.x.data as Float32Array;
    await runNativeAsync(fn, signal, (id) => native.s8LinearDynamicAsync(xd, m, h, out.data as Float32Array, b, act, id), out);
  }
  if (monitorHook.on) monitorHook.record('linearAsync', kernelName('matmul.s8'), t0);
  return linearResult(p);
}

const matchInt8Matmul = (a: unknown, b: unknown) => isIntTensor(a) && (b instanceof PackedInt8Weights || isIntTensor(b));
const matchInt8Linear = (w: unknown) => w instanceof QuantizedTensor || w instanceof PackedInt8Weights;

registerMatmul({
  name: 'int8',
  match: matchInt8Matmul,
  run: (a, b, opts) => matmulInt8(a, b, opts),
});
registerLinear({
  name: 'int8',
  match: matchInt8Linear,
  run: (x, w, bias, opts) => linearInt8(x as Tensor | QuantizedTensor, w as QuantizedTensor | PackedInt8Weights, bias, opts as Int8GemmOptions) as Tensor,
});
registerAsyncMatmul({
  name: 'int8',
  match: matchInt8Matmul,
  run: (a, b, opts) => matmulInt8Async(a, b, opts),
});
registerAsyncLinear({
  name: 'int8',
  match: matchInt8Linear,
  run: (x, w, bias, opts) =>
    linearInt8Async(x as Tensor | QuantizedTensor, w as QuantizedTensor | PackedInt8Weights, bias, opts as Int8GemmOptions & AsyncGemmOptions) as Promise<Tensor>,
});
registerPack({
  name: 'int8',
  match: (w) => w instanceof QuantizedTensor || isIntTensor(w),
  pack: (w, opts) => packInt8Weights(w as QuantizedTensor | Tensor, opts as Int8PackOptions),
});

/** GOP/s of the best allowed int8 dot-product unit (vpdpbusd zmm/ymm, SDOT) over about `ms` ms, or null. */
export function probeVnniPeak(ms = 200): { gops: number; kernel: string } | null {
  return native.probeVnniPeak(ms);
}

/** GOP/s of AMX-INT8 tiles (tdpbusd) over about `ms` ms, or null without AMX or the tile permission. */
export function probeAmxInt8Peak(ms = 200): { gops: number; kernel: string } | null {
  return native.probeAmxInt8Peak(ms);
}

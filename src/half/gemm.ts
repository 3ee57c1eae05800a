/**
 * Half-precision GEMM: `matmul(a, b)` with float16/bfloat16 operands and `linear(x, w)` with float16/bfloat16
 * weights (raw or packed by `packWeights`), sync and async, run the half GEMM kernels: float32 output by default
 * (`outDtype` for half output), with the same fused bias/activation epilogue as float32. float32 activations × half
 * weights keep the activations exact ("weight-only" half precision: half the weight bytes streamed).
 *
 * Importing this module registers these with the matmul/linear/packWeights registry. See docs/half.md.
 * @module
 */
import { describe, ownKey, rangeError, typeError, options } from '../errors.js';
import { native, NativePackedHalf } from '../native.js';
import { NativeGemmWeights } from '../weights.js';
import { allocOrThrow, checkOutputSize, checkOverlap, checkPackDims, checkTensor, Tensor } from '../tensor.js';
import { activationCode, checkOutShape, gemmRows } from '../ops/gemm-args.js';
import { GemmOptions, monitorHook, registerLinear, registerMatmul, registerPack } from '../ops/registry.js';
import { AsyncGemmOptions, checkSignal, registerAsyncLinear, registerAsyncMatmul } from '../ops/registry.js';
import { kernelName } from '../cpu.js';
import { f32Gemm, f32GemmAsync } from '../f32/matmul.js';
import { runNativeAsync } from '../executor/submit.js';
import { cast, isFloat, isHalf, TYPE_CODE, type HalfDType } from './cast.js';
import { allocOutput } from '../alloc.js';

/**
 * f16 or bf16 weights packed once into the half GEMM kernels' panel layout (half the bytes of float32 panels).
 * Represents the right-hand operand B of shape [K, N] (for a Linear weight [out, in]: K = in, N = out). `bytes`
 * grows if the ISA cap changed and a second layout was made.
 */
export class PackedHalfWeights extends NativeGemmWeights<NativePackedHalf> {
  /** 'float16' or 'bfloat16'. */
  readonly dtype: HalfDType;
  /** @internal */
  constructor(handle: NativePackedHalf) {
    super('PackedHalfWeights', 'packHalfWeights()', handle, ['type']);
    this.dtype = handle.type === 1 ? 'float16' : 'bfloat16';
  }
}

/** Options of `packWeights` for half weights. */
export interface HalfPackOptions {
  /** 'linear' (default): `w` is [out, in] (PyTorch layout). 'kn': `w` is the [K, N] right operand. */
  layout?: 'linear' | 'kn';
  /** Pack float32 weights as this half type (they are rounded once, to nearest even). */
  dtype?: HalfDType;
  /**
   * dtype of the activations these weights will meet (default 'float32'). It picks the panel layout packed first
   * (e.g. bf16 activations on AVX512-BF16 want K-pair panels); other inputs still work, re-laying on first use.
   */
  inputDtype?: 'float32' | HalfDType;
}

/**
 * Packs f16/bf16 weights (or float32 weights with `{ dtype: 'float16' | 'bfloat16' }`) for repeated
 * `linear(x, packed)` / `matmul(a, packed)` calls. Usually reached through `packWeights`.
 */
export function packHalfWeights(w: Tensor, opts: HalfPackOptions | null = {}): PackedHalfWeights {
  opts = options('packHalfWeights', opts);
  const fn = 'packWeights';
  checkTensor(fn, 'w', w);
  if (opts.dtype !== undefined && !isHalf(opts.dtype))
    throw typeError(fn, `dtype must be 'float16' or 'bfloat16' for half packing, got ${describe(opts.dtype)}`);
  const want: HalfDType | undefined = opts.dtype ?? (isHalf(w.dtype) ? w.dtype : undefined);
  if (!want) throw typeError(fn, `w.dtype must be float16 or bfloat16 (or pass dtype), got ${w.dtype}`);
  if (!isFloat(w.dtype)) throw typeError(fn, `w.dtype must be float32, float16 or bfloat16, got ${w.dtype}`);
  if (w.ndim !== 2) throw rangeError(fn, `w must be 2-D, got shape [${w.shape.join(', ')}]`);
  const layout = opts.layout ?? 'linear';
  if (layout !== 'linear' && layout !== 'kn') throw typeError(fn, `layout must be 'linear' or 'kn', got ${describe(layout)}`);
  const input = opts.inputDtype ?? 'float32';
  if (!isFloat(input)) throw typeError(fn, `inputDtype must be 'float32', 'float16' or 'bfloat16', got ${describe(input)}`);
  const h = w.dtype === want ? w : cast(w, want);
  const [r, c] = h.shape;
  const trans = layout === 'linear';
  checkPackDims(fn, trans ? c : r, trans ? r : c);
  return new PackedHalfWeights(new native.PackedHalf(h.data as Uint16Array, trans ? c : r, trans ? r : c, trans, TYPE_CODE[want], TYPE_CODE[input]));
}

/** Half-specific options of matmul/linear. */
export interface HalfGemmOptions extends GemmOptions {
  /** Output dtype: 'float32' (default), 'float16' or 'bfloat16' (rounded once from the f32 result). */
  outDtype?: 'float32' | HalfDType;
}

function checkBias(fn: string, bias: unknown, n: number): Float32Array | null {
  if (bias === undefined || bias === null) return null;
  checkTensor(fn, 'bias', bias);
  if (!isFloat(bias.dtype)) throw typeError(fn, `bias.dtype must be float32, float16 or bfloat16, got ${bias.dtype}`);
  if (bias.size !== n) throw rangeError(fn, `bias has ${bias.size} elements ([${bias.shape.join(', ')}]), needs ${n}`);
  return (bias.dtype === 'float32' ? bias : cast(bias, 'float32')).data as Float32Array;
}

/** Validates `out` (dtype, shape, clear of `inputs`) or allocates the output. */
function outFor(fn: string, opts: HalfGemmOptions, a: Tensor, m: number, n: number, inputs: ReadonlyArray<readonly [string, ArrayBufferView | null | undefined]>): Tensor {
  const shape = a.ndim === 2 ? [m, n] : [...a.shape.slice(0, -1), n];
  const out = opts.out;
  if (out === undefined || out === null) {
    const od = opts.outDtype ?? 'float32';
    if (!isFloat(od)) throw typeError(fn, `outDtype must be 'float32', 'float16' or 'bfloat16', got ${describe(od)}`);
    const size = checkOutputSize(fn, 'output', shape);
    return allocOrThrow(fn, shape, od === 'float32' ? 4 : 2, () => new Tensor(allocOutput(od, size) as Float32Array | Uint16Array, shape.slice(), od, size)); // the kernel writes all of it
  }
  checkTensor(fn, 'out', out);
  if (!isFloat(out.dtype)) throw typeError(fn, `out.dtype must be float32, float16 or bfloat16, got ${out.dtype}`);
  if (opts.outDtype !== undefined && opts.outDtype !== out.dtype)
    throw typeError(fn, `outDtype (${describe(opts.outDtype)}) differs from out.dtype (${out.dtype})`);
  checkOutShape(fn, out, shape);
  for (const [arg, data] of inputs) checkOverlap(fn, out.data, arg, data);
  return out;
}

/** The user's bias data (before any cast), for the overlap check. */
const biasData = (bias: unknown): ArrayBufferView | null => (bias instanceof Tensor ? bias.data : null);

/** a as an operand the half kernels take: float32, or half (an integer tensor is widened to float32). */
function operandA(fn: string, a: Tensor): Tensor {
  if (isFloat(a.dtype)) return a;
  throw typeError(fn, `a.dtype must be float32, float16 or bfloat16 with half weights, got ${a.dtype}`);
}

/** A validated half GEMM over packed weights (shared by the sync and async forms). */
function planPacked(fn: string, a: Tensor, w: PackedHalfWeights, opts: HalfGemmOptions) {
  checkTensor(fn, 'a', a);
  a = operandA(fn, a);
  if (a.ndim < 1) throw rangeError(fn, 'a must have at least 1 dimension');
  const k = a.shape[a.ndim - 1];
  if (k !== w.k) throw rangeError(fn, `a.shape[${a.ndim - 1}] (${k}) must equal the packed weights' K (${w.k})`);
  const m = gemmRows(a, k);
  const act = activationCode(fn, opts.activation);
  const bias = checkBias(fn, opts.bias, w.n);
  const out = outFor(fn, opts, a, m, w.n, [[fn.startsWith('linear') ? 'x' : 'a', a.data], ['bias', biasData(opts.bias)]]);
  return { a, m, act, bias, out };
}

function runPacked(fn: string, op: string, a: Tensor, w: PackedHalfWeights, opts: HalfGemmOptions): Tensor {
  const p = planPacked(fn, a, w, opts);
  const t0 = monitorHook.on ? performance.now() : 0;
  const kernel = native.halfMatmulPacked(
    p.a.data as Float32Array | Uint16Array, TYPE_CODE[p.a.dtype], p.m, w.handle, p.out.data as Float32Array | Uint16Array,
    TYPE_CODE[p.out.dtype], p.bias, p.act,
  );
  lastKernel = kernel;
  if (monitorHook.on) monitorHook.record(op, kernel, t0);
  return p.out;
}

/** A validated half GEMM over one-off half weights b (shared by the sync and async forms). */
function planRaw(fn: string, a: Tensor, b: Tensor, transB: boolean, opts: HalfGemmOptions) {
  checkTensor(fn, 'a', a);
  checkTensor(fn, 'b', b);
  if (!isHalf(b.dtype)) throw typeError(fn, `b.dtype must be float16 or bfloat16, got ${b.dtype}`);
  a = operandA(fn, a);
  if (a.ndim < 1) throw rangeError(fn, 'a must have at least 1 dimension');
  if (b.ndim !== 2) throw rangeError(fn, `b must be 2-D, got shape [${b.shape.join(', ')}]`);
  const k = a.shape[a.ndim - 1];
  const bk = transB ? b.shape[1] : b.shape[0];
  const n = transB ? b.shape[0] : b.shape[1];
  if (bk !== k) throw rangeError(fn, `a.shape[${a.ndim - 1}] (${k}) must equal b.shape[${transB ? 1 : 0}] (${bk})${transB ? ' (transB)' : ''}`);
  const m = gemmRows(a, k);
  const act = activationCode(fn, opts.activation);
  const bias = checkBias(fn, opts.bias, n);
  const lin = fn.startsWith('linear');
  const out = outFor(fn, opts, a, m, n, [[lin ? 'x' : 'a', a.data], [lin ? 'w' : 'b', b.data], ['bias', biasData(opts.bias)]]);
  return { a, m, k, n, act, bias, out };
}

function runRaw(fn: string, op: string, a: Tensor, b: Tensor, transB: boolean, opts: HalfGemmOptions): Tensor {
  const p = planRaw(fn, a, b, transB, opts);
  const t0 = monitorHook.on ? performance.now() : 0;
  const kernel = native.halfMatmul(
    p.a.data as Float32Array | Uint16Array, TYPE_CODE[p.a.dtype], p.m, p.k, b.data as Uint16Array, TYPE_CODE[b.dtype], p.n, transB,
    p.out.data as Float32Array | Uint16Array, TYPE_CODE[p.out.dtype], p.bias, p.act,
  );
  lastKernel = kernel;
  if (monitorHook.on) monitorHook.record(op, kernel, t0);
  return p.out;
}

/**
 * The cpuInfo row of the half kernel for b's type and a's type. The async forms report this one (the kernel that
 * ran is chosen on the worker; it differs only when the fp16 range guard picks the f32-accumulating kernel).
 */
function halfKernelRow(bType: HalfDType, aType: string): string {
  const b = bType === 'float16' ? 'f16' : 'bf16';
  return aType === 'float32' ? `linear.${b}w` : `matmul.${b}`;
}

/** The async forms of runPacked / runRaw: the same validation, the same native entry points, on the pool. */
async function runPackedAsync(fn: string, op: string, a: Tensor, w: PackedHalfWeights, opts: HalfGemmOptions & AsyncGemmOptions): Promise<Tensor> {
  const signal = checkSignal(fn, opts.signal);
  const p = planPacked(fn, a, w, opts);
  const t0 = monitorHook.on ? performance.now() : 0;
  const ad = p.a.data as Float32Array | Uint16Array, od = p.out.data as Float32Array | Uint16Array;
  const at = TYPE_CODE[p.a.dtype], ot = TYPE_CODE[p.out.dtype];
  await runNativeAsync(fn, signal, (id) => native.halfMatmulPackedAsync(ad, at, p.m, w.handle, od, ot, p.bias, p.act, id), p.out);
  if (monitorHook.on) monitorHook.record(op, kernelName(halfKernelRow(w.dtype, p.a.dtype)), t0);
  return p.out;
}

async function runRawAsync(fn: string, op: string, a: Tensor, b: Tensor, transB: boolean, opts: HalfGemmOptions & AsyncGemmOptions): Promise<Tensor> {
  const signal = checkSignal(fn, opts.signal);
  const p = planRaw(fn, a, b, transB, opts);
  const t0 = monitorHook.on ? performance.now() : 0;
  const ad = p.a.data as Float32Array | Uint16Array, od = p.out.data as Float32Array | Uint16Array;
  const at = TYPE_CODE[p.a.dtype], bt = TYPE_CODE[b.dtype], ot = TYPE_CODE[p.out.dtype];
  await runNativeAsync(fn, signal, (id) => native.halfMatmulAsync(ad, at, p.m, p.k, b.data as Uint16Array, bt, p.n, transB, od, ot, p.bias, p.act, id), p.out);
  if (monitorHook.on) monitorHook.record(op, kernelName(halfKernelRow(b.dtype as HalfDType, p.a.dtype)), t0);
  return p.out;
}

let lastKernel = '';
/**
 * The kernel the last half-precision matmul/linear on this thread ran (e.g. `bf16_gemm_8x32__avx512bf16`), or ''
 * before the first. It can differ from `cpuInfo().kernels` when the fp16 range guard picked the f32-accumulating
 * kernel for that call.
 */
export function lastHalfKernel(): string {
  return lastKernel;
}

/**
 * Peak of a half-precision unit on this CPU under the ISA cap, GFLOP/s (best window over about `ms` ms):
 * 'fp16fma' (AVX512-FP16 or NEON fp16 FMA), 'bf16dot' (AVX512-BF16 vdpbf16ps), 'amxbf16' (AMX-BF16 tiles).
 * Null when this CPU (or the cap) has no such unit.
 */
export function probeHalfPeak(unit: 'fp16fma' | 'bf16dot' | 'amxbf16', ms = 200): number | null {
  const kinds = { fp16fma: 0, bf16dot: 1, amxbf16: 2 } as const;
  if (!ownKey(kinds, unit)) throw typeError('probeHalfPeak', `unit must be 'fp16fma', 'bf16dot' or 'amxbf16', got ${describe(unit)}`);
  if (typeof ms !== 'number' || !(ms > 0 && ms <= 60000)) throw rangeError('probeHalfPeak', `ms must be in (0, 60000], got ${describe(ms)}`);
  return native.probeHalfPeak(kinds[unit], ms);
}

const isHalfTensor = (t: unknown): t is Tensor => t instanceof Tensor && isHalf(t.dtype);

registerPack({
  name: 'half',
  match: (w, opts) => w instanceof Tensor && (isHalf(w.dtype) || isHalf((opts as HalfPackOptions).dtype)),
  pack: (w, opts) => packHalfWeights(w as Tensor, opts as HalfPackOptions),
});

const matchHalfMatmul = (a: unknown, b: unknown) => b instanceof PackedHalfWeights || isHalfTensor(b) || (isHalfTensor(a) && b instanceof Tensor);
const matchHalfLinear = (w: unknown) => w instanceof PackedHalfWeights || isHalfTensor(w);

/** linear(x, w) with raw half weights [out, in]: the shape checks before the GEMM (sync and async). */
function checkLinearRaw(fn: string, x: Tensor, wt: Tensor): void {
  checkTensor(fn, 'w', wt);
  if (wt.ndim !== 2) throw rangeError(fn, `w must be 2-D [out, in], got shape [${wt.shape.join(', ')}]`);
  checkTensor(fn, 'x', x);
  if (x.shape[x.ndim - 1] !== wt.shape[1])
    throw rangeError(fn, `x.shape[${x.ndim - 1}] (${x.shape[x.ndim - 1]}) must equal w.shape[1] (${wt.shape[1]}) (in features)`);
}

/** The sync or async runners the registrations below share (same checks, same native entry points). */
interface HalfRunners<R> {
  packed(fn: string, op: string, a: Tensor, w: PackedHalfWeights, opts: HalfGemmOptions & AsyncGemmOptions): R;
  raw(fn: string, op: string, a: Tensor, b: Tensor, transB: boolean, opts: HalfGemmOptions & AsyncGemmOptions): R;
  f32(fn: string, a: Tensor, b: unknown, opts: AsyncGemmOptions, aArg: string): R;
}
const SYNC: HalfRunners<Tensor> = { packed: runPacked, raw: runRaw, f32: f32Gemm };
const ASYNC: HalfRunners<Promise<Tensor>> = { packed: runPackedAsync, raw: runRawAsync, f32: f32GemmAsync };

/** matmul with a half operand: packed or raw half b, or half a with float32 b. */
function halfMatmul<R>(fn: string, a: Tensor, b: unknown, opts: GemmOptions, run: HalfRunners<R>): R {
  const o = opts as HalfGemmOptions & AsyncGemmOptions;
  if (b instanceof PackedHalfWeights) return run.packed(fn, fn, a, b, o);
  const bt = b as Tensor;
  if (isHalf(bt.dtype)) return run.raw(fn, fn, a, bt, !!o.transB, o);
  // Half a with float32 b: b is not rounded; a is widened exactly (a native conversion) and the f32 product runs.
  checkTensor(fn, 'a', a);
  return run.f32(fn, cast(a, 'float32'), bt, o, 'a');
}

/** linear with half weights, packed or raw [out, in]. */
function halfLinear<R>(fn: string, x: Tensor, w: unknown, bias: Tensor | null | undefined, opts: GemmOptions, run: HalfRunners<R>): R {
  const o = { ...(opts as HalfGemmOptions & AsyncGemmOptions), bias: bias ?? null };
  if (w instanceof PackedHalfWeights) return run.packed(fn, fn, x, w, o);
  const wt = w as Tensor;
  checkLinearRaw(fn, x, wt);
  return run.raw(fn, fn, x, wt, true, o);
}

registerMatmul({ name: 'half', match: matchHalfMatmul, run: (a, b, opts) => halfMatmul('matmul', a, b, opts, SYNC) });
registerLinear({ name: 'half', match: matchHalfLinear, run: (x, w, bias, opts) => halfLinear('linear', x, w, bias, opts, SYNC) });
registerAsyncMatmul({ name: 'half', match: matchHalfMatmul, run: async (a, b, opts) => halfMatmul('matmulAsync', a, b, opts, ASYNC) });
registerAsyncLinear({ name: 'half', match: matchHalfLinear, run: async (x, w, bias, opts) => halfLinear('linearAsync', x, w, bias, opts, ASYNC) });

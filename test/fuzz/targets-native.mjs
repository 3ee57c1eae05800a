// Argument specs of the raw addon's functions (`native` from src/native.ts), mostly-consistent sizes plus one or
// two mutations: the addon's own re-checks are what stands between a careless caller and a crash.
import { native } from '../../dist/src/native.js';
import { anyValue, arr, badDim, BUFFER_KINDS, CTORS, dim, hostile, isDetached, label, spoil, typed } from './values.mjs';

/**
 * One spec per addon function. Entries: 'T:E' a typed array of type T (f32 i8 u8 i32 u16 f64, 'a|b' picks) with
 * E elements (an expression over the dims; 'x|y' picks; '?' after T makes it nullable); 'size:d' the dim d;
 * 'bool', 'act', 'num', 'int:a..b', 'id', 'ms', 'str:a,b'; handles 'pf32', 'phalf', 'ps8', 'sf32', 'ss8' (built
 * for dims k,n); or a function (R, d, ctx) => value.
 * `dims` lists the dims (drawn small); `async` marks Promise-returning functions.
 */
export const NATIVE_SPECS = {
  cpuInfo: { args: [] },
  setMaxIsa: { args: ['str:scalar,avx2,avxvnni,avx512,avx512vnni,avx512bf16,avx512fp16,amx,neon,bogus,'] },
  getMaxIsa: { args: [] },
  kernelForM: { args: ['str:matmul.f16,linear.bf16w,linear.int8,matmul.f32,bogus,', (R) => R.pick([0, 1, 2, 8, 9, 1 << 20, -1, 1.5, NaN])] },
  PackedF32: { ctor: true, dims: 'k n', args: ['f32:k*n', 'size:k', 'size:n', 'bool'] },
  matmulPacked: { dims: 'm k n', args: ['f32:m*k', 'size:m', 'pf32', 'f32:m*n', 'f32?:n', 'act'], oracle: 'matmulPacked' },
  matmul: { dims: 'm k n', args: ['f32:m*k', 'size:m', 'size:k', 'f32:k*n', 'size:n', 'bool', 'f32:m*n', 'f32?:n', 'act'], oracle: 'matmul' },
  binary: { dims: 'n', args: ['int:0..2', 'f32:n', 'f32:n', 'f32:n', 'size:n'], oracle: 'binary' },
  binaryRow: { dims: 'm n', args: ['int:0..2', 'f32:m*n', 'f32:n', 'f32:m*n', 'size:m', 'size:n'] },
  activation: { dims: 'n', args: ['act', 'f32:n', 'f32:n', 'size:n'] },
  softmax: { dims: 'm n', args: ['bool', 'f32:m*n', 'f32:m*n', 'size:m', 'size:n'] },
  layerNorm: { dims: 'm n', args: ['f32:m*n', 'f32?:n', 'f32?:n', 'num', 'f32:m*n', 'size:m', 'size:n'] },
  probeF32Peak: { args: ['ms'] },
  probeReadBandwidth: { args: [(R) => R.pick([0, 1, 64, 4096, 1 << 16]), 'ms'] },
  allocBuffer: { args: [(R) => R.pick([0, 1, 7, 4096, 1 << 18, (1 << 18) + 1, 1 << 20])] },
  bufferPool: { args: [] },
  setBufferPoolLimit: { args: [(R) => R.pick([0, 1 << 20, 64 << 20, 1 << 30])] },
  trimBufferPool: { args: [] },
  PackedHalf: { ctor: true, dims: 'k n', args: ['u16:k*n', 'size:k', 'size:n', 'bool', 'int:1..2', 'int:0..2'] },
  halfConvert: { dims: 'n', args: ['int:0..3', 'f32|u16:n', 'f32|u16:n', 'size:n'] },
  halfMatmulPacked: { dims: 'm k n', args: ['halfA:m*k', 'atype', 'size:m', 'phalf', 'halfO:m*n', 'otype', 'f32?:n', 'act'] },
  halfMatmul: { dims: 'm k n', args: ['halfA:m*k', 'atype', 'size:m', 'size:k', 'u16:k*n', 'int:1..2', 'size:n', 'bool', 'halfO:m*n', 'otype', 'f32?:n', 'act'] },
  halfMatmulPackedAsync: { async: true, dims: 'm k n', args: ['halfA:m*k', 'atype', 'size:m', 'phalf', 'halfO:m*n', 'otype', 'f32?:n', 'act', 'id'] },
  halfMatmulAsync: { async: true, dims: 'm k n', args: ['halfA:m*k', 'atype', 'size:m', 'size:k', 'u16:k*n', 'int:1..2', 'size:n', 'bool', 'halfO:m*n', 'otype', 'f32?:n', 'act', 'id'] },
  probeHalfPeak: { args: ['int:0..2', 'ms'] },
  setNumThreads: { args: [(R) => R.pick([1, 1, 2, 2, 3, 4, 8])] },
  getNumThreads: { args: [] },
  defaultNumThreads: { args: [] },
  cancelAsync: { args: ['id'] },
  asyncStats: { args: [] },
  threadCpuTimes: { args: [] },
  matmulPackedAsync: { async: true, dims: 'm k n', args: ['f32:m*k', 'size:m', 'pf32', 'f32:m*n', 'f32?:n', 'act', 'id'], oracle: 'matmulPacked' },
  matmulAsync: { async: true, dims: 'm k n', args: ['f32:m*k', 'size:m', 'size:k', 'f32:k*n', 'size:n', 'bool', 'f32:m*n', 'f32?:n', 'act', 'id'], oracle: 'matmul' },
  PackedS8: { ctor: true, dims: 'k n', args: ['i8|u8:k*n', 'size:k', 'size:n', 'bool', 'i32?:1|n', 'f32?:1|n'] },
  s8Gemm: { dims: 'm k n', args: ['i8|u8:m*k', 'size:m', 'ps8', 'i32?:1|m', 'f32?:1|m', 'i32|f32|i8|u8:m*n', 'f32?:n', 'act', 'num', 'int:-128..255'] },
  s8LinearDynamic: { dims: 'm k n', args: ['f32:m*k', 'size:m', 'ps8', 'f32:m*n', 'f32?:n', 'act'] },
  s8GemmAsync: { async: true, dims: 'm k n', args: ['i8|u8:m*k', 'size:m', 'ps8', 'i32?:1|m', 'f32?:1|m', 'i32|f32|i8|u8:m*n', 'f32?:n', 'act', 'num', 'int:-128..255', 'id'] },
  s8MatmulAsync: { async: true, dims: 'm k n', args: ['i8|u8:m*k', 'size:m', 'size:k', 'i8|u8:k*n', 'size:n', 'bool', 'i32:m*n', 'id'] },
  s8LinearDynamicAsync: { async: true, dims: 'm k n', args: ['f32:m*k', 'size:m', 'ps8', 'f32:m*n', 'f32?:n', 'act', 'id'] },
  s8LinearDynamicQAsync: { async: true, dims: 'm k n', args: ['f32:m*k', 'size:m', 'ps8', 'i8|u8:m*n', 'f32?:n', 'act', 'num', 'int:-128..255', 'bool', 'f32:m', 'i32:m', 'id'] },
  quantize: { dims: 'o c i', args: ['f32:o*c*i', 'i8|u8:o*c*i', 'size:o', 'size:c', 'size:i', 'f32:1|c', 'i32:1|c', 'bool'] },
  dequantize: { dims: 'o c i', args: ['i8|u8:o*c*i', 'f32:o*c*i', 'size:o', 'size:c', 'size:i', 'f32:1|c', 'i32:1|c'] },
  quantMinMax: { dims: 'o c i', args: ['f32:o*c*i', 'size:o', 'size:c', 'size:i', 'f32:c', 'f32:c'] },
  quantParams: { dims: 'n', args: ['f32:n', 'f32:n', 'size:n', 'bool', 'bool', 'f32:n', 'i32:n'] },
  quantHistogram: { dims: 'n b', args: ['f32:n', 'size:n', 'num', 'num', 'f64:b'] },
  quantizeRows: { dims: 'm k', args: ['f32:m*k', 'size:m', 'size:k', 'i8|u8:m*k', 'f32:m', 'i32:m'] },
  probeVnniPeak: { args: ['ms'] },
  probeAmxInt8Peak: { args: ['ms'] },
  SparseF32: { ctor: true, dims: 'n k', args: [(R, d, ctx) => sparseParts(R, d, ctx, false), 'size:n', 'size:k', 'sp:rowPtr', 'sp:colIdx', 'sp:values', 'sp:a', 'sp:b', 'sp:indices'] },
  sparseLinear: { dims: 'm k n', args: ['sf32', 'f32:m*k', 'size:m', 'f32:m*n', 'f32?:n', 'act', 'int:0..2'] },
  sparseLinearAsync: { async: true, dims: 'm k n', args: ['sf32', 'f32:m*k', 'size:m', 'f32:m*n', 'f32?:n', 'act', 'int:0..2', 'id'] },
  sparseKernelFor: { dims: 'm k n', args: ['sf32', 'size:m', 'int:0..2'] },
  sparseMaxDensity: { dims: 'm k n', args: ['sf32', 'size:m'] },
  sparseToDense: { dims: 'k n', args: ['sf32', 'f32:n*k'] },
  denseToSparse: { dims: 'n k', args: ['f32:n*k', 'size:n', 'size:k', 'int:0..2', 'int:0..8', 'int:0..8', 'bool'] },
  pruneF32: { dims: 'n k', args: ['f32:n*k', 'size:n', 'size:k', 'int:0..2', (R) => R.pick([0, 0.25, 0.5, 0.9, 1]), 'bool', 'int:0..8', 'int:0..8', 'f32:n*k', 'u8?:n*k'] },
  SparseS8: { ctor: true, dims: 'n k', args: [(R, d, ctx) => sparseParts(R, d, ctx, true), 'size:n', 'size:k', 'sp:rowPtr', 'sp:colIdx', 'sp:values', 'sp:a', 'sp:b', 'sp:indices', 'f32:n'] },
  sparseS8Linear: { dims: 'm k n', args: ['ss8', 'f32:m*k', 'size:m', 'f32:m*n', 'f32?:n', 'act', 'int:0..2'] },
  sparseS8LinearAsync: { async: true, dims: 'm k n', args: ['ss8', 'f32:m*k', 'size:m', 'f32:m*n', 'f32?:n', 'act', 'int:0..2', 'id'] },
  sparseS8KernelFor: { dims: 'm k n', args: ['ss8', 'size:m', 'int:0..2'] },
  sparseS8MaxDensity: { dims: 'm k n', args: ['ss8', 'size:m'] },
  sparseS8ToDense: { dims: 'k n', args: ['ss8', 'i8:n*k'] },
  reluBackward: { dims: 'n', args: ['f32:n', 'f32:n', 'f32:n', 'size:n'] },
  geluBackward: { dims: 'n', args: ['f32:n', 'f32:n', 'f32:n', 'size:n'] },
  softmaxXent: { dims: 'm n', args: ['f32:m*n', 'size:m', 'size:n', 'num', 'labels', 'f32?:m*n', 'num', 'f32?:m*n', 'bool'] },
  layerNormBackward: { dims: 'm n', args: ['f32:m*n', 'f32?:n', 'f32:m*n', 'num', 'f32:m*n', 'f32?:n', 'f32?:n', 'size:m', 'size:n'] },
  sgdStep: { dims: 'n', args: ['f32:n', 'f32:n', 'f32?:n', 'size:n', 'num', 'num', 'num', 'bool', 'f32?:n'] },
  adamwStep: { dims: 'n', args: ['f32:n', 'f32:n', 'f32:n', 'f32:n', 'size:n', 'num', 'num', 'num', 'num', 'num', 'num', 'num', 'f32?:n'] },
  dropout: { dims: 'n', args: ['f32:n', 'size:n', (R) => R.pick([0, 0.1, 0.5, 0.99, 1, -0.5, 2, NaN]), 'int:0..100', 'int:0..100', 'f32:n', 'f32:n'] },
  transpose: { dims: 'm n', args: ['f32:m*n', 'size:m', 'size:n', 'f32:m*n'], oracle: 'transpose' },
  argmaxRows: { dims: 'm n', args: ['f32:m*n', 'size:m', 'size:n', 'i32:m'] },
};

const TYPE = { f32: CTORS.f32, i8: CTORS.i8, u8: CTORS.u8, i32: CTORS.i32, u16: CTORS.u16, f64: CTORS.f64 };

function evalCount(R, expr, d) {
  const alt = expr.split('|');
  const e = R.pick(alt);
  return e.split('*').reduce((p, f) => p * (/^\d+$/.test(f) ? Number(f) : d[f] ?? 1), 1);
}

/** Dense weights [n, k] converted by the addon itself into a sparse format's arrays (ctx.sp). */
function sparseParts(R, d, ctx, s8) {
  const format = R.pick([0, 0, 1, 2]);
  let a = 0;
  let b = 0;
  if (format === 1) {
    a = R.pick([1, 2, 4, 8]);
    b = R.pick([1, 2, 4, 8]);
  } else if (format === 2) {
    b = R.pick([2, 4, 8]);
    a = 1 + R.int(b);
    d.k = b * Math.max(1, Math.round((d.k || 1) / b));
  }
  const w = new Float32Array(d.n * d.k);
  for (let i = 0; i < w.length; i++) w[i] = R.chance(0.5) ? 0 : s8 ? R.int(255) - 127 : R.f() * 2 - 1;
  let parts;
  try {
    parts = native.denseToSparse(w, d.n, d.k, format, a, b, R.chance(0.5));
  } catch {
    parts = { rowPtr: new Int32Array(d.n + 1), colIdx: new Int32Array(0), values: new Float32Array(0), indices: new Uint8Array(0) };
  }
  if (s8) parts = { ...parts, values: Int8Array.from(parts.values, (v) => Math.max(-127, Math.min(127, Math.round(v)))) };
  ctx.sp = { ...parts, a, b, indices: format === 2 ? parts.indices : null, rowPtr: format === 2 ? null : parts.rowPtr, colIdx: format === 2 ? null : parts.colIdx };
  return format;
}

function handle(R, kind, d) {
  const k = d.k ?? 3;
  const n = d.n ?? 3;
  try {
    switch (kind) {
      case 'pf32':
        return label(new native.PackedF32(arr(R, Float32Array, k * n, 0), k, n, R.chance(0.5)), `PackedF32(k=${k},n=${n})`);
      case 'phalf': {
        const t = R.pick([1, 2]);
        return label(new native.PackedHalf(arr(R, Uint16Array, k * n, 0), k, n, R.chance(0.5), t, R.int(3)), `PackedHalf(k=${k},n=${n},t=${t})`);
      }
      case 'ps8': {
        const u = R.chance(0.3);
        return label(new native.PackedS8(arr(R, u ? Uint8Array : Int8Array, k * n, 0), k, n, R.chance(0.5), R.chance(0.5) ? null : new Int32Array(R.chance(0.5) ? 1 : n), R.chance(0.3) ? null : Float32Array.from({ length: R.chance(0.5) ? 1 : n }, () => 0.01 + R.f())), `PackedS8(k=${k},n=${n})`);
      }
      case 'sf32':
      case 'ss8': {
        const s8 = kind === 'ss8';
        const dd = { n, k };
        const ctx = {};
        const format = sparseParts(R, dd, ctx, s8);
        const sp = ctx.sp;
        const h = s8
          ? new native.SparseS8(format, dd.n, dd.k, sp.rowPtr, sp.colIdx, sp.values, sp.a, sp.b, sp.indices, Float32Array.from({ length: dd.n }, () => 0.01 + R.f()))
          : new native.SparseF32(format, dd.n, dd.k, sp.rowPtr, sp.colIdx, sp.values, sp.a, sp.b, sp.indices);
        d.k = dd.k;
        return label(h, `${s8 ? 'SparseS8' : 'SparseF32'}(fmt=${format},n=${dd.n},k=${dd.k})`);
      }
    }
  } catch (e) {
    return label({ k, n, bogus: true }, `{handle build failed: ${String(e.message).slice(0, 60)}}`);
  }
  return null;
}

let nextId = 1;

/** One value for spec entry `s`. */
function value(R, s, d, ctx) {
  if (typeof s === 'function') return s(R, d, ctx);
  const [head, rest] = s.split(/:(.*)/s);
  switch (head) {
    case 'size':
      return d[rest];
    case 'bool':
      return R.chance(0.5);
    case 'act':
      return R.chance(0.95) ? R.int(3) : R.pick([3, -1, 99]);
    case 'num':
      return R.chance(0.9) ? R.pick([1e-5, 0.5, 1, 0.9, 0.999, 1e-3, 0.01]) : R.pick([0, -1, NaN, Infinity, 1e30]);
    case 'int': {
      const [lo, hi] = rest.split('..').map(Number);
      return lo + R.int(hi - lo + 1);
    }
    case 'id':
      return R.chance(0.7) ? 0 : R.chance(0.8) ? (nextId = (nextId % 100000) + 1) : R.pick([1, 2, 2 ** 32 - 1, 2 ** 32, -1, 1.5]);
    case 'ms':
      return R.chance(0.9) ? R.pick([0, 1, 2]) : R.pick([-1, NaN, 0.5]);
    case 'str':
      return R.pick(rest.split(','));
    case 'pf32':
    case 'phalf':
    case 'ps8':
    case 'sf32':
    case 'ss8':
      return handle(R, head, d);
    case 'sp':
      return ctx.sp?.[rest] ?? null;
    case 'labels':
      return R.chance(0.5) ? null : Int32Array.from({ length: d.m }, () => R.int(Math.max(1, d.n)));
    case 'halfA': {
      ctx.atype = R.int(3);
      return arr(R, ctx.atype === 0 ? Float32Array : Uint16Array, evalCount(R, rest, d));
    }
    case 'atype':
      return ctx.atype;
    case 'halfO': {
      ctx.otype = R.int(3);
      return arr(R, ctx.otype === 0 ? Float32Array : Uint16Array, evalCount(R, rest, d));
    }
    case 'otype':
      return ctx.otype;
  }
  // A typed array: 'f32:m*k', 'f32?:n', 'i8|u8:m*k'.
  let types = head;
  let nullable = false;
  if (types.endsWith('?')) {
    nullable = true;
    types = types.slice(0, -1);
  }
  if (nullable && R.chance(0.4)) return null;
  const t = R.pick(types.split('|'));
  return arr(R, TYPE[t], evalCount(R, rest, d), 0.1);
}

/** Mutations of one argument (index i of spec entry s). */
function mutate(R, args, i, spec, d) {
  const s = spec.args[i];
  const what = typeof s === 'string' ? s.split(':')[0] : 'fn';
  const orig = args[i];
  if (what === 'size') {
    args[i] = R.chance(0.6) ? badDim(R) : R.chance(0.5) ? (typeof orig === 'bigint' ? orig + BigInt(1 + R.int(64)) : orig + 1 + R.int(64)) : dim(R);
    return `size ${show1(orig)}→${show1(args[i])}`;
  }
  if (ArrayBuffer.isView(orig)) {
    const choice = R.int(7);
    if (choice === 0) args[i] = typed(R, orig.constructor, Math.max(0, orig.length - 1 - R.int(3)), 'plain');
    else if (choice === 1) args[i] = typed(R, R.pick(Object.values(CTORS)), orig.length, 'plain');
    else if (choice === 2) args[i] = typed(R, orig.constructor, orig.length, R.pick(BUFFER_KINDS));
    else if (choice === 3) args[i] = R.pick([null, undefined, isDetached(orig.buffer) ? [] : Array.from(orig), orig.buffer]);
    else if (choice === 4) {
      // Aliasing: another typed-array argument shares this one's memory (or is this one).
      const others = args.map((a, j) => (j !== i && ArrayBuffer.isView(a) ? j : -1)).filter((j) => j >= 0);
      if (!others.length) return 'noop';
      const j = R.pick(others);
      const src = args[j];
      if (isDetached(src.buffer)) return 'noop'; // a view on a detached buffer cannot be made (the harness's limit)
      args[i] = src.constructor === orig.constructor && R.chance(0.5) ? src : new orig.constructor(src.buffer, 0, Math.min(orig.length, Math.floor(src.buffer.byteLength / orig.BYTES_PER_ELEMENT)));
      return `arg${i} aliases arg${j}`;
    } else if (choice === 5) args[i] = hostile(R);
    else spoil(R, orig);
    return `arg${i} ${show1(orig)}→${show1(args[i])}`;
  }
  if (orig && typeof orig === 'object' && !Array.isArray(orig)) {
    // A handle: another kind of handle, a look-alike object, or junk.
    const kinds = ['pf32', 'phalf', 'ps8', 'sf32', 'ss8'];
    args[i] = R.chance(0.5) ? handle(R, R.pick(kinds), d) : R.pick([{}, { k: d.k, n: d.n }, Object.create(Object.getPrototypeOf(orig)), null, 5]);
    return `handle→${show1(args[i])}`;
  }
  args[i] = anyValue(R);
  return `arg${i}→${show1(args[i])}`;
}

function show1(v) {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${v.length})`;
  if (v && typeof v === 'object') return v.constructor?.name ?? 'object';
  return String(v);
}

/** Builds a raw-addon call: { name, args, invoke, async, check }. */
export function genNativeCall(R, name) {
  const spec = NATIVE_SPECS[name];
  const d = {};
  for (const k of (spec.dims ?? '').split(' ').filter(Boolean)) d[k] = dim(R);
  const ctx = {};
  const args = [];
  for (const s of spec.args) args.push(value(R, s, d, ctx));
  const notes = [];
  if (args.length && R.chance(0.55)) {
    const times = R.chance(0.8) ? 1 : 2;
    for (let t = 0; t < times; t++) notes.push(mutate(R, args, R.int(args.length), spec, d));
  }
  if (R.chance(0.03)) {
    args.length = R.int(args.length);
    notes.push(`truncated to ${args.length} args`);
  }
  const fn = native[name];
  const invoke = () => (spec.ctor ? new fn(...args) : fn(...args));
  let post;
  if (spec.async && R.chance(0.3)) {
    const victims = args.filter((a) => ArrayBuffer.isView(a));
    if (victims.length) {
      const v = R.pick(victims);
      post = () => notes.push(`after call: ${spoil(R, v)} ${show1(v)}`);
    }
  }
  // The JS reference is O(m·k·n): only small problems get a verdict.
  const small = Object.values(d).reduce((p, x) => p * (x || 1), 1) <= 1 << 18;
  const check = !notes.length && spec.oracle && small ? oracle(spec.oracle, args) : undefined;
  return { name: `native.${name}`, args, invoke, async: !!spec.async, post, check, notes, fireAndForget: spec.async && R.chance(0.1) };
}

function oracle(kind, args) {
  // Only for all-plain inputs: the reference must see what the kernel saw.
  if (args.some((a) => ArrayBuffer.isView(a) && (a.buffer instanceof SharedArrayBuffer || a.buffer.resizable || isDetached(a.buffer)))) return undefined;
  // Huge finite inputs overflow float32 partial sums where the double reference does not: no verdict there.
  if (args.some((a) => a instanceof Float32Array && a.some((v) => Math.abs(v) > 1e15 && Number.isFinite(v)))) return undefined;
  const copy = args.map((a) => (ArrayBuffer.isView(a) ? a.slice() : a));
  return () => {
    let want;
    let got;
    if (kind === 'matmul') {
      const [a, m, k, b, n, tb, out, bias, act] = copy;
      if (args.indexOf(args[6]) !== 6 || args[0] === args[6] || args[3] === args[6]) return;
      const r = refGemm(a, m, k, (p, j) => (tb ? b[j * k + p] : b[p * n + j]), n, bias, act);
      void out;
      return compare(r.c, args[6], r.mag);
    } else if (kind === 'binary') {
      const [op, a, b, , n] = copy;
      if (args[1] === args[3] || args[2] === args[3]) return;
      want = new Float64Array(n);
      for (let i = 0; i < n; i++) want[i] = Math.fround(op === 0 ? a[i] + b[i] : op === 1 ? a[i] - b[i] : a[i] * b[i]);
      got = args[3];
    } else if (kind === 'transpose') {
      const [x, r, c] = copy;
      if (args[0] === args[3]) return;
      want = new Float64Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) want[j * r + i] = x[i * c + j];
      got = args[3];
    } else return;
    compare(want, got);
  };
}

/** Reference act(A·B + bias) in double, with Σ|a·b| + |bias| per output (the scale of its rounding error). */
export function refGemm(a, m, k, bAt, n, bias, act) {
  const c = new Float64Array(m * n);
  const mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let g = 0;
      for (let p = 0; p < k; p++) {
        const prod = a[i * k + p] * bAt(p, j);
        s += prod;
        g += Math.abs(prod);
      }
      if (bias) {
        s += bias[j];
        g += Math.abs(bias[j]);
      }
      mag[i * n + j] = g;
      if (act === 1) s = s > 0 || Number.isNaN(s) ? s : 0;
      else if (act === 2) s = 0.5 * s * (1 + erf(s / Math.SQRT2));
      c[i * n + j] = s;
    }
  return { c, mag };
}

function erf(x) {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

/** Throws a 'silently wrong' description when `got` differs from `want` beyond float32 rounding. */
export function compare(want, got, mag = null) {
  if (!got || got.length < want.length) throw new WrongResult(`output has ${got?.length} elements, want ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (!Number.isFinite(w) || Math.abs(w) > 1e30) {
      if (Number.isNaN(w) || Number.isNaN(g) || w === g) continue;
      if (!Number.isFinite(g) && Math.sign(g) === Math.sign(w)) continue;
      if (Math.abs(w) > 1e30) continue; // overflow territory: kernels may round differently
      throw new WrongResult(`[${i}] = ${g}, want ${w}`);
    }
    if (!(Math.abs(g - w) <= 1e-5 + 2e-5 * (mag && Number.isFinite(mag[i]) ? mag[i] : Math.abs(w)))) throw new WrongResult(`[${i}] = ${g}, want ${w}`);
  }
}

/** A result that differs from the reference (never thrown by the library; the child counts it as 'wrong'). */
export class WrongResult extends Error {
  constructor(msg) {
    super(msg);
    this.name = 'WrongResult';
  }
}

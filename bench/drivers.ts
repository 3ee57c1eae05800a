/**
 * The contenders, as a map: simdtensor (best ISA and scalar-capped), onnxruntime-node (CPU EP, models built in
 * code), TensorFlow.js (WASM and CPU backends) and ml-matrix. Each gets the same inputs, prepares them its own
 * best way before timing (packing, constant weights, its preferred layout), and uses the trial's thread count.
 * @module
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { onnxModel, OnnxType, type OnnxGraph, type OnnxNode, type OnnxInitializer } from './onnx.js';
import { halfTable, type Trial, type TrialInputs } from './trials.js';

const require = createRequire(import.meta.url);

/** A prepared contender for one trial: `run` is what gets timed. */
export interface Runner {
  /** One call; its return value is the output (read by {@link Runner.read} for the agreement check). */
  run(): unknown;
  /** True when `run` returns a promise (it is awaited in the timing loop). */
  async: boolean;
  /** The output of a run as row-major numbers (m·n values; for an MLP batch·outputs). */
  read(out: unknown): Promise<ArrayLike<number>> | ArrayLike<number>;
  /** Called before and after each timed sample (e.g. to apply an ISA cap only while this contender runs). */
  enter?(): void;
  exit?(): void;
  /** Kernel or path that ran, when the contender can say. */
  kernel?: string;
  /** Anything the reader should know about how this contender ran the trial. */
  note?: string;
  dispose?(): void | Promise<void>;
}

/** A contender. */
export interface Driver {
  /** Key in {@link drivers} and in results. */
  name: string;
  /** Display name. */
  label: string;
  /** Package version (or simdtensor's ISA). */
  version(): string;
  /** How it was configured (threads, backend, options), for the report. */
  settings: string;
  /** Highest thread count it can use (JS backends: 1); above it the contender is skipped with this reason. */
  maxThreads: number;
  maxThreadsReason?: string;
  /** Plain-JavaScript contenders: skipped where one call takes longer than the run's slow-call budget. */
  slow?: boolean;
  /** Work above which a slow contender is not even prepared (its calls would take seconds). */
  maxFlops?: number;
  maxWeights?: number;
  /** Runs once per process before any prepare (e.g. a backend's initialisation with the thread count). */
  init?(threads: number): Promise<void>;
  /** Whether it can run a trial: true, or the reason it cannot. */
  supports(t: Trial): true | string;
  /** Prepares (untimed) the contender for a trial with these inputs. */
  prepare(t: Trial, inputs: TrialInputs, threads: number): Promise<Runner>;
}

function pkgVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(pkgDir(name), 'package.json'), 'utf8')).version as string;
  } catch {
    return 'not installed';
  }
}

function pkgDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

type Flat = Float32Array | Int8Array | Uint16Array;
const transposed = new WeakMap<Flat, Flat>();

/** [n, k] (Linear layout) → [k, n], in 64×64 blocks (cache-friendly); cached per input array. */
export function transpose<T extends Flat>(w: T, n: number, k: number): T {
  const hit = transposed.get(w);
  if (hit) return hit as T;
  const out = new (w.constructor as new (len: number) => T)(k * n);
  const B = 64;
  for (let j0 = 0; j0 < n; j0 += B)
    for (let p0 = 0; p0 < k; p0 += B) {
      const j1 = Math.min(n, j0 + B);
      const p1 = Math.min(k, p0 + B);
      for (let j = j0; j < j1; j++) for (let p = p0; p < p1; p++) out[p * n + j] = w[j * k + p];
    }
  transposed.set(w, out);
  return out;
}

/** Per-tensor symmetric int8 quantization (scale = max|w| / 127), as ONNX's dynamic-quantization tooling does. */
export function quantizeSymmetric(w: Float32Array): { q: Int8Array; scale: number } {
  let mx = 0;
  for (let i = 0; i < w.length; i++) mx = Math.max(mx, Math.abs(w[i]));
  const scale = mx > 0 ? mx / 127 : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / scale)));
  return { q, scale };
}

// ---------------------------------------------------------------------------------------------------------------
// simdtensor

type St = typeof import('../src/index.js');
type AnyFn = (...args: unknown[]) => unknown;
let stMod: St | null = null;

/** simdtensor, loaded once (after SIMDTENSOR_NUM_THREADS is set for this process). */
export async function simdtensor(): Promise<St> {
  if (!stMod) stMod = await import('../src/index.js');
  return stMod;
}

/** An optional export of simdtensor (a family's API that may not exist in this build). */
function opt(st: St, name: string): AnyFn | undefined {
  const f = (st as unknown as Record<string, unknown>)[name];
  return typeof f === 'function' ? (f as AnyFn) : undefined;
}

/** Sets simdtensor's thread count where the build can (setNumThreads); returns what it reports. */
export async function setSimdtensorThreads(threads: number): Promise<number | null> {
  const st = await simdtensor();
  try {
    const set = opt(st, 'setNumThreads');
    if (set) set(threads);
    const get = opt(st, 'getNumThreads');
    return get ? (get() as number) : set ? threads : null;
  } catch {
    // The TypeScript can be ahead of a stale addon build: SIMDTENSOR_NUM_THREADS (set by run.ts) still applies.
    return null;
  }
}

function tensorOut(y: unknown): ArrayLike<number> {
  const t = y as { data: ArrayLike<number>; dtype: string };
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
    const lut = halfTable(t.dtype);
    return Array.from(t.data as Uint16Array, (h) => lut[h]);
  }
  return t.data;
}

const KERNEL_KEYS: Record<string, RegExp> = {
  int8: /int8|s8|u8|qgemm/i,
  'int8-dynamic': /int8|s8|u8|qgemm/i,
  float16: /(^|[^b])f16|float16/i,
  bfloat16: /bf16|bfloat16/i,
  sparse: /sparse|spmm/i,
};

/** cpuInfo() keys of each dtype's GEMM, best guess first. */
const KERNEL_PREFERRED: Record<string, string[]> = {
  int8: ['matmul.s8', 'matmul.int8'],
  'int8-dynamic': ['linear.int8', 'linear.s8', 'matmul.s8', 'matmul.int8'],
  float16: ['matmul.f16'],
  bfloat16: ['matmul.bf16'],
  sparse: ['linear.sparse.csr'],
};

/**
 * The kernel cpuInfo() names for a trial's dtype: a known key, else the first matching one (sparse keys only for
 * sparse). With `m` and a build that has kernelForM, the kernel the library's driver runs for m rows (the small-M
 * kernel or the GEMM, by the driver's own rule, AMX cap included), so a label never guesses the M rule.
 */
export function kernelFor(kernels: Record<string, string>, dtype: Trial['dtype'], m?: number, st?: St): string | undefined {
  const re = KERNEL_KEYS[dtype];
  let key: string | undefined = re ? undefined : 'matmul.f32';
  for (const k of re ? KERNEL_PREFERRED[dtype] ?? [] : []) if (!key && kernels[k]) key = k;
  key ??= Object.keys(kernels).find((k) => re!.test(k) && (dtype === 'sparse') === /sparse|spmm/i.test(k));
  if (!key) return undefined;
  const forM = m !== undefined && st ? opt(st, 'kernelForM') : undefined;
  return forM ? (forM(key, m) as string) : kernels[key];
}

const availability = new Map<string, true | string>();

/** Runs a tiny call of a family's API once; true if it works, else why not. */
function tryTiny(key: string, fn: () => unknown): true | string {
  let v = availability.get(key);
  if (v === undefined) {
    try {
      fn();
      v = true;
    } catch (e) {
      v = `this simdtensor build has no ${key} GEMM (${String((e as Error)?.message ?? e).split('\n')[0].slice(0, 120)})`;
    }
    availability.set(key, v);
  }
  return v;
}

/**
 * Whether this simdtensor build has the API a trial needs (true, or why not), found by a tiny call through the
 * public API. Synchronous: call after {@link simdtensor} has loaded the library.
 */
export function familyAvailable(t: Trial): true | string {
  if (t.setup) return true;
  const st = stMod;
  if (!st) return 'simdtensor not loaded';
  const { tensor, linear, packWeights } = st;
  switch (t.dtype) {
    case 'int8':
      return tryTiny('int8', () => st.matmul(tensor(new Uint8Array(6), [2, 3]), packWeights(tensor(new Int8Array(12), [4, 3]))));
    case 'int8-dynamic': {
      const quantize = opt(st, 'quantize');
      if (!quantize) return 'this simdtensor build has no int8 GEMM (no quantize())';
      return tryTiny('dynamic int8', () => linear(tensor(new Float32Array(6), [2, 3]), packWeights(quantize(tensor(new Float32Array(12).fill(0.5), [4, 3])) as never)));
    }
    case 'float16':
    case 'bfloat16': {
      const dt = t.dtype;
      return tryTiny(dt, () => linear(tensor(new Uint16Array(6), [2, 3], dt), packWeights(tensor(new Uint16Array(12), [4, 3], dt))));
    }
    case 'sparse':
      if (!opt(st, 'toSparse')) return 'this simdtensor build has no sparse GEMM (no toSparse())';
      return tryTiny('sparse', () => linear(tensor(new Float32Array(6), [2, 3]), sparseWeights(st, tensor(new Float32Array(12).fill(1), [4, 3])) as never));
    default:
      return true;
  }
}

/** Sparse weights through the public API: toSparse (CSR, the default format) of the pruned weight, packed once. */
function sparseWeights(st: St, w: import('../src/index.js').Tensor): unknown {
  const toSparse = opt(st, 'toSparse');
  if (!toSparse) throw new Skip('this simdtensor build has no toSparse()');
  return st.packWeights(toSparse(w) as never);
}

/** How simdtensor runs each kind of trial, through its public API only. */
async function prepareSimdtensor(t: Trial, inp: TrialInputs): Promise<Runner> {
  const st = await simdtensor();
  const { tensor, linear, matmul, packWeights, add } = st;
  const read = tensorOut;
  const kernels = st.cpuInfo().kernels;
  if (t.setup) {
    const fn = await t.setup(inp, t);
    const r: Runner = { run: fn, async: false, read };
    const last = t.dtype === 'sparse' ? opt(st, 'lastSparseKernel') : undefined;
    // Sparse setups pick their kernel per call (format, small M): report the one the last call ran.
    Object.defineProperty(r, 'kernel', { get: () => (last ? (last() as string) : '') || kernelFor(kernels, t.dtype), enumerable: true });
    return r;
  }
  if (t.op === 'add') {
    const a = tensor(inp.a, [t.m * t.k]);
    const b = tensor(inp.w, [t.n * t.k]);
    return { run: () => add(a, b), async: false, read, kernel: kernels.add };
  }
  if (t.op === 'mlp') {
    const mlp = inp.mlp!;
    const layers = t.layers!;
    const x = tensor(inp.a, [t.m, layers[0]]);
    const bs = mlp.b.map((b) => tensor(b, [b.length]));
    let ws: unknown[];
    if (t.dtype === 'int8-dynamic') {
      const quantize = opt(st, 'quantize');
      if (!quantize) throw new Skip('simdtensor has no quantize() in this build (int8 family absent)');
      // Quantized once (the library's default scheme), then packed like any weight.
      ws = mlp.w.map((w, i) => packWeights(quantize(tensor(w, [layers[i + 1], layers[i]])) as never));
    } else {
      ws = mlp.w.map((w, i) => packWeights(tensor(w, [layers[i + 1], layers[i]])));
    }
    const last = ws.length - 1;
    return {
      run: () => {
        let h = x;
        for (let i = 0; i < last; i++) h = linear(h, ws[i] as never, bs[i], { activation: 'relu' });
        return linear(h, ws[last] as never, bs[last]);
      },
      async: false,
      read,
      kernel: kernelFor(kernels, t.dtype === 'int8-dynamic' ? 'int8-dynamic' : 'float32', t.m, st),
    };
  }
  // GEMM
  const wT = tensor(inp.w, [t.n, t.k]);
  const x = tensor(inp.a, [t.m, t.k]);
  switch (t.dtype) {
    case 'float32': {
      if (t.family === 'overhead') {
        const b = tensor(transpose(inp.w, t.n, t.k), [t.k, t.n]);
        return { run: () => matmul(x, b), async: false, read, kernel: kernels['matmul.f32'] };
      }
      const p = packWeights(wT);
      return { run: () => linear(x, p), async: false, read, kernel: kernels['matmul.f32'] };
    }
    case 'int8': {
      // u8 activations × s8 weights → exact int32, the MatMulInteger contract: matmul of integer tensors, with the
      // int8 weight [N, K] packed once.
      const a = tensor(inp.aU8!, [t.m, t.k]);
      const w = packWeights(tensor(inp.wS8!, [t.n, t.k]));
      return { run: () => matmul(a, w), async: false, read, kernel: kernelFor(kernels, t.dtype, t.m, st) };
    }
    case 'int8-dynamic': {
      const quantize = opt(st, 'quantize');
      if (!quantize) throw new Skip('simdtensor has no quantize() in this build (int8 family absent)');
      const q = packWeights(quantize(wT) as never);
      return { run: () => linear(x, q), async: false, read, kernel: kernelFor(kernels, t.dtype, t.m, st) };
    }
    case 'float16':
    case 'bfloat16': {
      const xh = tensor(inp.aHalf!, [t.m, t.k], t.dtype);
      const wh = packWeights(tensor(inp.wHalf!, [t.n, t.k], t.dtype));
      return { run: () => linear(xh, wh), async: false, read, kernel: kernelFor(kernels, t.dtype, t.m, st) };
    }
    case 'sparse': {
      const sp = sparseWeights(st, wT);
      const last = opt(st, 'lastSparseKernel');
      const r: Runner = { run: () => linear(x, sp as never), async: false, read };
      // The sparse path picks its kernel per call (small-M row kernel, M-vectorized kernel or dense fallback).
      Object.defineProperty(r, 'kernel', { get: () => (last ? (last() as string) : kernelFor(kernels, t.dtype)) || kernelFor(kernels, t.dtype), enumerable: true });
      return r;
    }
  }
  throw new Skip(`no simdtensor path for ${t.dtype}`);
}

/** Thrown by prepare when a contender cannot run a trial (recorded as a skip with the reason, not an error). */
export class Skip extends Error {}

const stDriver: Driver = {
  name: 'simdtensor',
  label: 'simdtensor',
  version: () => pkgVersionRoot(),
  settings: 'best ISA the CPU runs; prepacked weights; SIMDTENSOR_NUM_THREADS / setNumThreads = trial threads',
  maxThreads: 64,
  supports: (t) => familyAvailable(t),
  prepare: (t, inp) => prepareSimdtensor(t, inp),
};

let bestIsa: string | null = null;

const stScalarDriver: Driver = {
  name: 'simdtensor-scalar',
  label: 'simdtensor (scalar cap)',
  version: () => pkgVersionRoot(),
  settings: "setMaxIsa('scalar') while it runs: the same code paths without SIMD (a baseline, not a product)",
  maxThreads: 1,
  maxThreadsReason: 'a baseline: run at one thread only',
  // Scalar kernels at 1024³ can take a second a call: bounded like the plain-JS contenders.
  slow: true,
  supports: (t) => (t.family === 'overhead' ? 'the ISA cap does not change per-call overhead' : familyAvailable(t)),
  async prepare(t, inp) {
    const st = await simdtensor();
    bestIsa ??= st.getMaxIsa();
    st.setMaxIsa('scalar');
    try {
      const r = await prepareSimdtensor(t, inp);
      if (!Object.getOwnPropertyDescriptor(r, 'kernel')?.get)
        r.kernel = kernelFor(st.cpuInfo().kernels, t.op === 'mlp' ? (t.dtype === 'float32' ? 'float32' : 'int8') : t.dtype, t.m, st) ?? r.kernel;
      r.enter = () => void st.setMaxIsa('scalar');
      r.exit = () => void st.setMaxIsa(bestIsa as never);
      return r;
    } finally {
      st.setMaxIsa(bestIsa as never);
    }
  },
};

function pkgVersionRoot(): string {
  // Walk up from this file (bench/ in sources, dist/bench/ when built) to simdtensor's package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pj.name === 'simdtensor') return pj.version as string;
    } catch {
      /* keep looking */
    }
  }
  return 'dev';
}

// ---------------------------------------------------------------------------------------------------------------
// onnxruntime-node

type Ort = typeof import('onnxruntime-node');
let ortMod: Ort | null = null;
async function ort(): Promise<Ort> {
  ortMod ??= await import('onnxruntime-node');
  return ortMod;
}

function f32Init(name: string, dims: number[], data: ArrayBufferView): OnnxInitializer {
  return { name, type: OnnxType.FLOAT, dims, data };
}

/** The ONNX model and feeds for a trial (what onnxruntime-node runs), or the reason there is none. */
export function ortGraph(t: Trial, inp: TrialInputs): { graph: OnnxGraph; feeds: Record<string, { type: string; data: ArrayBufferView; dims: number[] }>; out: string; note?: string } | string {
  const { m, k, n } = t;
  if (t.op === 'add') {
    return {
      graph: { nodes: [{ op: 'Add', inputs: ['A', 'B'], outputs: ['Y'] }], inputs: [{ name: 'A', type: OnnxType.FLOAT, dims: [m * k] }, { name: 'B', type: OnnxType.FLOAT, dims: [n * k] }], outputs: [{ name: 'Y', type: OnnxType.FLOAT, dims: [m * k] }], initializers: [] },
      feeds: { A: { type: 'float32', data: inp.a, dims: [m * k] }, B: { type: 'float32', data: inp.w, dims: [n * k] } },
      out: 'Y',
    };
  }
  if (t.op === 'mlp') {
    const layers = t.layers!;
    const mlp = inp.mlp!;
    const nodes: OnnxNode[] = [];
    const inits: OnnxInitializer[] = [];
    let h = 'X';
    for (let i = 0; i + 1 < layers.length; i++) {
      const [fin, fout] = [layers[i], layers[i + 1]];
      const wkn = transpose(mlp.w[i], fout, fin);
      inits.push(f32Init(`b${i}`, [fout], mlp.b[i]));
      if (t.dtype === 'int8-dynamic') {
        // What onnxruntime's quantize_dynamic emits: DynamicQuantizeLinear → MatMulInteger → Cast → Mul(scales);
        // ORT's optimizer fuses this into its DynamicQuantizeMatMul kernel.
        const { q, scale } = quantizeSymmetric(wkn);
        inits.push({ name: `w${i}`, type: OnnxType.INT8, dims: [fin, fout], data: q });
        inits.push({ name: `wzp${i}`, type: OnnxType.INT8, dims: [], data: new Int8Array(1) });
        inits.push(f32Init(`ws${i}`, [], new Float32Array([scale])));
        nodes.push({ op: 'DynamicQuantizeLinear', inputs: [h], outputs: [`xq${i}`, `xs${i}`, `xzp${i}`] });
        nodes.push({ op: 'MatMulInteger', inputs: [`xq${i}`, `w${i}`, `xzp${i}`, `wzp${i}`], outputs: [`acc${i}`] });
        nodes.push({ op: 'Cast', inputs: [`acc${i}`], outputs: [`accf${i}`], attrs: { to: OnnxType.FLOAT } });
        nodes.push({ op: 'Mul', inputs: [`xs${i}`, `ws${i}`], outputs: [`s${i}`] });
        nodes.push({ op: 'Mul', inputs: [`accf${i}`, `s${i}`], outputs: [`mm${i}`] });
      } else {
        inits.push(f32Init(`w${i}`, [fin, fout], wkn));
        nodes.push({ op: 'MatMul', inputs: [h, `w${i}`], outputs: [`mm${i}`] });
      }
      const last = i + 2 === layers.length;
      nodes.push({ op: 'Add', inputs: [`mm${i}`, `b${i}`], outputs: [last ? 'Y' : `z${i}`] });
      if (!last) nodes.push({ op: 'Relu', inputs: [`z${i}`], outputs: [`h${i}`] });
      h = `h${i}`;
    }
    return {
      graph: { nodes, inputs: [{ name: 'X', type: OnnxType.FLOAT, dims: [m, layers[0]] }], outputs: [{ name: 'Y', type: OnnxType.FLOAT, dims: [m, layers[layers.length - 1]] }], initializers: inits },
      feeds: { X: { type: 'float32', data: inp.a, dims: [m, layers[0]] } },
      out: 'Y',
      note: t.dtype === 'int8-dynamic' ? 'per-tensor symmetric int8 weights; DynamicQuantizeLinear + MatMulInteger (fused by ORT)' : undefined,
    };
  }
  // GEMM: A is a graph input, B a constant initializer in [K, N] (ORT prepacks constant B at session creation).
  const io = (type: number) => ({
    inputs: [{ name: 'A', type: type as never, dims: [m, k] }],
  });
  switch (t.dtype) {
    case 'float32':
    case 'sparse':
      return {
        graph: { nodes: [{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }], ...io(OnnxType.FLOAT), outputs: [{ name: 'Y', type: OnnxType.FLOAT, dims: [m, n] }], initializers: [f32Init('B', [k, n], transpose(inp.w, n, k))] },
        feeds: { A: { type: 'float32', data: inp.a, dims: [m, k] } },
        out: 'Y',
        note: t.dtype === 'sparse' ? 'dense MatMul on the same (mostly zero) weights: ORT CPU has no sparse MatMul' : undefined,
      };
    case 'bfloat16':
      // ORT's CPU provider has no bf16 MatMul ("Could not find an implementation for MatMul(13)"): what a user
      // runs instead is the f32 MatMul on the same (bf16-representable) values.
      return {
        graph: { nodes: [{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }], ...io(OnnxType.FLOAT), outputs: [{ name: 'Y', type: OnnxType.FLOAT, dims: [m, n] }], initializers: [f32Init('B', [k, n], transpose(inp.w, n, k))] },
        feeds: { A: { type: 'float32', data: inp.a, dims: [m, k] } },
        out: 'Y',
        note: 'no bf16 MatMul in the CPU provider: f32 MatMul on the same bf16-representable values',
      };
    case 'float16': {
      const ty = OnnxType.FLOAT16;
      return {
        graph: { nodes: [{ op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }], ...io(ty), outputs: [{ name: 'Y', type: ty, dims: [m, n] }], initializers: [{ name: 'B', type: ty, dims: [k, n], data: transpose(inp.wHalf!, n, k) }] },
        feeds: { A: { type: t.dtype, data: inp.aHalf!, dims: [m, k] } },
        out: 'Y',
      };
    }
    case 'int8':
      return {
        graph: { nodes: [{ op: 'MatMulInteger', inputs: ['A', 'B'], outputs: ['Y'] }], ...io(OnnxType.UINT8), outputs: [{ name: 'Y', type: OnnxType.INT32, dims: [m, n] }], initializers: [{ name: 'B', type: OnnxType.INT8, dims: [k, n], data: transpose(inp.wS8!, n, k) }] },
        feeds: { A: { type: 'uint8', data: inp.aU8!, dims: [m, k] } },
        out: 'Y',
        note: 'MatMulInteger u8×s8 → int32, constant B',
      };
    case 'int8-dynamic': {
      const { q, scale } = quantizeSymmetric(transpose(inp.w, n, k));
      return {
        graph: {
          nodes: [
            { op: 'DynamicQuantizeLinear', inputs: ['A'], outputs: ['Aq', 'As', 'Azp'] },
            { op: 'MatMulInteger', inputs: ['Aq', 'B', 'Azp', 'Bzp'], outputs: ['acc'] },
            { op: 'Cast', inputs: ['acc'], outputs: ['accf'], attrs: { to: OnnxType.FLOAT } },
            { op: 'Mul', inputs: ['As', 'Bs'], outputs: ['s'] },
            { op: 'Mul', inputs: ['accf', 's'], outputs: ['Y'] },
          ],
          ...io(OnnxType.FLOAT),
          outputs: [{ name: 'Y', type: OnnxType.FLOAT, dims: [m, n] }],
          initializers: [{ name: 'B', type: OnnxType.INT8, dims: [k, n], data: q }, { name: 'Bzp', type: OnnxType.INT8, dims: [], data: new Int8Array(1) }, f32Init('Bs', [], new Float32Array([scale]))],
        },
        feeds: { A: { type: 'float32', data: inp.a, dims: [m, k] } },
        out: 'Y',
        note: 'DynamicQuantizeLinear + MatMulInteger (per-tensor symmetric int8 weights; fused by ORT)',
      };
    }
  }
}

const ortDriver: Driver = {
  name: 'onnxruntime-node',
  label: 'onnxruntime-node',
  version: () => pkgVersion('onnxruntime-node'),
  settings: "CPU execution provider; intraOpNumThreads = trial threads, interOpNumThreads 1; graphOptimizationLevel 'all'; models built in code with constant weights",
  maxThreads: 64,
  supports: () => true,
  async prepare(t, inp, threads) {
    const g = ortGraph(t, inp);
    if (typeof g === 'string') throw new Skip(g);
    const o = await ort();
    let session: import('onnxruntime-node').InferenceSession;
    try {
      session = await o.InferenceSession.create(onnxModel(g.graph), {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (e) {
      throw new Skip(`session creation failed: ${firstLine(e)}`);
    }
    const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const [name, f] of Object.entries(g.feeds)) feeds[name] = new o.Tensor(f.type as never, f.data as never, f.dims);
    const out = g.out;
    const ty = t.dtype;
    return {
      run: () => session.run(feeds),
      async: true,
      read: async (r: unknown) => {
        const res = (await r) as Record<string, import('onnxruntime-node').Tensor>;
        const d = res[out].data as ArrayLike<number>;
        if ((ty === 'float16' || ty === 'bfloat16') && d instanceof Uint16Array) {
          const lut = halfTable(ty);
          return Array.from(d, (h) => lut[h]);
        }
        return d;
      },
      note: g.note,
      dispose: () => session.release(),
    };
  },
};

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200);
}

// ---------------------------------------------------------------------------------------------------------------
// TensorFlow.js (CPU and WASM backends share tfjs-core; one backend per process)

type Tf = typeof import('@tensorflow/tfjs-core');
let tfMod: Tf | null = null;
let tfBackend: string | null = null;

async function tfjs(backend: 'wasm' | 'cpu'): Promise<Tf> {
  if (!tfMod) {
    // tfjs-core greets Node users with a console banner about tfjs-node; keep it out of the benchmark output.
    const warn = console.warn;
    console.warn = () => {};
    try {
      tfMod = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-cpu');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // The .wasm files come from node_modules: nothing is downloaded.
      wasm.setWasmPaths(join(pkgDir('@tensorflow/tfjs-backend-wasm'), 'dist') + '/');
      // Threaded WASM needs Web Workers from blob: URLs, which Node's worker_threads refuse.
      tfMod.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      // Production mode: no debug checks, and no console banner about tfjs-node.
      tfMod.env().set('PROD', true);
    } finally {
      console.warn = warn;
    }
  }
  const tf = tfMod;
  if (tfBackend !== backend) {
    const warn = console.warn;
    console.warn = () => {};
    try {
      if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} failed to initialise`);
      await tf.ready();
    } finally {
      console.warn = warn;
    }
    tfBackend = backend;
  }
  return tf;
}

function tfDriver(backend: 'wasm' | 'cpu'): Driver {
  return {
    name: `tfjs-${backend}`,
    label: `TF.js ${backend === 'wasm' ? 'WASM' : 'CPU'}`,
    version: () => pkgVersion(`@tensorflow/tfjs-backend-${backend}`),
    settings:
      backend === 'wasm'
        ? "tfjs-backend-wasm with SIMD (XNNPACK), wasm files from node_modules, env PROD; weights as a [K, N] tensor made once (its transposeB path is ~10× slower); result read with dataSync()"
        : 'tfjs-backend-cpu (plain JavaScript), env PROD; weights as a [K, N] tensor made once; result read with dataSync()',
    maxThreads: 1,
    maxThreadsReason:
      backend === 'wasm'
        ? "TF.js's threaded WASM build needs Web Workers from blob: URLs, which Node's worker_threads refuse"
        : 'plain JavaScript on the main thread',
    slow: backend === 'cpu',
    maxFlops: backend === 'cpu' ? 3e8 : undefined,
    // Plain JS at M = 1 × 4096×4096 weights: seconds of setup and ~0.3 s a call for a figure far behind the rest.
    maxWeights: backend === 'cpu' ? 2 ** 22 : undefined,
    async init() {
      await tfjs(backend);
    },
    supports(t) {
      if (t.dtype === 'int8' || t.dtype === 'int8-dynamic') return 'no int8 GEMM in TF.js';
      if (t.dtype === 'float16') return 'no float16 matmul in TF.js';
      return true;
    },
    async prepare(t, inp) {
      const tf = await tfjs(backend);
      const keep: { dispose(): void }[] = [];
      const hold = <T extends { dispose(): void }>(x: T): T => (keep.push(x), x);
      let f: () => import('@tensorflow/tfjs-core').Tensor;
      if (t.op === 'add') {
        const a = hold(tf.tensor1d(inp.a));
        const b = hold(tf.tensor1d(inp.w));
        f = () => tf.add(a, b);
      } else if (t.op === 'mlp') {
        const layers = t.layers!;
        const x = hold(tf.tensor2d(inp.a, [t.m, layers[0]]));
        const ws = inp.mlp!.w.map((w, i) => hold(tf.tensor2d(transpose(w, layers[i + 1], layers[i]), [layers[i], layers[i + 1]])));
        const bs = inp.mlp!.b.map((b) => hold(tf.tensor1d(b)));
        f = () =>
          tf.tidy(() => {
            let h: import('@tensorflow/tfjs-core').Tensor = x;
            for (let i = 0; i < ws.length; i++) h = tf.fused.matMul({ a: h, b: ws[i], bias: bs[i], activation: i + 1 < ws.length ? 'relu' : 'linear' });
            return h;
          });
      } else {
        const a = hold(tf.tensor2d(inp.a, [t.m, t.k]));
        const b = hold(tf.tensor2d(transpose(inp.w, t.n, t.k), [t.k, t.n]));
        f = () => tf.matMul(a, b);
      }
      return {
        // Read the result into JS as the other contenders do, then free it.
        run: () => {
          const y = f();
          const d = y.dataSync();
          y.dispose();
          return d;
        },
        async: false,
        read: (d) => d as Float32Array,
        // Both TF.js contenders share tfjs-core: make this one's backend current while it runs (a synchronous switch
        // once the backend is initialised; its tensors were made on it).
        enter: () => {
          void tf.setBackend(backend);
          if (tf.getBackend() !== backend) throw new Error(`TF.js backend ${backend} is not current`);
        },
        note: t.dtype === 'sparse' ? 'dense matmul on the same weights' : t.dtype === 'bfloat16' ? 'no bf16 in TF.js: f32 matmul on the same values' : undefined,
        dispose: () => keep.forEach((x) => x.dispose()),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// ml-matrix

type MlMatrixClass = typeof import('ml-matrix').Matrix;
type MlMatrix = InstanceType<MlMatrixClass>;
let mlMatrix: MlMatrixClass | null = null;

const mlDriver: Driver = {
  name: 'ml-matrix',
  label: 'ml-matrix',
  version: () => pkgVersion('ml-matrix'),
  settings: 'Matrix.mmul (plain JavaScript, float64); weights as a [K, N] Matrix made once',
  maxThreads: 1,
  maxThreadsReason: 'plain JavaScript on the main thread',
  slow: true,
  maxFlops: 3e8,
  // Matrix.mmul copies a column of B per output column: pathological for a 4096×4096 B (seconds per call at M = 1).
  maxWeights: 2 ** 22,
  supports(t) {
    if (t.dtype === 'float32' || t.dtype === 'sparse') return true;
    return `no ${t.dtype} in ml-matrix`;
  },
  async prepare(t, inp) {
    mlMatrix ??= (await import('ml-matrix')).Matrix;
    const Matrix = mlMatrix;
    const mat = (d: Float32Array, r: number, c: number) => {
      const rows: Float64Array[] = [];
      for (let i = 0; i < r; i++) rows.push(Float64Array.from(d.subarray(i * c, (i + 1) * c)));
      return new Matrix(rows);
    };
    let f: () => MlMatrix;
    if (t.op === 'add') {
      const a = mat(inp.a, 1, t.m * t.k);
      const b = mat(inp.w, 1, t.n * t.k);
      f = () => Matrix.add(a, b);
    } else if (t.op === 'mlp') {
      const layers = t.layers!;
      const x = mat(inp.a, t.m, layers[0]);
      const ws = inp.mlp!.w.map((w, i) => mat(transpose(w, layers[i + 1], layers[i]), layers[i], layers[i + 1]));
      const bs = inp.mlp!.b.map((b) => Array.from(b));
      f = () => {
        let h = x;
        for (let i = 0; i < ws.length; i++) {
          h = h.mmul(ws[i]).addRowVector(bs[i]);
          if (i + 1 < ws.length) h.apply((r: number, c: number) => void (h.get(r, c) < 0 && h.set(r, c, 0)));
        }
        return h;
      };
    } else {
      const a = mat(inp.a, t.m, t.k);
      const b = mat(transpose(inp.w, t.n, t.k), t.k, t.n);
      f = () => a.mmul(b);
    }
    return { run: f, async: false, read: (y) => (y as MlMatrix).to1DArray() };
  },
};

// ---------------------------------------------------------------------------------------------------------------

/** Every contender, by name, in report order (simdtensor first). */
export const drivers: Record<string, Driver> = {
  simdtensor: stDriver,
  'simdtensor-scalar': stScalarDriver,
  'onnxruntime-node': ortDriver,
  'tfjs-wasm': tfDriver('wasm'),
  'tfjs-cpu': tfDriver('cpu'),
  'ml-matrix': mlDriver,
};

/** Contenders that could not be included at all, with why (shown in the report). */
export const excluded: Record<string, string> = {
  '@tensorflow/tfjs-node':
    'downloads a prebuilt libtensorflow binary in its install script, so `npm install` fails without network beyond the npm registry; not included',
};

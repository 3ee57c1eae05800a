/**
 * The benchmark's trials, as data: which op, dtype and shape each measures, and what bounds it. Contenders
 * (./drivers.ts) decide for themselves which trials they can run; run.ts times every pair.
 * @module
 */

import { rng } from '../src/random.js';

/** What a trial measures. */
export type TrialOp = 'gemm' | 'add' | 'mlp';

/**
 * One benchmark trial. Families (int8, f16/bf16, sparse, …) add theirs in `bench/trials-<family>.ts` by exporting
 * `trials: TrialSpec[]`; run.ts loads those modules when they exist.
 */
export interface Trial {
  /** Unique id, e.g. `f32/1x4096x4096`; also what `--filter` matches (with name and family). */
  id: string;
  /** Display name, e.g. `f32 GEMM 1×4096×4096`. */
  name: string;
  /** Kernel family: f32, int8, f16, bf16, sparse, overhead, mlp, … */
  family: string;
  /** What the contenders run. */
  op: TrialOp;
  /**
   * Operand type the contenders compute in: float32, float16, bfloat16, int8 (u8 activations × s8 weights →
   * int32), int8-dynamic (float32 activations quantized on the fly, float32 out), sparse (float32, pruned weights).
   */
  dtype: 'float32' | 'float16' | 'bfloat16' | 'int8' | 'int8-dynamic' | 'sparse';
  /** GEMM shape: A is m×k, the weights k×n (stored as a Linear weight [n, k]). For an MLP, m is the batch. */
  m: number;
  k: number;
  n: number;
  /** MLP layer widths, input first (op 'mlp' only). */
  layers?: number[];
  /** Fraction of weights that are zero (sparse trials). */
  sparsity?: number;
  /** Floating-point (or integer) operations per call: 2·m·k·n for a GEMM. */
  flops: number;
  /** How the rate is shown: GFLOP/s (float), GOP/s (integer) or µs/call (overhead trials, lower is better). */
  unit: 'GFLOP/s' | 'GOP/s' | 'us/call';
  /** Bytes of weights one call must read (sizes the bandwidth probe for the roofline bound). */
  weightBytes: number;
  /** Which compute-peak probe bounds this trial ('f32', or a family's probe name such as 'vnni'). */
  peak: string;
  /** Runs in `--quick`. */
  quick?: boolean;
  /** Thread counts this trial runs at (default: every count asked for). */
  threads?: number[];
  /**
   * Optional: how simdtensor runs this trial, supplied by a family module. Called with the trial's inputs and the
   * trial itself (take m, k, n from it: `--dry` shrinks them); returns the function that is timed, whose return
   * value is the output the agreement check reads (a function returning nothing is timed but flagged unchecked).
   */
  setup?: (inputs: TrialInputs, trial: Trial) => (() => unknown) | Promise<() => unknown>;
}

/** A family module's trial: the fields a trial must have, the rest filled by {@link normalizeTrial}. */
export type TrialSpec = Partial<Trial> & { name: string; family: string; m: number; k: number; n: number; flops?: number };

/** The inputs every contender of a trial gets (generated once per trial from a fixed seed). */
export interface TrialInputs {
  /** Activations [m, k] in float32 (for int8 trials: the integer values of `aU8`, as floats). */
  a: Float32Array;
  /** Weights in Linear layout [n, k] in float32 (for int8 trials: the values of `wS8`; for sparse: with zeros). */
  w: Float32Array;
  /** Bias [n] (MLP trials use one per layer in `layers`). */
  bias?: Float32Array;
  /** float16/bfloat16 trials: the same values as raw half bits, `a` [m, k] and `w` [n, k]. */
  aHalf?: Uint16Array;
  wHalf?: Uint16Array;
  /** int8 trials: activations as u8 [m, k] and weights as s8 [n, k] (Linear layout). */
  aU8?: Uint8Array;
  wS8?: Int8Array;
  /** MLP trials: per layer weights [out, in] and biases [out]. */
  mlp?: { w: Float32Array[]; b: Float32Array[] };
}

/** Shapes of the foundation issue, M×K×N: bandwidth-bound (M = 1, 8), compute-bound, and an off-by-one shape. */
export const GEMM_SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 4096, 4096],
  [8, 4096, 4096],
  [64, 1024, 1024],
  [256, 1024, 1024],
  [1024, 1024, 1024],
  [255, 1023, 1023],
];

/** Shapes in `--quick` (4096×4096 weights take seconds to generate and load into every contender). */
const QUICK = new Set(['64x1024x1024']);

/** Layer widths of the batching issue's MLP. */
export const MLP_LAYERS: readonly number[] = [256, 1024, 1024, 10];

const BYTES: Record<Trial['dtype'], number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int8: 1,
  'int8-dynamic': 1,
  sparse: 4,
};

/** A GEMM trial of one dtype at one shape. */
export function gemmTrial(family: string, dtype: Trial['dtype'], m: number, k: number, n: number, extra: Partial<Trial> = {}): Trial {
  const shape = `${m}x${k}x${n}`;
  const int = dtype === 'int8';
  const sparsity = extra.sparsity;
  // Sparse weights: roughly values plus a 4-byte index per non-zero (CSR-like); the exact layout is the family's.
  const weightBytes = sparsity !== undefined ? Math.ceil(k * n * (1 - sparsity) * 8) : k * n * BYTES[dtype];
  return {
    id: `${family}/${shape}`,
    name: `${family} GEMM ${m}×${k}×${n}`,
    family,
    op: 'gemm',
    dtype,
    m,
    k,
    n,
    flops: 2 * m * k * n,
    unit: int ? 'GOP/s' : 'GFLOP/s',
    weightBytes,
    peak: int ? 'vnni' : dtype === 'bfloat16' ? 'bf16' : dtype === 'float16' ? 'f16' : 'f32',
    quick: QUICK.has(shape),
    ...extra,
  };
}

/** The MLP of the batching issue (256 → 1024 → 1024 → 10, ReLU between layers) at one batch size. */
export function mlpTrial(dtype: 'float32' | 'int8-dynamic', batch: number): Trial {
  const layers = [...MLP_LAYERS];
  let macs = 0;
  let params = 0;
  for (let i = 0; i + 1 < layers.length; i++) {
    macs += layers[i] * layers[i + 1];
    params += layers[i] * layers[i + 1];
  }
  const tag = dtype === 'float32' ? 'f32' : 'int8';
  return {
    id: `mlp-${tag}/b${batch}`,
    name: `MLP ${layers.join('→')} ${tag} batch ${batch}`,
    family: 'mlp',
    op: 'mlp',
    dtype,
    m: batch,
    k: layers[0],
    n: layers[layers.length - 1],
    layers,
    flops: 2 * batch * macs,
    unit: 'GFLOP/s',
    weightBytes: params * (dtype === 'float32' ? 4 : 1),
    peak: dtype === 'float32' ? 'f32' : 'vnni',
    quick: batch === 1 && dtype === 'float32',
  };
}

/** Per-call overhead trials: a 4×4 matmul and a 1-element add, reported in µs per call. */
export function overheadTrials(): Trial[] {
  return [
    { ...gemmTrial('overhead', 'float32', 4, 4, 4), id: 'overhead/matmul-4x4', name: 'matmul 4×4 (per-call overhead)', unit: 'us/call', quick: true, threads: [1] },
    {
      id: 'overhead/add-1',
      name: 'add 1 element (per-call overhead)',
      family: 'overhead',
      op: 'add',
      dtype: 'float32',
      m: 1,
      k: 1,
      n: 1,
      flops: 1,
      unit: 'us/call',
      weightBytes: 4,
      peak: 'f32',
      quick: true,
      threads: [1],
    },
  ];
}

/** Default sparsity of the sparse trials when no family module says otherwise. */
export const SPARSITY = 0.9;

/** Every built-in trial, in report order. */
export function builtinTrials(): Trial[] {
  const out: Trial[] = [];
  for (const [m, k, n] of GEMM_SHAPES) out.push(gemmTrial('f32', 'float32', m, k, n));
  for (const [m, k, n] of GEMM_SHAPES) out.push(gemmTrial('int8', 'int8', m, k, n));
  for (const [m, k, n] of GEMM_SHAPES) out.push(gemmTrial('int8-dyn', 'int8-dynamic', m, k, n, { quick: false, name: `int8 dynamic GEMM ${m}×${k}×${n}` }));
  for (const [m, k, n] of GEMM_SHAPES) out.push(gemmTrial('f16', 'float16', m, k, n));
  for (const [m, k, n] of GEMM_SHAPES) out.push(gemmTrial('bf16', 'bfloat16', m, k, n, { quick: false }));
  for (const [m, k, n] of GEMM_SHAPES) out.push(gemmTrial('sparse', 'sparse', m, k, n, { sparsity: SPARSITY, quick: false, name: `sparse GEMM ${m}×${k}×${n} (${SPARSITY * 100}% zeros)` }));
  out.push(...overheadTrials());
  for (const b of [1, 64]) out.push(mlpTrial('float32', b));
  for (const b of [1, 64]) out.push(mlpTrial('int8-dynamic', b));
  return out;
}

/** Fills the fields a family module's trial left out (defaults from {@link gemmTrial}). */
export function normalizeTrial(spec: TrialSpec): Trial {
  const dtype = (spec.dtype ?? (spec.family === 'int8' ? 'int8' : spec.family === 'f16' ? 'float16' : spec.family === 'bf16' ? 'bfloat16' : spec.family === 'sparse' ? 'sparse' : 'float32')) as Trial['dtype'];
  const base = gemmTrial(spec.family, dtype, spec.m, spec.k, spec.n, dtype === 'sparse' ? { sparsity: spec.sparsity ?? SPARSITY } : {});
  const t: Trial = { ...base, ...spec, dtype } as Trial;
  // Same id as the built-in trial of that family and shape, so a family's trial refines it instead of duplicating.
  if (!spec.id) t.id = base.id;
  if (!spec.flops) t.flops = base.flops;
  return t;
}

function uniform(n: number, r: () => number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * r() - 1) * scale;
  return a;
}

/** Generates a trial's inputs (deterministic: seeded by the shape). */
export function makeInputs(t: Trial): TrialInputs {
  const r = rng(t.m * 7919 + t.k * 104729 + t.n);
  if (t.op === 'mlp') {
    const layers = t.layers ?? [...MLP_LAYERS];
    const w: Float32Array[] = [];
    const b: Float32Array[] = [];
    for (let i = 0; i + 1 < layers.length; i++) {
      // Kaiming-uniform-like scale so activations stay O(1) through the ReLUs.
      w.push(uniform(layers[i + 1] * layers[i], r, Math.sqrt(6 / layers[i])));
      b.push(uniform(layers[i + 1], r, 0.1));
    }
    return { a: uniform(t.m * layers[0], r, 1), w: w[0], bias: b[0], mlp: { w, b } };
  }
  if (t.dtype === 'int8') {
    const aU8 = new Uint8Array(t.m * t.k);
    const wS8 = new Int8Array(t.n * t.k);
    for (let i = 0; i < aU8.length; i++) aU8[i] = Math.floor(r() * 256);
    for (let i = 0; i < wS8.length; i++) wS8[i] = Math.floor(r() * 255) - 127;
    return { a: Float32Array.from(aU8), w: Float32Array.from(wS8), aU8, wS8 };
  }
  const a = uniform(t.m * t.k, r, 1);
  const w = uniform(t.n * t.k, r, 1 / Math.sqrt(t.k));
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
    // Round once to the trial's type so every contender computes on exactly the same values.
    const aHalf = toHalfBits(a, t.dtype);
    const wHalf = toHalfBits(w, t.dtype);
    const lut = halfTable(t.dtype);
    for (let i = 0; i < a.length; i++) a[i] = lut[aHalf[i]];
    for (let i = 0; i < w.length; i++) w[i] = lut[wHalf[i]];
    return { a, w, aHalf, wHalf };
  }
  if (t.dtype === 'sparse') {
    const s = t.sparsity ?? SPARSITY;
    for (let i = 0; i < w.length; i++) if (r() < s) w[i] = 0;
  }
  return { a, w };
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** float32 → bfloat16 bits (round to nearest even). */
export function toBf16Bits(x: number): number {
  f32buf[0] = x;
  const u = u32buf[0];
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits → number. */
export function fromBf16Bits(h: number): number {
  u32buf[0] = h << 16;
  return f32buf[0];
}

/** float32 → IEEE half bits (round to nearest even; overflow to ±Inf). */
export function toF16Bits(x: number): number {
  f32buf[0] = x;
  const u = u32buf[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** IEEE half bits → number. */
export function fromF16Bits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const tables: Partial<Record<'float16' | 'bfloat16', Float32Array>> = {};

/** Every half bit pattern's value (65,536 entries), for fast decoding. */
export function halfTable(dtype: 'float16' | 'bfloat16'): Float32Array {
  let t = tables[dtype];
  if (!t) {
    t = new Float32Array(65536);
    const f = dtype === 'float16' ? fromF16Bits : fromBf16Bits;
    for (let h = 0; h < 65536; h++) t[h] = f(h);
    tables[dtype] = t;
  }
  return t;
}

/** Float32 values → half bits of a dtype. */
export function toHalfBits(a: Float32Array, dtype: 'float16' | 'bfloat16'): Uint16Array {
  const out = new Uint16Array(a.length);
  const f = dtype === 'float16' ? toF16Bits : toBf16Bits;
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]);
  return out;
}

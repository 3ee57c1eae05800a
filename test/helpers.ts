// Shared test helpers: plain JS references (double accumulation) and the ISA levels this CPU can run.
import { afterEach, beforeEach, it, vi } from 'vitest';
import { cpuInfo, Isa, Tensor } from '../src/index.js';

/** Every ISA cap this CPU supports, lowest first; each forces a different kernel family member. */
export function supportedIsas(): Isa[] {
  return cpuInfo().supportedIsas;
}

/**
 * `it` for a test whose assertions read the real clock (latencies, timer lag, races against other threads). Such
 * tests stay out of the default run, where a loaded machine would make them flaky: they are listed as skipped
 * there and run by `npm run test:timing` (vitest.timing.config.ts sets SIMDTENSOR_TIMING_TESTS=1). Name them
 * with a trailing `[real clock]`.
 */
export const itTiming = it.runIf(process.env.SIMDTENSOR_TIMING_TESTS === '1');

/** Every ISA level our kernels are compiled for on this architecture, lowest first (runnable here or not). */
export function compiledIsas(): Isa[] {
  const simd: Isa[] = cpuInfo().arch === 'arm64' ? ['neon', 'neondot', 'neonfp16', 'neoni8mm'] : ['avx2', 'avxvnni', 'avx512', 'avx512vnni', 'avx512bf16', 'avx512fp16', 'amx'];
  return ['scalar', ...simd];
}

/** ISA levels our kernels are compiled for but this CPU can't run. */
export function unsupportedIsas(): Isa[] {
  const have = new Set(supportedIsas());
  return compiledIsas().filter((i) => !have.has(i));
}

/**
 * `it` for one ISA level: skipped where this CPU cannot run it, so the runner lists the level as skipped
 * (never passed silently). Use as `for (const isa of compiledIsas()) itIsa(isa)(`${isa}: ...`, () => ...)`.
 */
export function itIsa(isa: Isa): typeof it {
  return it.skipIf(!supportedIsas().includes(isa));
}

/**
 * For a test that walks every runnable ISA level inside one `it`: one skipped entry per level this CPU lacks,
 * so the runner's summary counts and names what went untested.
 */
export function skipUnsupportedIsas(what: string): void {
  for (const isa of unsupportedIsas()) it.skip(`${isa}: ${what} (this CPU lacks ${isa})`, () => {});
}

/** Round to the nearest integer, ties to even (the rule every quantizer and half conversion here follows). */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

// erf with |err| < 1.2e-7 (Numerical Recipes erfc Chebyshev), good in double for the reference.
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

/** Reference act(A·op(B) + bias) with double accumulation; also returns Σ|a·b| per output for tolerances. */
export function refMatmul(
  a: Float32Array, m: number, k: number, b: Float32Array, n: number, transB: boolean, bias: Float32Array | null, act: 'none' | 'relu' | 'gelu',
): { c: Float64Array; mag: Float64Array } {
  const c = new Float64Array(m * n);
  const mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let g = 0;
      for (let p = 0; p < k; p++) {
        const prod = a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]);
        s += prod;
        g += Math.abs(prod);
      }
      let v = Math.fround(s);
      if (bias) v = Math.fround(v + bias[j]);
      if (act === 'relu') v = Number.isNaN(v) ? v : Math.max(v, 0);
      if (act === 'gelu') v = gelu(v);
      c[i * n + j] = v;
      mag[i * n + j] = g + (bias ? Math.abs(bias[j]) : 0);
    }
  return { c, mag };
}

/** f32 GEMM tolerance: blocked f32 accumulation error is below k·eps·Σ|ab|; we allow 64·eps·Σ|ab| + 1e-6. */
export const F32_GEMM_REL_TOL = 64 * 2 ** -23;
export const F32_GEMM_ABS_TOL = 1e-6;

export function expectClose(got: Tensor | Float32Array, want: Float64Array, mag: Float64Array | null, rel: number, abs: number, what: string): void {
  const g = got instanceof Tensor ? (got.data as Float32Array) : got;
  if (g.length !== want.length) throw new Error(`${what}: length ${g.length} != ${want.length}`);
  for (let i = 0; i < g.length; i++) {
    const w = want[i];
    const v = g[i];
    if (Number.isNaN(w)) {
      if (!Number.isNaN(v)) throw new Error(`${what}: [${i}] = ${v}, want NaN`);
      continue;
    }
    if (!Number.isFinite(w)) {
      if (v !== w) throw new Error(`${what}: [${i}] = ${v}, want ${w}`);
      continue;
    }
    const tol = abs + rel * (mag ? mag[i] : Math.abs(w));
    if (!(Math.abs(v - w) <= tol)) throw new Error(`${what}: [${i}] = ${v}, want ${w} (tol ${tol})`);
  }
}

/** Exact integer product of int8/uint8 operands: A [m,k] · B [k,n] (or [n,k] with transB). */
export function intMatmul(a: ArrayLike<number>, m: number, k: number, b: ArrayLike<number>, n: number, transB: boolean): Int32Array {
  const c = new Int32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}
/** Seeded int8/uint8 test data over the full range (an LCG: the streams the int8 tests were written against). */
export function randInts(n: number, dtype: 'int8' | 'uint8', seed: number): Int8Array | Uint8Array {
  let s = seed * 2654435761 + 1;
  const out = dtype === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s >>> 13) & 255; // wraps into the signed range for Int8Array
  }
  return out;
}

/** Fake timers for every test of the file (vitest's), real ones restored after each. */
export function useFakeTimersPerTest(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** What a promise did, as {@link settleInto} records it. */
export interface Settlement<T> {
  /** How many times a handler ran (1 once settled; more would be a bug). */
  settled: number;
  value?: T;
  error?: unknown;
}

/** Records into `t` how `p` settles (its value or error) and how many times its handlers ran. */
export function settleInto<T>(t: Settlement<T>, p: Promise<T>): void {
  p.then(
    (v) => {
      t.settled++;
      t.value = v;
    },
    (e) => {
      t.settled++;
      t.error = e;
    },
  );
}

/** Settlement tracker: which promises settled, how, and how many times the handlers ran. */
export function track<T>(p: Promise<T>): Settlement<T> {
  const t: Settlement<T> = { settled: 0 };
  settleInto(t, p);
  return t;
}

/** A tolerance for {@link arrayDiff}: a number is an absolute one; `{ abs, rel }` allows abs + rel·|want|. */
export type ArrayTolerance = number | { abs?: number; rel?: number };

/** How two arrays differ, as {@link arrayDiff} finds it. */
export interface ArrayDifference {
  /** The first index where the two differ (the shorter length when one is a prefix of the other). */
  index: number;
  got: number | bigint | undefined;
  want: number | bigint | undefined;
  /** How many indices below the shorter length differ. */
  count: number;
  /** Set when the lengths differ. */
  lengths?: [number, number];
}

type Elem = number | bigint;

/** Whether one element matches: `Object.is` (as `toEqual`: NaN equals NaN, −0 is not +0), or within `tol` (NaN only matches NaN, ±Inf only itself). */
function sameElem(g: Elem, w: Elem, tol: ArrayTolerance | undefined): boolean {
  if (Object.is(g, w)) return true;
  if (tol === undefined || typeof g !== 'number' || typeof w !== 'number' || !Number.isFinite(w)) return false;
  const { abs = 0, rel = 0 } = typeof tol === 'number' ? { abs: tol } : tol;
  return Math.abs(g - w) <= abs + rel * Math.abs(w);
}

/**
 * Where `got` and `want` (typed or plain arrays) differ element by element, or null where they are equal: exactly
 * (`Object.is`, what `toEqual` over `Array.from` of both checks), or within `tol`. Walks every element once and
 * builds no diff, so it stays fast on arrays of 10⁵ elements.
 */
export function arrayDiff(got: ArrayLike<Elem>, want: ArrayLike<Elem>, tol?: ArrayTolerance): ArrayDifference | null {
  const n = Math.min(got.length, want.length);
  let first = -1;
  let count = 0;
  for (let i = 0; i < n; i++)
    if (!sameElem(got[i], want[i], tol)) {
      if (first < 0) first = i;
      count++;
    }
  if (first < 0 && got.length === want.length) return null;
  const index = first < 0 ? n : first;
  return { index, got: got[index], want: want[index], count, ...(got.length !== want.length ? { lengths: [got.length, want.length] as [number, number] } : {}) };
}

/**
 * Asserts that two typed or plain arrays hold the same elements (exactly, or within `tol`); on failure throws a short
 * message with the first differing index, the two values there and how many differ — never a full diff, which vitest
 * builds synchronously for `toEqual` and which takes minutes on arrays of 10⁴–10⁵ elements. `sameType`: also require
 * the same typed-array class when both are typed arrays (as `toEqual` over the two arrays themselves does).
 */
export function expectSameArray(got: ArrayLike<Elem>, want: ArrayLike<Elem>, opts: { tol?: ArrayTolerance; label?: string; sameType?: boolean } = {}): void {
  const what = opts.label ? `${opts.label}: ` : '';
  if (opts.sameType && ArrayBuffer.isView(got) && ArrayBuffer.isView(want) && got.constructor !== want.constructor)
    throw new Error(`${what}got a ${got.constructor.name}, want a ${want.constructor.name}`);
  const d = arrayDiff(got, want, opts.tol);
  if (!d) return;
  const len = d.lengths ? `length ${d.lengths[0]} != ${d.lengths[1]}; ` : '';
  const tol = opts.tol === undefined ? '' : ` (tol ${JSON.stringify(opts.tol)})`;
  const at = d.index < Math.min(got.length, want.length) ? `first at [${d.index}]: got ${d.got}, want ${d.want}${tol}` : `equal up to [${d.index}]`;
  throw new Error(`${what}arrays differ: ${len}${d.count} of ${Math.min(got.length, want.length)} elements differ; ${at}`);
}

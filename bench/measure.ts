/**
 * Timing and agreement: contenders are checked against a float64 reference before anything is timed, then timed in
 * interleaved rounds (each round is one tinybench `Bench` whose tasks are the contenders, in a rotated order) so machine
 * drift hits all alike.
 * @module
 */
import { Bench } from 'tinybench';
import { rng } from '../src/random.js';
import type { Runner } from './drivers.js';
import type { Trial, TrialInputs } from './trials.js';

/** Summary of repeated measurements. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  /** Quartiles (linear interpolation). */
  q1: number;
  q3: number;
  /** (max − min) / median, in percent. */
  rangePct: number;
  /** (q3 − q1) / median, in percent: the spread shown in tables (robust to one preempted sample). */
  iqrPct: number;
  /** Number of timed samples. */
  runs: number;
  samples: number[];
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The median of samples (mean of the two middle ones for an even count). */
export function median(xs: number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

/** CPU milliseconds (user + system, every thread) of a `process.cpuUsage(start)` difference. */
export function cpuMs(c: NodeJS.CpuUsage): number {
  return (c.user + c.system) / 1000;
}

/** Process CPU ms per call of `reps` calls of `f`, awaited one after the other (the machine is shared: CPU time). */
export async function cpuPerCall(f: () => unknown, reps: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) await f();
  return cpuMs(process.cpuUsage(c0)) / reps;
}

/**
 * Process CPU µs per call of `fThis` and, when given, `fBase`, alternating in each of `rounds` rounds (the order flips
 * every round; each sample is `inner` calls): the medians, and the median of the per-round base/this ratios (0 without
 * a base).
 */
export function cpuAlternating(fThis: () => void, fBase: (() => void) | null, inner: number, rounds: number) {
  const cpu = (f: () => void) => {
    const u0 = process.cpuUsage();
    for (let i = 0; i < inner; i++) f();
    const u = process.cpuUsage(u0);
    return (u.user + u.system) / inner;
  };
  const a: number[] = [], bb: number[] = [], ratio: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const first = r & 1 && fBase ? cpu(fBase) : -1;
    const mine = cpu(fThis);
    const other = fBase ? (first >= 0 ? first : cpu(fBase)) : 0;
    a.push(mine);
    if (fBase) (bb.push(other), ratio.push(other / mine));
  }
  return { us: median(a), base: fBase ? median(bb) : 0, ratio: fBase ? median(ratio) : 0 };
}

/**
 * Starts sampling event-loop lag: a 1 ms interval timer records how late each tick came (ms). The returned function
 * stops it and returns the lags, in tick order.
 */
export function lagProbe(): () => number[] {
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(now - last - 1);
    last = now;
  }, 1);
  return () => {
    clearInterval(timer);
    return lags;
  };
}

/** The value after `name` (e.g. '--rounds') on the command line, or `def` when the flag is absent. */
export function flag(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

/** {@link flag} as a number. */
export function numFlag(name: string, def: number): number {
  return Number(flag(name, String(def)));
}

/** Median, quartiles, range of samples. */
export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  return {
    median,
    min: s[0],
    max: s[s.length - 1],
    q1: quantile(s, 0.25),
    q3: quantile(s, 0.75),
    rangePct: median > 0 ? ((s[s.length - 1] - s[0]) / median) * 100 : 0,
    iqrPct: median > 0 ? ((quantile(s, 0.75) - quantile(s, 0.25)) / median) * 100 : 0,
    runs: s.length,
    samples: xs,
  };
}

/** How long to time. */
export interface TimingOptions {
  /** Timed rounds (each contender gives one sample per round); at least 5 for a real run. */
  rounds: number;
  /** Target length of one round's sample of a contender in ms (BATCHES_PER_ROUND tinybench iterations of as many calls as fit, at least one). */
  sampleMs: number;
  /** Warm-up time per contender in ms before the first round (at least one call). */
  warmupMs: number;
}

/** Batches of calls per contender per round: the round's sample for a contender is the median of these batches. */
export const BATCHES_PER_ROUND = 5;

/** A tinybench task that makes `n` calls of a runner per iteration, entering/leaving its mode outside the timing. */
function addTask(bench: Bench, name: string, r: Runner, n: () => number): void {
  const fn = r.async
    ? async () => {
        for (let i = 0, c = n(); i < c; i++) await r.run();
      }
    : () => {
        for (let i = 0, c = n(); i < c; i++) r.run();
      };
  bench.add(name, fn, {
    async: r.async,
    beforeAll: r.enter ? () => r.enter!() : undefined,
    afterAll: r.exit ? () => r.exit!() : undefined,
  });
}

/** Latency statistics (ms per task iteration) of a task that has run, or the error that stopped it. */
function latency(bench: Bench, name: string): { p50: number; mean: number; samplesCount: number } {
  const res = bench.getTask(name)?.result;
  if (!res || !('latency' in res)) {
    const err = res && 'error' in res ? res.error : undefined;
    throw err instanceof Error ? err : new Error(`tinybench task ${name} did not complete (${res?.state ?? 'missing'})`);
  }
  return res.latency;
}

/**
 * Times every runner through tinybench. Warm-up and calibration: one `Bench` with one task per runner (one call per
 * iteration, for `warmupMs`), whose mean latency sizes a batch (calls per tinybench iteration) so that
 * {@link BATCHES_PER_ROUND} batches take about `sampleMs`. Then `rounds` rounds, each one `Bench` whose tasks are the
 * runners in that round's rotated order, each timed for {@link BATCHES_PER_ROUND} iterations (no time budget, no
 * tinybench warm-up: the round is short and the runners are already warm); a runner's sample for the round is the
 * median batch latency divided by the batch size. Returns seconds per call for each runner.
 */
export async function timeInterleaved(runners: Map<string, Runner>, o: TimingOptions): Promise<Map<string, Stats>> {
  const names = [...runners.keys()];
  const iters = new Map<string, number>(names.map((n) => [n, 1]));
  const warm = new Bench({ name: 'warm-up', time: o.warmupMs, iterations: 1, warmup: false, throws: true });
  for (const name of names) addTask(warm, name, runners.get(name)!, () => 1);
  await warm.run();
  for (const name of names) {
    const perCall = latency(warm, name).mean;
    iters.set(name, Math.max(1, Math.min(1 << 20, Math.round(o.sampleMs / BATCHES_PER_ROUND / Math.max(perCall, 1e-6)))));
  }
  const samples = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let round = 0; round < o.rounds; round++) {
    const bench = new Bench({ name: `round ${round + 1}`, time: 0, iterations: BATCHES_PER_ROUND, warmup: false, throws: true });
    for (let j = 0; j < names.length; j++) {
      const name = names[(round + j) % names.length];
      const n = iters.get(name)!;
      addTask(bench, name, runners.get(name)!, () => n);
    }
    await bench.run();
    for (const name of names) samples.get(name)!.push(latency(bench, name).p50 / 1000 / iters.get(name)!);
  }
  return new Map(names.map((n) => [n, stats(samples.get(n)!)]));
}

/** Result of checking a contender's output against the float64 reference. */
export interface Agreement {
  ok: boolean;
  /** Largest normalised error seen (see {@link checkAgreement}). */
  maxErr: number;
  tol: number;
  /** Output values compared. */
  checked: number;
  /** What the error is normalised by. */
  metric: string;
}

/** Tolerances, named: normalised error allowed for each trial dtype. */
export const TOLERANCE: Record<Trial['dtype'] | 'mlp-float32' | 'mlp-int8-dynamic' | 'add', number> = {
  // |y − ref| / Σ|a·w|: float32 accumulation in any order stays well inside k·ε.
  float32: 1e-4,
  sparse: 1e-4,
  // Inputs are exactly representable in half (rounded at generation); the output may be rounded to half.
  float16: 2e-3,
  bfloat16: 1.6e-2,
  // u8×s8 → int32 is exact; |y − ref| / max(1, |ref|) allows only the rounding of a float32 output.
  int8: 1.2e-7,
  // |y − ref| / rms(ref): quantizing activations and weights to 8 bits (≈ 1 % error, 4σ over hundreds of values).
  'int8-dynamic': 0.08,
  'mlp-float32': 1e-4,
  'mlp-int8-dynamic': 0.12,
  add: 1e-6,
};

/** Positions (row, col) of the outputs to check: all of a small output, else a fixed pseudo-random sample. */
function positions(m: number, n: number): [number, number][] {
  const out: [number, number][] = [];
  if (m * n <= 4096) {
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out.push([i, j]);
    return out;
  }
  out.push([0, 0], [0, n - 1], [m - 1, 0], [m - 1, n - 1]);
  const r = rng(12345);
  for (let c = 0; c < 508; c++) out.push([Math.floor(r() * m), Math.floor(r() * n)]);
  return out;
}

/** Full float64 MLP forward pass (the reference of MLP trials). */
function mlpReference(t: Trial, inp: TrialInputs): Float64Array {
  const layers = t.layers!;
  let h = Float64Array.from(inp.a);
  for (let l = 0; l + 1 < layers.length; l++) {
    const [fin, fout] = [layers[l], layers[l + 1]];
    const w = inp.mlp!.w[l];
    const b = inp.mlp!.b[l];
    const o = new Float64Array(t.m * fout);
    for (let i = 0; i < t.m; i++)
      for (let j = 0; j < fout; j++) {
        let acc = b[j];
        for (let p = 0; p < fin; p++) acc += h[i * fin + p] * w[j * fin + p];
        o[i * fout + j] = l + 2 < layers.length && acc < 0 ? 0 : acc;
      }
    h = o;
  }
  return h;
}

/** A trial's reference: a function giving, for each output checked, its value and its error normaliser. */
export interface Reference {
  metric: string;
  tol: number;
  points: { idx: number; ref: number; scale: number }[];
}

/** Builds the reference of a trial from its inputs (float64 arithmetic). */
export function reference(t: Trial, inp: TrialInputs): Reference {
  if (t.op === 'add') {
    const n = t.m * t.k;
    const points = [];
    for (let i = 0; i < n; i++) points.push({ idx: i, ref: inp.a[i] + inp.w[i], scale: Math.abs(inp.a[i]) + Math.abs(inp.w[i]) || 1 });
    return { metric: '|y−ref| / (|a|+|b|)', tol: TOLERANCE.add, points };
  }
  if (t.op === 'mlp') {
    const y = mlpReference(t, inp);
    let ss = 0;
    for (const v of y) ss += v * v;
    const rms = Math.sqrt(ss / y.length) || 1;
    return { metric: '|y−ref| / rms(ref)', tol: TOLERANCE[`mlp-${t.dtype}` as 'mlp-float32'], points: Array.from(y, (v, idx) => ({ idx, ref: v, scale: rms })) };
  }
  const { m, k, n } = t;
  const pts = positions(m, n).map(([i, j]) => {
    let acc = 0;
    let abs = 0;
    for (let p = 0; p < k; p++) {
      const v = inp.a[i * k + p] * inp.w[j * k + p];
      acc += v;
      abs += Math.abs(v);
    }
    return { idx: i * n + j, ref: acc, scale: abs };
  });
  if (t.dtype === 'int8') return { metric: '|y−ref| / max(1, |ref|) (int32 exact; float32 output rounding only)', tol: TOLERANCE.int8, points: pts.map((p) => ({ ...p, scale: Math.max(1, Math.abs(p.ref)) })) };
  if (t.dtype === 'int8-dynamic') {
    const rms = Math.sqrt(pts.reduce((s, p) => s + p.ref * p.ref, 0) / pts.length) || 1;
    return { metric: '|y−ref| / rms(ref)', tol: TOLERANCE['int8-dynamic'], points: pts.map((p) => ({ ...p, scale: rms })) };
  }
  return { metric: '|y−ref| / Σ|a·w|', tol: TOLERANCE[t.dtype], points: pts.map((p) => ({ ...p, scale: p.scale || 1 })) };
}

/** Compares one output with the reference: the largest normalised error must be within the tolerance. */
export function checkAgreement(ref: Reference, out: ArrayLike<number>, expectLength: number): Agreement {
  if (out.length !== expectLength) return { ok: false, maxErr: Infinity, tol: ref.tol, checked: 0, metric: `output has ${out.length} values, expected ${expectLength}` };
  let maxErr = 0;
  for (const p of ref.points) {
    const e = Math.abs(Number(out[p.idx]) - p.ref) / p.scale;
    if (!(e <= maxErr)) maxErr = Number.isNaN(e) ? Infinity : e;
  }
  return { ok: maxErr <= ref.tol, maxErr, tol: ref.tol, checked: ref.points.length, metric: ref.metric };
}

/** Number of output values a trial produces. */
export function outputLength(t: Trial): number {
  if (t.op === 'add') return t.m * t.k;
  return t.m * t.n;
}

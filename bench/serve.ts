/**
 * Serving load generator: a small MLP (256 → 1024 → 1024 → 10, f32, and int8 when the quantization module is
 * present) served request-at-a-time versus through a BatchScheduler, under closed-loop clients and Poisson
 * arrivals; plus overload with onFull 'reject' and the per-op cost of monitoring. Prints a table and writes
 * bench/results/serve.{json,svg}.
 *
 *   node scripts/build-ts.mjs && node dist/bench/serve.js          default run (~1 minute)
 *   node dist/bench/serve.js --full                                 longer points, more loads and client counts
 *   node dist/bench/serve.js --out DIR                              where the results go
 *   node dist/bench/serve.js --threads N                            intra-op threads per GEMM (default 1)
 *   node dist/bench/serve.js --sync                                 run the models on the JS thread (no linearAsync)
 *
 * Latency is measured from each request's intended arrival time (open loop) or from its submit (closed loop), so a
 * blocked event loop shows up as latency instead of hiding it (no coordinated omission). Load generator and server
 * share one JS thread, as in a real single-process Node server.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lib from '../src/index.js';
import { BatchScheduler, cpuInfo, linear, matmul, packWeights, rand, setMonitoring, Tensor } from '../src/index.js';
import { ArenaPool, denseChainAsync } from '../src/nn/arena.js';
import { mulberry32 } from '../src/random.js';
import { median } from './measure.js';

// ---------- configuration (data) ----------

const FULL = process.argv.includes('--full');
const outArg = process.argv.indexOf('--out');
const here = dirname(fileURLToPath(import.meta.url));
const OUT = outArg > 0 ? resolve(process.argv[outArg + 1]) : resolve(here, '..', '..', 'bench', 'results');

const threadsArg = process.argv.indexOf('--threads');
/**
 * Intra-op threads per GEMM (default 1). Serving gets its parallelism from concurrent batches
 * (maxConcurrentBatches) instead: on a shared 2-vCPU box a 2-thread GEMM stalls whenever a neighbour holds the
 * other vCPU (measured 3-5x slower per batch under load), while independent batches on independent threads do not.
 */
const THREADS = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 1;
/** --sync: run every model on the JS thread (no linearAsync), e.g. to compare the two on a loaded machine. */
const SYNC = process.argv.includes('--sync');
const LAYERS = [256, 1024, 1024, 10];
/** Scheduler settings of the batched server. */
const BATCHED = { maxBatchSize: 32, maxDelayMs: 2, maxConcurrentBatches: 2 };
/** Seconds per load point and mode, measured in SEGMENTS interleaved segments (see {@link interleaved}). */
const POINT_S = FULL ? 3 : 1.2;
const SEGMENTS = FULL ? 10 : 4;
/** Closed-loop client counts; SAT_CLIENTS (a full batch per slot) saturates the batched server without queueing more. */
const SAT_CLIENTS = BATCHED.maxBatchSize * BATCHED.maxConcurrentBatches;
const CLIENTS = FULL ? [1, 4, 16, 32, SAT_CLIENTS, 128, 256] : [1, SAT_CLIENTS, 256];
/** Poisson rates as fractions of [request-at-a-time capacity, batched capacity]. */
const RATES: Array<[string, 'single' | 'batched', number]> = FULL
  ? [['0.25×C1', 'single', 0.25], ['0.8×C1', 'single', 0.8], ['3×C1', 'single', 3], ['0.25×CB', 'batched', 0.25], ['0.5×CB', 'batched', 0.5], ['0.8×CB', 'batched', 0.8], ['0.95×CB', 'batched', 0.95]]
  : [['0.25×C1', 'single', 0.25], ['0.8×C1', 'single', 0.8], ['3×C1', 'single', 3], ['0.5×CB', 'batched', 0.5], ['0.8×CB', 'batched', 0.8]];
const OVERLOAD = 10;
/** The open-loop generator yields a microtask checkpoint every CHECKPOINT submits and the event loop every SLICE_MS. */
const CHECKPOINT = 4;
const SLICE_MS = 2;
/** Queue bound of the Poisson sweep (onFull 'reject'); the overload run bounds the queue to one batch. */
const SWEEP_QUEUE = 4 * BATCHED.maxBatchSize;
const OVERLOAD_QUEUE = BATCHED.maxBatchSize;

// ---------- the model ----------

type Forward = (x: Tensor) => Tensor;
type AsyncForward = (x: Tensor) => Promise<Tensor>;

/** A served model: its forward pass on the JS thread, and on the executor's native threads when available. */
interface Model {
  name: string;
  sync: Forward;
  async: AsyncForward | null;
  /** Why `async` is null. */
  asyncNote?: string;
}

/** Linear layers from packed weights (ReLU fused on all but the last); `prep` turns an f32 weight into what is packed. */
function mlp(name: string, prep: (w: Tensor) => unknown): Model {
  const packed: unknown[] = [];
  const biases: Tensor[] = [];
  for (let i = 0; i + 1 < LAYERS.length; i++) {
    const [fin, fout] = [LAYERS[i], LAYERS[i + 1]];
    const s = 1 / Math.sqrt(fin);
    packed.push(packWeights(prep(rand([fout, fin], { seed: 10 + i, low: -s, high: s })) as never));
    biases.push(rand([fout], { seed: 20 + i, low: -0.1, high: 0.1 }));
  }
  const act = (i: number) => (i + 1 < packed.length ? 'relu' : 'none') as 'relu' | 'none';
  const sync: Forward = (x) => {
    let h = x;
    for (let i = 0; i < packed.length; i++) h = linear(h, packed[i] as never, biases[i], { activation: act(i) });
    return h;
  };
  // Hidden activations in a scratch arena per batch in flight (src/nn/arena.ts): only the output is fresh memory.
  const steps = packed.map((w, i) => ({ weight: w as never, bias: biases[i], outFeatures: LAYERS[i + 1], activation: act(i) }));
  const arenas = new ArenaPool();
  const async: AsyncForward = (x) => denseChainAsync(x, steps, arenas);
  return { name, sync, async };
}

/** Largest |a - b| relative to the largest |a|. */
function relErr(a: Tensor, b: Tensor): number {
  let err = 0;
  let mag = 0;
  for (let i = 0; i < a.size; i++) {
    err = Math.max(err, Math.abs(a.data[i] - b.data[i]));
    mag = Math.max(mag, Math.abs(a.data[i]));
  }
  return err / (mag || 1);
}

/** Checks the async path once; drops it (with the reason) if it throws or disagrees with the sync one. */
async function checkAsync(m: Model): Promise<Model> {
  if (SYNC) return { ...m, async: null, asyncNote: '--sync' };
  const x = rand([4, LAYERS[0]], { seed: 98 });
  try {
    const e = relErr(m.sync(x), await m.async!(x));
    if (e > 1e-5) return { ...m, async: null, asyncNote: `async forward disagrees with sync (relative error ${e.toPrecision(3)})` };
    return m;
  } catch (e) {
    return { ...m, async: null, asyncNote: `no async forward: ${(e as Error).message}` };
  }
}

/** The int8 MLP through the quantization module's public API, if it has landed; else a reason it was skipped. */
function mlpInt8(ref: Model): Model | string {
  const quantize = (lib as unknown as Record<string, unknown>).quantize;
  if (typeof quantize !== 'function') return 'src/int8/ (issue 3) has not landed: no quantize() export';
  try {
    const m = mlp('int8', (w) => (quantize as (w: Tensor) => unknown)(w));
    const x = rand([4, LAYERS[0]], { seed: 99 });
    const e = relErr(ref.sync(x), m.sync(x));
    if (!(e <= 0.1)) return `int8 MLP disagrees with f32 (relative error ${e.toPrecision(3)})`;
    return m;
  } catch (e) {
    return `int8 MLP could not be built: ${(e as Error).message}`;
  }
}

// ---------- measurement helpers ----------

const quantile = (sorted: Float64Array, q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);

/** Median per-call time (ms) of f over `reps` calls, 7 rounds. */
function timeCall(f: () => void, reps: number): number {
  for (let i = 0; i < Math.max(3, reps >> 2); i++) f();
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) f();
    rounds.push((performance.now() - t) / reps);
  }
  return median(rounds);
}

const rng = mulberry32;

/** Distinct request inputs, each in its own buffer (real requests do not arrive as adjacent rows of one array). */
const INPUTS: Tensor[] = Array.from({ length: 256 }, (_, i) => rand([1, LAYERS[0]], { seed: 1000 + i }));

interface Point {
  model: string;
  mode: 'single' | 'batched' | 'batched+spin';
  load: string;
  clients?: number;
  offeredRps?: number;
  achievedOfferedRps?: number;
  throughputRps: number;
  p50Ms: number;
  p99Ms: number;
  rejectedPct: number;
  meanBatch: number;
  maxHeapMB?: number;
  pendingAfter?: number;
}

type Mode = Point['mode'];

/** Both servers run the same forward pass, with the same number of batches (or requests) in flight. */
function makeServer(m: Model, mode: Mode, queue: { maxQueue: number; onFull: 'reject' | 'wait' }): BatchScheduler {
  const run = m.async ?? (async (x: Tensor) => m.sync(x));
  const common = { maxConcurrentBatches: BATCHED.maxConcurrentBatches, ...queue };
  if (mode === 'single') return new BatchScheduler(run, { maxBatchSize: 1, maxDelayMs: 0, ...common, name: 'single' });
  return new BatchScheduler(run, { ...BATCHED, ...common, spinWaitMs: mode === 'batched+spin' ? 1 : 0, name: mode });
}

/** What one measurement segment of one mode produced. */
interface Segment {
  lat: Float64Array;
  rejected: number;
  arrivals: number;
  seconds: number;
  genSeconds: number;
  batches: number;
  rows: number;
  maxHeap: number;
  pending: number;
}

/** N clients, each submitting its next request as soon as the previous one returns, for `seconds`. */
async function closedLoop(f: Model, mode: Mode, clients: number, seconds: number): Promise<Segment> {
  const s = makeServer(f, mode, { maxQueue: Infinity, onFull: 'reject' });
  const lat: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let k = 0;
  const client = async (c: number) => {
    while (performance.now() < end) {
      const t = performance.now();
      await s.submit(INPUTS[(c * 7 + k++) & 255]);
      lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  const elapsed = (performance.now() - t0) / 1000;
  await s.close();
  const st = s.stats();
  const rows = Object.entries(st.batchSizes).reduce((a, [sz, n]) => a + Number(sz) * n, 0);
  return { lat: Float64Array.from(lat), rejected: 0, arrivals: lat.length, seconds: elapsed, genSeconds: elapsed, batches: st.batches, rows, maxHeap: 0, pending: 0 };
}

/** Poisson arrivals at `rate` per second for `seconds`; latency from each intended arrival time. */
async function openLoop(f: Model, mode: Mode, rate: number, seconds: number, seed: number, queue: { maxQueue: number; onFull: 'reject' | 'wait' }): Promise<Segment> {
  const s = makeServer(f, mode, queue);
  const u = rng(seed);
  const horizon = seconds * 1000;
  const arrivals: number[] = [];
  for (let t = -Math.log(1 - u()) / rate * 1000; t < horizon; t += (-Math.log(1 - u()) / rate) * 1000) arrivals.push(t);
  const lat = new Float64Array(arrivals.length);
  let nLat = 0;
  let rejected = 0;
  let settled = 0;
  let maxHeap = process.memoryUsage().heapUsed;
  const heapTimer = setInterval(() => (maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed)), 50);
  const t0 = performance.now();
  let i = 0;
  let lastSubmit = 0;
  let lastDone = 0;
  let resolveDone!: () => void;
  const allSettled = new Promise<void>((res) => (resolveDone = res));
  const onOk = (at: number) => () => {
    const now = performance.now() - t0;
    lat[nLat++] = now - at;
    lastDone = now;
    if (++settled === arrivals.length) resolveDone();
  };
  const onErr = () => {
    rejected++;
    if (++settled === arrivals.length) resolveDone();
  };
  if (arrivals.length === 0) resolveDone();
  // Arrivals are submitted like requests read from sockets: one callback each, with a microtask checkpoint
  // between callbacks (here every CHECKPOINT submits), so a batch cut by one arrival runs before later ones are
  // read. Every SLICE_MS the generator yields to the event loop so timers (maxDelayMs, timeouts) can fire.
  while (i < arrivals.length) {
    const sliceEnd = performance.now() + SLICE_MS;
    let n = 0;
    let now = performance.now();
    while (i < arrivals.length && arrivals[i] <= now - t0 && now < sliceEnd) {
      s.submit(INPUTS[i & 255]).then(onOk(arrivals[i]), onErr);
      i++;
      if (++n % CHECKPOINT === 0) await null;
      now = performance.now();
    }
    lastSubmit = now - t0;
    if (i >= arrivals.length) break;
    const wait = arrivals[i] - (performance.now() - t0);
    await new Promise((res) => (wait > 1.5 ? setTimeout(res, wait - 1) : setImmediate(res)));
  }
  await allSettled;
  clearInterval(heapTimer);
  maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
  const st = s.stats();
  await s.close();
  const rows = Object.entries(st.batchSizes).reduce((a, [sz, n]) => a + Number(sz) * n, 0);
  return {
    lat: lat.subarray(0, nLat),
    rejected,
    arrivals: arrivals.length,
    seconds: Math.max(lastDone, horizon) / 1000,
    genSeconds: Math.max(lastSubmit, 1) / 1000,
    batches: st.batches,
    rows,
    maxHeap,
    pending: arrivals.length - settled,
  };
}

/**
 * Measures several modes at one load point in SEGMENTS short segments, alternating the modes (ABBA...), so slow
 * drift and neighbours' bursts on a shared machine hit every mode alike; segments of a mode are merged.
 */
async function interleaved(modes: Mode[], run: (mode: Mode, seg: number) => Promise<Segment>): Promise<Map<Mode, Omit<Point, 'model' | 'mode' | 'load'>>> {
  const segs = new Map<Mode, Segment[]>(modes.map((m) => [m, []]));
  for (let k = 0; k < SEGMENTS; k++) for (const m of k % 2 ? [...modes].reverse() : modes) segs.get(m)!.push(await run(m, k));
  const out = new Map<Mode, Omit<Point, 'model' | 'mode' | 'load'>>();
  for (const [m, ss] of segs) {
    const sum = (f: (s: Segment) => number) => ss.reduce((a, s) => a + f(s), 0);
    const lat = new Float64Array(sum((s) => s.lat.length));
    let off = 0;
    for (const s of ss) {
      lat.set(s.lat, off);
      off += s.lat.length;
    }
    lat.sort();
    out.set(m, {
      throughputRps: lat.length / sum((s) => s.seconds),
      p50Ms: quantile(lat, 0.5),
      p99Ms: quantile(lat, 0.99),
      rejectedPct: (100 * sum((s) => s.rejected)) / Math.max(1, sum((s) => s.arrivals)),
      meanBatch: sum((s) => s.rows) / Math.max(1, sum((s) => s.batches)),
      achievedOfferedRps: sum((s) => s.arrivals) / sum((s) => s.genSeconds),
      maxHeapMB: Math.max(...ss.map((s) => s.maxHeap)) / 2 ** 20,
      pendingAfter: sum((s) => s.pending),
    });
  }
  return out;
}

// ---------- monitoring overhead ----------

/**
 * Per-call time with monitoring off and on: many short alternating blocks (off/on, then on/off), so drift and
 * neighbours' noise hit both sides alike; reports medians and the median of the paired differences.
 */
function monitorOverhead(label: string, a: Tensor, b: Tensor, reps: number, pairs: number) {
  const f = () => matmul(a, b);
  for (let i = 0; i < reps * 2; i++) f();
  const off: number[] = [];
  const on: number[] = [];
  const diff: number[] = [];
  for (let k = 0; k < pairs; k++) {
    const t: Record<string, number> = {};
    for (const m of k % 2 ? [true, false] : [false, true]) {
      setMonitoring(m);
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) f();
      t[String(m)] = ((performance.now() - t0) / reps) * 1000;
    }
    off.push(t.false);
    on.push(t.true);
    diff.push(t.true - t.false);
  }
  setMonitoring(false);
  const offUs = median(off);
  const addedUs = median(diff);
  // Noise of that median: 1.25 MAD / sqrt(pairs) (about one standard error for a normal spread).
  const mad = median(diff.map((d) => Math.abs(d - addedUs)));
  const noisePct = (100 * 1.25 * mad) / Math.sqrt(pairs) / offUs;
  return { op: label, offUs, onUs: median(on), addedUs, overheadPct: (100 * addedUs) / offUs, noisePct, pairs, reps };
}

// ---------- output ----------

function fmt(v: number | undefined, d = 2): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  return v.toFixed(d);
}

function table(points: Point[]): string {
  const head = ['model', 'mode', 'load', 'offered/s', 'thru/s', 'p50 ms', 'p99 ms', 'rej %', 'batch'];
  const rows = points.map((p) => [p.model, p.mode, p.load, fmt(p.achievedOfferedRps ?? p.offeredRps, 0), fmt(p.throughputRps, 0), fmt(p.p50Ms, 3), fmt(p.p99Ms, 3), fmt(p.rejectedPct, 1), fmt(p.meanBatch, 1)]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** A small hand-drawn SVG: throughput and p99 latency against offered load (open loop), and against clients. */
function svg(points: Point[]): string {
  const W = 420;
  const H = 300;
  const M = { l: 64, r: 12, t: 28, b: 44 };
  const colors: Record<string, string> = { single: '#d1495b', batched: '#00798c', 'batched+spin': '#edae49' };
  const panels: Array<{ title: string; xl: string; yl: string; pts: Point[]; x: (p: Point) => number; y: (p: Point) => number }> = [];
  const open = points.filter((p) => p.offeredRps && p.model === 'f32' && !p.load.startsWith('overload'));
  const closed = points.filter((p) => p.clients && p.model === 'f32');
  panels.push({ title: 'Throughput vs offered load (Poisson, f32)', xl: 'offered req/s', yl: 'completed req/s', pts: open, x: (p) => p.achievedOfferedRps ?? p.offeredRps!, y: (p) => p.throughputRps });
  panels.push({ title: 'p99 latency vs offered load (Poisson, f32)', xl: 'offered req/s', yl: 'p99 ms', pts: open, x: (p) => p.achievedOfferedRps ?? p.offeredRps!, y: (p) => p.p99Ms });
  panels.push({ title: 'Throughput vs closed-loop clients (f32)', xl: 'clients', yl: 'completed req/s', pts: closed, x: (p) => p.clients!, y: (p) => p.throughputRps });
  panels.push({ title: 'p99 latency vs closed-loop clients (f32)', xl: 'clients', yl: 'p99 ms', pts: closed, x: (p) => p.clients!, y: (p) => p.p99Ms });
  const parts: string[] = [];
  panels.forEach((pn, k) => {
    const ox = (k % 2) * W;
    const oy = Math.floor(k / 2) * H;
    const xs = pn.pts.map(pn.x).filter((v) => v > 0);
    const ys = pn.pts.map(pn.y).filter((v) => v > 0);
    if (!xs.length || !ys.length) return;
    const [x0, x1] = [Math.log10(Math.min(...xs)) - 0.05, Math.log10(Math.max(...xs)) + 0.05];
    const [y0, y1] = [Math.log10(Math.min(...ys)) - 0.1, Math.log10(Math.max(...ys)) + 0.1];
    const sx = (v: number) => ox + M.l + ((Math.log10(v) - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
    const sy = (v: number) => oy + H - M.b - ((Math.log10(v) - y0) / (y1 - y0 || 1)) * (H - M.t - M.b);
    parts.push(`<text x="${ox + W / 2}" y="${oy + 16}" text-anchor="middle" font-size="12" font-weight="bold">${pn.title}</text>`);
    parts.push(`<rect x="${ox + M.l}" y="${oy + M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#999"/>`);
    // Ticks at 1, 2, 5 × 10^e (log axes), labelled compactly.
    const ticks = (lo: number, hi: number) => {
      const out: number[] = [];
      for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) for (const m of [1, 2, 5]) if (Math.log10(m * 10 ** e) >= lo && Math.log10(m * 10 ** e) <= hi) out.push(m * 10 ** e);
      return out;
    };
    const lab = (v: number) => (v >= 1000 ? `${+(v / 1000).toPrecision(3)}k` : `${+v.toPrecision(3)}`);
    for (const v of ticks(x0, x1)) {
      const x = sx(v);
      parts.push(`<line x1="${x}" y1="${oy + H - M.b}" x2="${x}" y2="${oy + M.t}" stroke="#eee"/><text x="${x}" y="${oy + H - M.b + 14}" text-anchor="middle" font-size="10">${lab(v)}</text>`);
    }
    for (const v of ticks(y0, y1)) {
      const y = sy(v);
      parts.push(`<line x1="${ox + M.l}" y1="${y}" x2="${ox + W - M.r}" y2="${y}" stroke="#eee"/><text x="${ox + M.l - 4}" y="${y + 3}" text-anchor="end" font-size="10">${lab(v)}</text>`);
    }
    parts.push(`<text x="${ox + W / 2}" y="${oy + H - 8}" text-anchor="middle" font-size="10">${pn.xl} (log)</text>`);
    parts.push(`<text x="${ox + 12}" y="${oy + H / 2}" text-anchor="middle" font-size="10" transform="rotate(-90 ${ox + 12} ${oy + H / 2})">${pn.yl} (log)</text>`);
    let li = 0;
    for (const mode of ['single', 'batched', 'batched+spin']) {
      const ser = pn.pts.filter((p) => p.mode === mode && pn.x(p) > 0 && pn.y(p) > 0).sort((a, b) => pn.x(a) - pn.x(b));
      if (!ser.length) continue;
      parts.push(`<polyline fill="none" stroke="${colors[mode]}" stroke-width="2" points="${ser.map((p) => `${sx(pn.x(p)).toFixed(1)},${sy(pn.y(p)).toFixed(1)}`).join(' ')}"/>`);
      for (const p of ser) parts.push(`<circle cx="${sx(pn.x(p)).toFixed(1)}" cy="${sy(pn.y(p)).toFixed(1)}" r="3" fill="${colors[mode]}"/>`);
      parts.push(`<text x="${ox + M.l + 8}" y="${oy + M.t + 14 + 13 * li++}" font-size="10" fill="${colors[mode]}">${mode}</text>`);
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${2 * H}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}

// ---------- main ----------

async function main(): Promise<void> {
  const t00 = performance.now();
  const info = cpuInfo();
  const log = (s: string) => console.log(s);
  const setThreads = (lib as unknown as Record<string, unknown>).setNumThreads;
  let threads: number | string = `unset (no setNumThreads; SIMDTENSOR_NUM_THREADS=${process.env.SIMDTENSOR_NUM_THREADS ?? ''})`;
  try {
    if (typeof setThreads === 'function') threads = (setThreads as (n: number) => number)(THREADS);
  } catch (e) {
    threads = `unset (${(e as Error).message}: stale addon? run npm run build:native)`;
  }
  const load = os.loadavg()[0];
  log(`serve bench: ${info.brand} (${info.logicalCpus} CPUs, load average ${load.toFixed(1)}), kernel ${info.kernels['matmul.f32']}, intra-op threads ${threads}, ${FULL ? 'full' : 'default'} run`);
  log(`MLP ${LAYERS.join(' → ')}; batched: ${JSON.stringify(BATCHED)}; ${POINT_S} s per point and mode in ${SEGMENTS} interleaved segments`);

  const notes: string[] = [];
  const f32 = await checkAsync(mlp('f32', (w) => w));
  const models: Model[] = [f32];
  const i8 = mlpInt8(f32);
  if (typeof i8 === 'string') notes.push(`int8 skipped: ${i8}`);
  else models.push(await checkAsync(i8));
  for (const m of models) if (!m.async) notes.push(`${m.name}: runBatch computes on the JS thread (${m.asyncNote})`);

  const calib: Record<string, { t1Ms: number; tFullMs: number; c1: number; cB: number }> = {};
  for (const m of models) {
    const x1 = INPUTS[0];
    const xB = rand([BATCHED.maxBatchSize, LAYERS[0]], { seed: 5 });
    const t1Ms = timeCall(() => m.sync(x1), 200);
    const tFullMs = timeCall(() => m.sync(xB), 40);
    calib[m.name] = { t1Ms, tFullMs, c1: 1000 / t1Ms, cB: (1000 * BATCHED.maxBatchSize) / tFullMs };
    log(`${m.name}: one request ${fmt(t1Ms * 1000, 1)} µs; full batch of ${BATCHED.maxBatchSize} ${fmt(tFullMs * 1000, 1)} µs (${fmt((tFullMs * 1000) / BATCHED.maxBatchSize, 1)} µs/row); capacity C1 ${fmt(calib[m.name].c1, 0)}/s, CB ${fmt(calib[m.name].cB, 0)}/s (sync forward, medians of 7 rounds); served ${m.async ? 'with linearAsync (native threads)' : 'on the JS thread'}`);
  }

  const points: Point[] = [];
  const add = (p: Point) => {
    points.push(p);
    log(`  ${p.model} ${p.mode.padEnd(12)} ${p.load.padEnd(18)} thru ${fmt(p.throughputRps, 0).padStart(7)}/s  p50 ${fmt(p.p50Ms, 3)} ms  p99 ${fmt(p.p99Ms, 3)} ms${p.rejectedPct ? `  rejected ${fmt(p.rejectedPct, 1)}%` : ''}`);
  };

  const seg = POINT_S / SEGMENTS;
  for (const f of models) {
    const name = f.name;
    const clients = name === 'f32' ? CLIENTS : [1, SAT_CLIENTS];
    for (const n of clients) {
      const modes: Mode[] = n === 1 ? ['single', 'batched', 'batched+spin'] : ['single', 'batched'];
      const r = await interleaved(modes, (mode) => closedLoop(f, mode, n, seg));
      for (const mode of modes) {
        const { achievedOfferedRps: _a, maxHeapMB: _h, pendingAfter: _p, ...p } = r.get(mode)!;
        add({ model: name, mode, load: `closed ${n} client${n > 1 ? 's' : ''}`, clients: n, ...p });
      }
    }
    if (name !== 'f32') continue;
    const c = calib[name];
    for (const [label, base, frac] of RATES) {
      const rate = frac * (base === 'single' ? c.c1 : c.cB);
      const r = await interleaved(['single', 'batched'], (mode, k) => openLoop(f, mode, rate, seg, 17 + k, { maxQueue: SWEEP_QUEUE, onFull: 'reject' }));
      for (const [mode, p] of r) add({ model: name, mode, load: `poisson ${label}`, offeredRps: rate, ...p });
    }
    // 10x overload of the batched server; the queue holds one batch per slot, so an accepted request waits for at
    // most the batches in flight and its own.
    const rate = OVERLOAD * c.cB;
    const r = await interleaved(['batched'], (mode, k) => openLoop(f, mode, rate, seg, 23 + k, { maxQueue: OVERLOAD_QUEUE, onFull: 'reject' }));
    add({ model: name, mode: 'batched', load: `overload ${OVERLOAD}×CB`, offeredRps: rate, ...r.get('batched')! });
  }

  log('monitoring overhead (alternating off/on blocks, medians):');
  const big = monitorOverhead('matmul 64×1024×1024 f32', rand([64, 1024], { seed: 1 }), rand([1024, 1024], { seed: 2 }), 4, FULL ? 200 : 60);
  const tiny = monitorOverhead('matmul 4×4×4 f32', rand([4, 4], { seed: 3 }), rand([4, 4], { seed: 4 }), 2000, FULL ? 400 : 150);
  for (const o of [big, tiny])
    log(`  ${o.op}: off ${fmt(o.offUs, 3)} µs, on ${fmt(o.onUs, 3)} µs per call; median paired difference ${fmt(o.addedUs, 3)} µs (${fmt(o.overheadPct, 3)} % ± ${fmt(o.noisePct, 3)} %) over ${o.pairs} block pairs`);
  const derivedPct = (100 * tiny.addedUs) / big.offUs;
  log(`  the recorder's own cost per op (the tiny op's added time, ${fmt(tiny.addedUs, 3)} µs) is ${fmt(derivedPct, 4)} % of one 64×1024×1024 matmul`);

  // Targets.
  const f = calib.f32;
  const bound = BATCHED.maxDelayMs + 2 * f.tFullMs;
  const get = (mode: Mode, load: string) => points.find((p) => p.model === 'f32' && p.mode === mode && p.load === load);
  const sat = `closed ${SAT_CLIENTS} clients`;
  const satB = get('batched', sat);
  const satS = get('single', sat);
  const lowB = get('batched', 'closed 1 client');
  const lowSpin = get('batched+spin', 'closed 1 client');
  const lowS = get('single', 'closed 1 client');
  const over = get('batched', `overload ${OVERLOAD}×CB`);
  const targets = [
    { target: 'saturation throughput batched/single >= 6x', value: satB && satS ? satB.throughputRps / satS.throughputRps : NaN, ok: !!satB && !!satS && satB.throughputRps >= 6 * satS.throughputRps },
    { target: `saturation p99 <= maxDelayMs + 2 x full batch (${fmt(bound, 3)} ms)`, value: satB?.p99Ms ?? NaN, ok: !!satB && satB.p99Ms <= bound },
    { target: `low load p50 batched - single <= maxDelayMs + 0.05 ms (timer wait)`, value: lowB && lowS ? lowB.p50Ms - lowS.p50Ms : NaN, ok: !!lowB && !!lowS && lowB.p50Ms - lowS.p50Ms <= BATCHED.maxDelayMs + 0.05 },
    { target: `low load p50 batched - single <= maxDelayMs + 0.05 ms (spinWaitMs 1)`, value: lowSpin && lowS ? lowSpin.p50Ms - lowS.p50Ms : NaN, ok: !!lowSpin && !!lowS && lowSpin.p50Ms - lowS.p50Ms <= BATCHED.maxDelayMs + 0.05 },
    { target: `overload ${OVERLOAD}x: accepted p99 <= bound`, value: over?.p99Ms ?? NaN, ok: !!over && over.p99Ms <= bound },
    { target: `overload ${OVERLOAD}x: no promise left pending`, value: over?.pendingAfter ?? NaN, ok: over?.pendingAfter === 0 },
    { target: 'monitoring overhead <= 2 % on 64x1024x1024 matmul (direct A/B, noise-limited)', value: big.overheadPct, ok: big.overheadPct <= 2 },
    { target: 'monitoring overhead <= 2 % on 64x1024x1024 matmul (recorder cost per op / op time)', value: derivedPct, ok: derivedPct <= 2 },
  ];

  log('');
  log(table(points));
  log('');
  for (const t of targets) log(`${t.ok ? 'PASS' : 'MISS'}  ${t.target}: ${fmt(t.value, 3)}`);
  if (over) log(`overload: offered ${fmt(over.offeredRps, 0)}/s requested, ${fmt(over.achievedOfferedRps, 0)}/s generated (${fmt((over.achievedOfferedRps ?? 0) / f.cB, 1)}×CB); max heap ${fmt(over.maxHeapMB, 1)} MB`);
  for (const n of notes) log(`note: ${n}`);
  log(`load average ${load.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end (${info.logicalCpus} CPUs): figures from a loaded machine are noisy`);

  mkdirSync(OUT, { recursive: true });
  const report = {
    date: new Date().toISOString(),
    machine: { brand: info.brand, logicalCpus: info.logicalCpus, kernel: info.kernels['matmul.f32'], node: process.version, threads, loadAverageAtStart: load, loadAverageAtEnd: os.loadavg()[0] },
    config: { layers: LAYERS, batched: BATCHED, pointSeconds: POINT_S, segments: SEGMENTS, threads: THREADS, full: FULL },
    calibration: calib,
    points,
    monitoring: [big, tiny],
    targets,
    notes,
    seconds: (performance.now() - t00) / 1000,
  };
  writeFileSync(join(OUT, 'serve.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(OUT, 'serve.svg'), svg(points));
  log(`wrote ${join(OUT, 'serve.json')} and serve.svg in ${fmt(report.seconds, 1)} s`);
}

await main();

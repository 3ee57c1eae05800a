/**
 * Fresh outputs versus `{out}` in loops that never yield (issue #20 item 1): for f32, dynamic int8, f16 and bf16
 * `linear` at 256×1024×1024 and 1024×1024×1024, one thread, the rate of a call that returns a fresh output, of one
 * inside `scope()` and of one writing into a preallocated `{out}`, as a ratio to `{out}` measured in the same
 * process, with minor page faults per call and the RSS reached. A fourth mode, `rotate`, writes `{out}` into one of
 * {@link ROTATE_BYTES} of preallocated plain outputs in turn: cold output memory as a fresh output has it (a loop that
 * never yields recycles memory only at V8's GCs, tens of MiB apart) without allocating or collecting anything, so
 * fresh − rotate is the cost of allocation and GC, rotate − out that of writing memory that is not in cache. Samples of each mode are interleaved (rotated order)
 * and the whole trial runs without yielding to the event loop, so pooled outputs never come back through their
 * finalizers: the steady state of a synchronous hot loop (the warm-up runs past the process's one-time first fill: the heap's until V8's first GC, or the pool's).
 *
 * Each configuration runs in its own process (the allocator settings are per process):
 *   default     the library's defaults
 *   nomalloc    SIMDTENSOR_MALLOC=default: glibc's own trim/mmap thresholds (the addon leaves them alone)
 *   nopool      SIMDTENSOR_POOL_MB=0: no output pool, every large output a plain ArrayBuffer
 *
 * Each sample is timed in wall time and in process CPU time (every thread: V8's GC helpers included); `--cpu` makes
 * the ratios CPU-time ratios (for a shared machine). A `v8.GCProfiler` around each sample counts the scavenges and
 * mark-compacts it ran and their duration, per mode.
 *
 * Standalone: `npm run build:ts && node dist/bench/fresh.js [--configs default,nomalloc] [--rounds 7] [--cpu] [--json f]`.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { GCProfiler } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { cpuMs, stats } from './measure.js';

type St = typeof import('../src/index.js');

/** One trial, as data. */
export interface FreshTrial {
  id: string;
  dtype: 'float32' | 'int8-dynamic' | 'float16' | 'bfloat16';
  m: number;
  k: number;
  n: number;
}

const SHAPES: Array<[number, number, number]> = [
  [256, 1024, 1024],
  [1024, 1024, 1024],
];
/** Every dtype at both shapes. */
export const trials: FreshTrial[] = (['float32', 'int8-dynamic', 'float16', 'bfloat16'] as const).flatMap((dtype) =>
  SHAPES.map(([m, k, n]) => ({ id: `${dtype}/${m}x${k}x${n}`, dtype, m, k, n })),
);

/** The ways an output is obtained. */
export const MODES = ['out', 'fresh', 'scope', 'rotate'] as const;
/** The `rotate` mode's outputs, all told: more than the last-level cache of the machines measured (docs/memory.md). */
export const ROTATE_BYTES = 128 << 20;
type Mode = (typeof MODES)[number];

/** Per-configuration environment (see the module comment). */
export const CONFIGS: Record<string, Record<string, string>> = {
  default: {},
  nomalloc: { SIMDTENSOR_MALLOC: 'default' },
  nopool: { SIMDTENSOR_POOL_MB: '0' },
};

/** What one trial measured in one configuration. */
export interface FreshResult {
  config: string;
  trial: string;
  /** Median ms per call of each mode (wall time). */
  ms: Record<Mode, number>;
  /** Median process CPU ms per call of each mode (every thread). */
  cpuMs: Record<Mode, number>;
  /** What the ratios were taken of. */
  clock: 'wall' | 'cpu';
  /** Median rate (GFLOP/s or GOP/s) of each mode. */
  rate: Record<Mode, number>;
  /** Rate of each mode / rate of `out` (medians of the per-round ratios). */
  ratio: Record<Mode, number>;
  /** Minor page faults per call of each mode (over all timed calls). */
  faults: Record<Mode, number>;
  /** Garbage collections during each mode's timed calls: counts, and ms of GC pause per call (`v8.GCProfiler`). */
  gc: Record<Mode, { scavenges: number; markCompacts: number; msPerCall: number }>;
  /** RSS after the trial, MiB. */
  rssMiB: number;
  /** Output-buffer pool counters after the trial (`declined`: during it). */
  pool: ReturnType<St['bufferPoolStats']>;
}

function setup(st: St, t: FreshTrial): (opts: { out?: unknown }) => unknown {
  const x32 = st.rand([t.m, t.k], { seed: 1, low: -1, high: 1 });
  const w32 = st.rand([t.n, t.k], { seed: 2, low: -1, high: 1 });
  if (t.dtype === 'float32') {
    const w = st.packWeights(w32);
    return (o) => st.linear(x32, w, null, o as never);
  }
  if (t.dtype === 'int8-dynamic') {
    const w = st.packWeights(st.quantize(w32) as never);
    return (o) => st.linear(x32, w as never, null, o as never);
  }
  const x = x32.to(t.dtype);
  const w = st.packWeights(w32.to(t.dtype));
  return (o) => st.linear(x, w, null, o as never);
}

/** Runs one trial in this process: `rounds` rounds of each mode, `calls` calls a sample, never yielding. */
export function runTrial(st: St, t: FreshTrial, rounds: number, config: string, clock: 'wall' | 'cpu' = 'wall'): FreshResult {
  const call = setup(st, t);
  const declined0 = st.bufferPoolStats().declined;
  const out = call({}) as { data: ArrayBufferView };
  const ops = 2 * t.m * t.k * t.n;
  // Warm up every mode once, then size a sample to ~150 ms of `out` calls.
  let t0 = performance.now();
  call({ out });
  const perCall = Math.max(0.05, performance.now() - t0);
  const calls = Math.max(4, Math.min(200, Math.round(150 / perCall)));
  // Plain arrays, not pool blocks: the pool's state stays what `fresh` and `scope` make it.
  const outBytes = (out.data as ArrayBufferView).byteLength;
  const Ctor = out.data.constructor as new (n: number) => ArrayBufferView;
  const shape = (out as unknown as { shape: number[] }).shape;
  const dtype = (out as unknown as { dtype: string }).dtype;
  const ring = Array.from({ length: Math.ceil(ROTATE_BYTES / outBytes) }, () => {
    const a = new Ctor((out.data as unknown as { length: number }).length) as unknown as Uint8Array;
    a.fill(1); // mapped now: the timed rounds measure cold caches, not first-touch page faults
    return st.tensor(a as never, shape, dtype as never);
  });
  let turn = 0;
  const run: Record<Mode, () => void> = {
    out: () => void call({ out }),
    fresh: () => void call({}),
    scope: () => st.scope(() => void call({})),
    rotate: () => void call({ out: ring[turn++ % ring.length] }),
  };
  // Steady state: a fresh loop first maps the pool's blocks (up to its limit), a one-time cost per process that a
  // later loop does not pay again (the blocks come back when it yields); warm up past it.
  const fill = Math.ceil(st.bufferPoolStats().limitBytes / outBytes) + 2;
  // Then plain outputs: the allocator's heap grows to its high-water mark (live + what dies between two GCs) before
  // it recycles; warm up in windows of `fill` calls until one averages under 8 faults a call (at most 8 windows).
  for (const m of MODES) for (let i = 0; i < 2; i++) run[m]();
  for (let wdw = 0; wdw < 8; wdw++) {
    const pf0 = process.resourceUsage().minorPageFault;
    for (let i = 0; i < fill; i++) run.fresh();
    if ((process.resourceUsage().minorPageFault - pf0) / fill < 8) break;
  }
  const samples = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  const cpuSamples = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  const gc = Object.fromEntries(MODES.map((m) => [m, { scavenges: 0, markCompacts: 0, msPerCall: 0 }])) as FreshResult['gc'];
  const ratios = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  const faults = Object.fromEntries(MODES.map((m) => [m, 0])) as Record<Mode, number>;
  for (let r = 0; r < rounds; r++) {
    const got = {} as Record<Mode, number>;
    for (let j = 0; j < MODES.length; j++) {
      const mode = MODES[(r + j) % MODES.length];
      const f = run[mode];
      const pf0 = process.resourceUsage().minorPageFault;
      const prof = new GCProfiler();
      prof.start();
      const c0 = process.cpuUsage();
      t0 = performance.now();
      for (let i = 0; i < calls; i++) f();
      const wall = (performance.now() - t0) / calls;
      const cpu = cpuMs(process.cpuUsage(c0)) / calls;
      for (const e of prof.stop().statistics) {
        if (e.gcType === 'Scavenge' || e.gcType === 'MinorMarkCompact') gc[mode].scavenges++;
        else gc[mode].markCompacts++;
        gc[mode].msPerCall += e.cost / 1000;
      }
      got[mode] = clock === 'cpu' ? cpu : wall;
      faults[mode] += process.resourceUsage().minorPageFault - pf0;
      samples[mode].push(wall);
      cpuSamples[mode].push(cpu);
    }
    for (const m of MODES) ratios[m].push(got.out / got[m]);
  }
  const med = (xs: number[]) => stats(xs).median;
  const rec = <T>(f: (m: Mode) => T) => Object.fromEntries(MODES.map((m) => [m, f(m)])) as Record<Mode, T>;
  return {
    config,
    trial: t.id,
    ms: rec((m) => +med(samples[m]).toFixed(3)),
    cpuMs: rec((m) => +med(cpuSamples[m]).toFixed(3)),
    clock,
    rate: rec((m) => +(ops / med(clock === 'cpu' ? cpuSamples[m] : samples[m]) / 1e6).toFixed(1)),
    ratio: rec((m) => +med(ratios[m]).toFixed(3)),
    faults: rec((m) => +(faults[m] / (rounds * calls)).toFixed(1)),
    gc: rec((m) => ({ ...gc[m], msPerCall: +(gc[m].msPerCall / (rounds * calls)).toFixed(3) })),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    pool: { ...st.bufferPoolStats(), declined: st.bufferPoolStats().declined - declined0 },
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function child(config: string, filter: string | undefined, rounds: number, clock: 'wall' | 'cpu'): Promise<void> {
  const st = (await import('../src/index.js')) as St;
  st.setNumThreads(1);
  for (const t of trials) {
    if (filter && !t.id.includes(filter)) continue;
    const r = runTrial(st, t, rounds, config, clock);
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    await new Promise((res) => setImmediate(res)); // between trials only: the pool refills as a real program's would
  }
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds') ?? 7);
  const filter = arg('filter');
  const clock = process.argv.includes('--cpu') ? 'cpu' : 'wall';
  const config = arg('child');
  if (config) return child(config, filter, rounds, clock);
  const configs = (arg('configs') ?? Object.keys(CONFIGS).join(',')).split(',');
  const results: FreshResult[] = [];
  const load0 = loadavg()[0];
  const self = fileURLToPath(import.meta.url);
  for (const c of configs) {
    if (!CONFIGS[c]) throw new Error(`unknown config ${c}; known: ${Object.keys(CONFIGS).join(', ')}`);
    const args = [self, '--child', c, '--rounds', String(rounds), ...(filter ? ['--filter', filter] : []), ...(clock === 'cpu' ? ['--cpu'] : [])];
    const p = spawnSync(process.execPath, args, { env: { ...process.env, ...CONFIGS[c] }, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (p.status !== 0) throw new Error(`config ${c} failed (${p.status}):\n${p.stderr}`);
    for (const line of p.stdout.split('\n')) if (line.startsWith('RESULT ')) results.push(JSON.parse(line.slice(7)) as FreshResult);
  }
  const load1 = loadavg()[0];
  console.log(`fresh outputs vs {out}, one thread, loops that never yield; medians of ${rounds} interleaved rounds, ${clock} time; load ${load0.toFixed(1)} -> ${load1.toFixed(1)}`);
  console.log('config    trial                          out rate  fresh/out  scope/out  rotate/out  faults/call (out fresh scope rotate)  RSS MiB  pool declined  fresh GCs: scav/MC, ms/call');
  for (const r of results)
    console.log(
      `${r.config.padEnd(9)} ${r.trial.padEnd(30)} ${String(r.rate.out).padStart(8)}  ${r.ratio.fresh.toFixed(2).padStart(9)}  ${r.ratio.scope.toFixed(2).padStart(9)}  ${r.ratio.rotate.toFixed(2).padStart(10)}  ` +
        `${`${r.faults.out} ${r.faults.fresh} ${r.faults.scope} ${r.faults.rotate}`.padStart(36)}  ${String(r.rssMiB).padStart(7)}  ${String(r.pool.declined).padStart(13)}  ` +
        `${r.gc.fresh.scavenges}/${r.gc.fresh.markCompacts}, ${r.gc.fresh.msPerCall}`,
    );
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify({ load: [load0, load1], rounds, clock, results }, null, 1));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();

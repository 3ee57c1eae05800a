/**
 * Fresh outputs versus `{out}` in loops that never yield (issue #20 item 1): for f32, dynamic int8, f16 and bf16
 * `linear` at 256×1024×1024 and 1024×1024×1024, one thread, the rate of a call that returns a fresh output, of one
 * inside `scope()` and of one writing into a preallocated `{out}`, as a ratio to `{out}` measured in the same
 * process, with minor page faults per call and the RSS reached. Samples of each mode are interleaved (rotated order)
 * and the whole trial runs without yielding to the event loop, so pooled outputs never come back through their
 * finalizers: the steady state of a synchronous hot loop (the warm-up runs past the pool's one-time first fill).
 *
 * Each configuration runs in its own process (the allocator settings are per process):
 *   default     the library's defaults
 *   nomalloc    SIMDTENSOR_MALLOC=default: glibc's own trim/mmap thresholds (the addon leaves them alone)
 *   nopool      SIMDTENSOR_POOL_MB=0: no output pool, every large output a plain ArrayBuffer
 *
 * Standalone: `npm run build:ts && node dist/bench/fresh.js [--configs default,nomalloc] [--rounds 7] [--json f]`.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { stats } from './measure.js';

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
export const MODES = ['out', 'fresh', 'scope'] as const;
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
  /** Median ms per call of each mode. */
  ms: Record<Mode, number>;
  /** Median rate (GFLOP/s or GOP/s) of each mode. */
  rate: Record<Mode, number>;
  /** Rate of each mode / rate of `out` (medians of the per-round ratios). */
  ratio: Record<Mode, number>;
  /** Minor page faults per call of each mode (over all timed calls). */
  faults: Record<Mode, number>;
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
export function runTrial(st: St, t: FreshTrial, rounds: number, config: string): FreshResult {
  const call = setup(st, t);
  const declined0 = st.bufferPoolStats().declined;
  const out = call({}) as { data: ArrayBufferView };
  const ops = 2 * t.m * t.k * t.n;
  // Warm up every mode once, then size a sample to ~150 ms of `out` calls.
  let t0 = performance.now();
  call({ out });
  const perCall = Math.max(0.05, performance.now() - t0);
  const calls = Math.max(4, Math.min(200, Math.round(150 / perCall)));
  const run: Record<Mode, () => void> = {
    out: () => void call({ out }),
    fresh: () => void call({}),
    scope: () => st.scope(() => void call({})),
  };
  // Steady state: a fresh loop first maps the pool's blocks (up to its limit), a one-time cost per process that a
  // later loop does not pay again (the blocks come back when it yields); warm up past it.
  const outBytes = (out.data as ArrayBufferView).byteLength;
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
  const ratios = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  const faults = Object.fromEntries(MODES.map((m) => [m, 0])) as Record<Mode, number>;
  for (let r = 0; r < rounds; r++) {
    const got = {} as Record<Mode, number>;
    for (let j = 0; j < MODES.length; j++) {
      const mode = MODES[(r + j) % MODES.length];
      const f = run[mode];
      const pf0 = process.resourceUsage().minorPageFault;
      t0 = performance.now();
      for (let i = 0; i < calls; i++) f();
      got[mode] = (performance.now() - t0) / calls;
      faults[mode] += process.resourceUsage().minorPageFault - pf0;
      samples[mode].push(got[mode]);
    }
    for (const m of MODES) ratios[m].push(got.out / got[m]);
  }
  const med = (xs: number[]) => stats(xs).median;
  const rec = <T>(f: (m: Mode) => T) => Object.fromEntries(MODES.map((m) => [m, f(m)])) as Record<Mode, T>;
  return {
    config,
    trial: t.id,
    ms: rec((m) => +med(samples[m]).toFixed(3)),
    rate: rec((m) => +(ops / med(samples[m]) / 1e6).toFixed(1)),
    ratio: rec((m) => +med(ratios[m]).toFixed(3)),
    faults: rec((m) => +(faults[m] / (rounds * calls)).toFixed(1)),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    pool: { ...st.bufferPoolStats(), declined: st.bufferPoolStats().declined - declined0 },
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function child(config: string, filter: string | undefined, rounds: number): Promise<void> {
  const st = (await import('../src/index.js')) as St;
  st.setNumThreads(1);
  for (const t of trials) {
    if (filter && !t.id.includes(filter)) continue;
    const r = runTrial(st, t, rounds, config);
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    await new Promise((res) => setImmediate(res)); // between trials only: the pool refills as a real program's would
  }
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds') ?? 7);
  const filter = arg('filter');
  const config = arg('child');
  if (config) return child(config, filter, rounds);
  const configs = (arg('configs') ?? Object.keys(CONFIGS).join(',')).split(',');
  const results: FreshResult[] = [];
  const load0 = loadavg()[0];
  const self = fileURLToPath(import.meta.url);
  for (const c of configs) {
    if (!CONFIGS[c]) throw new Error(`unknown config ${c}; known: ${Object.keys(CONFIGS).join(', ')}`);
    const args = [self, '--child', c, '--rounds', String(rounds), ...(filter ? ['--filter', filter] : [])];
    const p = spawnSync(process.execPath, args, { env: { ...process.env, ...CONFIGS[c] }, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (p.status !== 0) throw new Error(`config ${c} failed (${p.status}):\n${p.stderr}`);
    for (const line of p.stdout.split('\n')) if (line.startsWith('RESULT ')) results.push(JSON.parse(line.slice(7)) as FreshResult);
  }
  const load1 = loadavg()[0];
  console.log(`fresh outputs vs {out}, one thread, loops that never yield; medians of ${rounds} interleaved rounds; load ${load0.toFixed(1)} -> ${load1.toFixed(1)}`);
  console.log('config    trial                          out rate  fresh/out  scope/out  faults/call (out fresh scope)  RSS MiB  pool declined');
  for (const r of results)
    console.log(
      `${r.config.padEnd(9)} ${r.trial.padEnd(30)} ${String(r.rate.out).padStart(8)}  ${r.ratio.fresh.toFixed(2).padStart(9)}  ${r.ratio.scope.toFixed(2).padStart(9)}  ` +
        `${`${r.faults.out} ${r.faults.fresh} ${r.faults.scope}`.padStart(29)}  ${String(r.rssMiB).padStart(7)}  ${r.pool.declined}`,
    );
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify({ load: [load0, load1], rounds, results }, null, 1));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
